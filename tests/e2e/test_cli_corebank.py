"""A core bank herald cannot reach or read, met from the command line: one line saying what and how to fix it.

Each kind of failure is made for real: a SQLite path with no file, a closed port where PostgreSQL
or MySQL/MariaDB should answer, a role and a database the PostgreSQL server does not have, a
database without Fineract's tables. And herald never creates a file where the core bank should be.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.xdist_group("cli-corebank")  # one worker makes the module's `installed` herald

HERALD = [sys.executable, "-m", "herald"]


def herald(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HERALD, *args], env=env, capture_output=True, text=True, timeout=timeout)


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a refused command (exit 1, no traceback, nothing else on stderr but the database)."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "sqlalche.me" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """herald's database with a campaign on a demo core bank, made once; the tests only point elsewhere."""
    home = tmp_path_factory.mktemp("installed") / "var"
    env = _env(home, "")
    done = herald(env, "demo", "init", "--clients", "30")
    assert done.returncode == 0, done.stderr
    created = herald(
        env, "campaigns", "create", "--name", "Hello", "--rule", "166", "-p", "officeId=1", "--message", "Hi"
    )
    assert created.returncode == 0, created.stderr
    yield home


def _env(home: Path, corebank_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "HERALD_HOME": str(home),
        "HERALD_DATABASE_URL": "",
        "HERALD_COREBANK_URL": corebank_url,
        "HERALD_MATERIALIZE_INTERVAL": "0.2",
        "COLUMNS": "100",  # narrower than the sentences: "one line" must not depend on a wide terminal
    }


COMMANDS = [
    ("campaigns", "preview", "Hello"),
    ("campaigns", "create", "--name", "Again", "--rule", "166", "-p", "officeId=1", "--message", "Hi"),
    ("offices", "list"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_missing_sqlite_core_bank_is_one_line_and_no_file_appears(
    installed: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "nowhere" / "fineract.sqlite"
    line = refused(herald(_env(installed, f"sqlite:///{missing}"), *command))
    assert f"No core-banking database at {missing}" in line
    assert "Set HERALD_COREBANK_URL to your Fineract database." in line  # not the demo's file: no demo advice
    assert not missing.exists() and not missing.parent.exists()


def test_without_herald_corebank_url_and_no_demo_yet_the_line_offers_the_demo(tmp_path: Path) -> None:
    env = _env(tmp_path / "var", "")
    assert herald(env, "db", "upgrade").returncode == 0
    line = refused(herald(env, *COMMANDS[1]))
    demo = tmp_path / "var" / "fineract-demo.sqlite"
    assert f"No core-banking database at {demo}" in line and "or make the demo one with `herald demo init`" in line
    assert not demo.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "mysql+pymysql"])
def test_an_unreachable_database_server_is_one_line_naming_it_without_its_password(
    installed: Path, scheme: str, command: tuple[str, ...]
) -> None:
    port = closed_port()
    line = refused(herald(_env(installed, f"{scheme}://fineract:s3cret-pw@127.0.0.1:{port}/fineract"), *command))
    assert f"Cannot reach the core-banking database {scheme}://fineract:***@127.0.0.1:{port}/fineract" in line
    assert "Connection refused" in line and "HERALD_COREBANK_URL" in line
    assert "s3cret-pw" not in line


def test_a_database_without_fineract_s_tables_is_one_line(installed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    shutil.copy(installed / "herald.sqlite", other)  # a real SQLite database, but herald's, not Fineract's
    for command in COMMANDS:
        line = refused(herald(_env(installed, f"sqlite:///{other}"), *command))
        assert "has no table m_office" in line and "pointing at a Fineract database" in line


@pytest.mark.postgres
def test_a_postgresql_role_or_database_that_is_not_there_and_one_without_fineract_s_tables(
    installed: Path, pg_server: str, pg_url: str
) -> None:
    server = make_url(pg_server)
    nobody = server.set(username="nobody", database="postgres").render_as_string(hide_password=False)
    line = refused(herald(_env(installed, nobody), "campaigns", "preview", "Hello"))
    assert "refused herald's login" in line and 'role "nobody" does not exist' in line
    assert "Check the user name and password in HERALD_COREBANK_URL" in line

    absent = server.set(database="no_such_fineract").render_as_string(hide_password=False)
    line = refused(herald(_env(installed, absent), "campaigns", "preview", "Hello"))
    assert "does not exist on its server" in line and "Check the database name" in line

    line = refused(herald(_env(installed, pg_url), "campaigns", "preview", "Hello"))  # an empty database
    assert "has no table m_office" in line


def test_demo_init_on_an_unreachable_server_is_one_line(installed: Path) -> None:
    port = closed_port()
    line = refused(herald(_env(installed, f"postgresql+psycopg://demo:pw@127.0.0.1:{port}/demo"), "demo", "init"))
    assert "Cannot reach the core-banking database" in line and "Connection refused" in line


def test_demo_init_refuses_herald_s_own_database_as_its_core_bank(installed: Path) -> None:
    before = (installed / "herald.sqlite").stat().st_size
    line = refused(herald(_env(installed, f"sqlite:///{installed / 'herald.sqlite'}"), "demo", "init"))
    assert "points at herald's own database" in line
    assert herald(_env(installed, ""), "campaigns", "show", "Hello").returncode == 0  # nothing was wiped
    assert (installed / "herald.sqlite").stat().st_size >= before


def test_a_worker_on_a_broken_core_bank_logs_one_line_not_a_traceback_every_pass(
    installed: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.sqlite"
    # 3 s at a 0.2 s materialize interval: about fifteen passes meet the missing core bank.
    done = herald(_env(installed, f"sqlite:///{missing}"), "worker", "--duration", "3", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    broken = [line for line in done.stderr.splitlines() if "cannot be read" in line]
    assert len(broken) == 1, done.stderr
    assert "tenant default" in broken[0] and "Update SMS Outbound with Campaign Message" in broken[0]
    assert f"No core-banking database at {missing}" in broken[0]
    assert not missing.exists()

    # The same worker on the real core bank again: the outage ends, said once.
    recovered = herald(_env(installed, ""), "worker", "--duration", "1", timeout=60)
    assert recovered.returncode == 0, recovered.stderr
    again = [line for line in recovered.stderr.splitlines() if "can be read again" in line]
    assert len(again) == 1 and "tenant default" in again[0], recovered.stderr
    assert re.search(r"could not since \d{4}-\d\d-\d\dT", again[0])
