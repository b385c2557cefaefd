"""`herald users password` as an operator runs it: the new password prompted or read from the environment, the
user's sessions ended, a readable refusal for a bad name or password, and the change in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.config import Settings
from herald.services import auth
from herald.store.tables import audit_log
from tests.e2e.test_cli_users import PASSWORD, env, run  # noqa: F401 - env is the shared fixture

NEW = "another long passphrase"


def test_an_operator_resets_a_password_and_the_users_sessions_end(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    assert run(env, "users", "create", "amina", "--role", "admin", "--password-env", "ADMIN_PASSWORD").returncode == 0
    herald = Herald.build(Settings(home=tmp_path / "var"))
    try:
        session_id = auth.login("amina", PASSWORD, store=herald.store, clock=herald.clock)
        token = auth.issue_token("amina", "script", store=herald.store, clock=herald.clock).token
        prompted = run(env, "users", "password", "amina", stdin=f"{NEW}\n{NEW}\n")
        assert prompted.returncode == 0, prompted.stderr
        assert "1 session ended" in prompted.stdout and NEW not in prompted.stdout + prompted.stderr
        assert auth.sessions.find_session(session_id, store=herald.store, clock=herald.clock) is None
        assert (
            auth.tokens.user_for_token(token, store=herald.store, clock=herald.clock) is not None
        )  # tokens stay (README, users)
        with pytest.raises(auth.AuthenticationError):
            auth.login("amina", PASSWORD, store=herald.store, clock=herald.clock)
        assert auth.login("amina", NEW, store=herald.store, clock=herald.clock)
        from_env = run(env | {"NEW_PASSWORD": PASSWORD}, "users", "password", "amina", "--password-env", "NEW_PASSWORD")
        assert from_env.returncode == 0, from_env.stderr
        assert auth.login("amina", PASSWORD, store=herald.store, clock=herald.clock)
        with herald.store.connect() as conn:
            rows = conn.execute(select(audit_log).where(audit_log.c.action == "user.password")).all()
        assert [(r.via, r.target) for r in rows] == [("cli", "amina"), ("cli", "amina")]
    finally:
        herald.close()


def test_a_refused_password_change_says_why_and_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    assert run(env, "users", "create", "amina", "--role", "admin", "--password-env", "ADMIN_PASSWORD").returncode == 0
    for args, stdin, says in [
        (("users", "password", "nobody"), None, "No user 'nobody'"),
        (("users", "password", "amina"), "short\nshort\n", "at least 10 characters"),
        (("users", "password", "amina", "--password-env", "NOT_SET"), None, "NOT_SET"),
    ]:
        done = run(env, *args, stdin=stdin)
        assert done.returncode == 1, done.stdout + done.stderr
        assert says in done.stderr and "Traceback" not in done.stderr
    herald = Herald.build(Settings(home=tmp_path / "var"))
    try:
        assert auth.login("amina", PASSWORD, store=herald.store, clock=herald.clock)
    finally:
        herald.close()
