"""Which herald database a command uses, run from a folder as an operator would: never a new empty one by surprise.

Only `herald db upgrade` and the demo make herald's database; every other command on a missing
SQLite file says so in one line and creates nothing, and a database that is not this folder's
var/herald.sqlite is named on stderr.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERALD = [sys.executable, "-m", "herald"]


def herald(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HERALD, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def env() -> dict[str, str]:
    """The environment of someone who set nothing: herald's defaults, relative to the current folder."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    return clean | {"COLUMNS": "100"}


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


@pytest.mark.parametrize(
    "command",
    [
        ("campaigns", "list"),
        ("users", "list"),
        ("jobs", "runs"),
        ("worker", "--duration", "1"),
        ("serve", "--port", "<free>"),
    ],
    ids=lambda c: c[0],
)
def test_a_command_in_a_folder_without_herald_s_database_says_so_and_creates_nothing(
    tmp_path: Path, env: dict[str, str], command: tuple[str, ...]
) -> None:
    args = [free_port() if a == "<free>" else a for a in command]
    done = herald(tmp_path, env, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    expected = (
        f"No herald database at {tmp_path / 'var' / 'herald.sqlite'}; run `herald db upgrade` to create it, "
        "or set HERALD_DATABASE_URL."
    )
    assert expected in done.stderr
    assert list(tmp_path.iterdir()) == []  # no var/, no herald.sqlite, nothing


def test_db_upgrade_creates_it_says_where_and_the_commands_then_use_it_quietly(
    tmp_path: Path, env: dict[str, str]
) -> None:
    made = herald(tmp_path, env, "db", "upgrade")
    assert made.returncode == 0, made.stderr
    assert f"herald's database {tmp_path / 'var' / 'herald.sqlite'} is at revision" in made.stdout
    listed = herald(tmp_path, env, "campaigns", "list")
    assert listed.returncode == 0, listed.stderr
    assert "herald's database" not in listed.stderr  # this folder's var/herald.sqlite: the obvious one


def test_a_database_named_by_the_environment_is_said_on_every_command(tmp_path: Path, env: dict[str, str]) -> None:
    elsewhere = tmp_path / "srv" / "herald" / "prod.sqlite"
    named = env | {"HERALD_DATABASE_URL": f"sqlite:///{elsewhere}"}
    missing = herald(tmp_path, named, "campaigns", "list")
    assert missing.returncode == 1 and f"No herald database at {elsewhere};" in missing.stderr
    assert not elsewhere.parent.exists()

    assert herald(tmp_path, named, "db", "upgrade").returncode == 0
    listed = herald(tmp_path, named, "campaigns", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"herald's database: {elsewhere} (HERALD_DATABASE_URL)." in listed.stderr
    assert "herald's database" not in listed.stdout  # machine-read output stays clean

    home = env | {"HERALD_HOME": str(tmp_path / "srv" / "herald")}
    assert herald(tmp_path, home, "db", "upgrade").returncode == 0
    runs = herald(tmp_path, home, "jobs", "runs")
    assert runs.returncode == 0, runs.stderr
    assert f"herald's database: {tmp_path / 'srv' / 'herald' / 'herald.sqlite'} (HERALD_HOME)." in runs.stderr


def test_a_postgresql_herald_database_is_named_without_its_password(tmp_path: Path, env: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://herald:pg-s3cret@127.0.0.1:{port}/herald"
    done = herald(tmp_path, env | {"HERALD_DATABASE_URL": url}, "campaigns", "list")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"postgresql+psycopg://herald:***@127.0.0.1:{port}/herald" in done.stderr
    assert "pg-s3cret" not in done.stderr
