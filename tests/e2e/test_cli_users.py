"""`herald users` as an operator runs it: passwords never on the command line, a token printed once and usable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from herald.app import Herald
from herald.config import Settings
from herald.services.auth.tokens import user_for_token

HERALD = [sys.executable, "-m", "herald"]
PASSWORD = "a long enough password"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh installation: herald's database made the documented way, `herald db upgrade`, and nothing else."""
    environment = {
        **os.environ,
        "HERALD_HOME": str(tmp_path / "var"),
        "HERALD_DATABASE_URL": "",
        "HERALD_COREBANK_URL": "",
        "COLUMNS": "200",
        "ADMIN_PASSWORD": PASSWORD,
    }
    upgraded = run(environment, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    return environment


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HERALD, *args], env=env, capture_output=True, text=True, timeout=120, input=stdin)


def test_an_operator_creates_users_and_a_token_that_works_until_the_user_is_disabled(
    env: dict[str, str], tmp_path: Path
) -> None:
    created = run(env, "users", "create", "amina", "--role", "admin", "--password-env", "ADMIN_PASSWORD")
    assert created.returncode == 0, created.stderr
    prompted = run(env, "users", "create", "baraka", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.returncode == 0, prompted.stderr
    listed = run(env, "users", "list")
    assert "amina" in listed.stdout and "admin" in listed.stdout and "viewer" in listed.stdout
    issued = run(env, "users", "token", "baraka", "--name", "nightly export")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("hrd_") and "\n" not in token
    for output in (created, prompted, listed, issued):
        assert PASSWORD not in output.stdout + output.stderr
    herald = Herald.build(Settings(home=tmp_path / "var"))
    try:
        found = user_for_token(token, store=herald.store, clock=herald.clock)
        assert found is not None and found.username == "baraka"
        assert run(env, "users", "disable", "baraka").returncode == 0
        assert user_for_token(token, store=herald.store, clock=herald.clock) is None
    finally:
        herald.close()


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (("users", "create", "c", "--role", "boss", "--password-env", "ADMIN_PASSWORD"), None, "Unknown role"),
        (("users", "create", "c", "--role", "viewer", "--password-env", "NOT_SET"), None, "NOT_SET"),
        (("users", "create", "c", "--role", "viewer"), "short\nshort\n", "at least 10 characters"),
        (("users", "token", "nobody", "--name", "x"), None, "No user 'nobody'"),
        (("users", "disable", "nobody"), None, "No user 'nobody'"),
    ],
)
def test_a_refused_users_command_says_why_without_a_stack_trace(
    env: dict[str, str], args: tuple[str, ...], stdin: str | None, says: str
) -> None:
    done = run(env, *args, stdin=stdin)
    assert done.returncode == 1, done.stdout + done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr


def test_there_is_no_password_option_to_leak_into_shell_history(env: dict[str, str]) -> None:
    done = run(env, "users", "create", "c", "--role", "viewer", "--password", PASSWORD)
    assert done.returncode == 2 and "No such option" in done.stderr
