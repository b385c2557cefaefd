"""The command line's side of the audit log: what is done at the terminal is recorded as the OS user's."""

from __future__ import annotations

import getpass
from pathlib import Path

from tests.e2e.test_cli import env, herald

__all__ = ["env"]  # the fixture, shared with the other CLI tests


def test_cli_changes_are_recorded_as_the_os_user_and_listed(env: dict[str, str], tmp_path: Path) -> None:
    me = f"cli:{getpass.getuser()}"
    herald(env, "db", "upgrade")  # no other command makes the database
    herald(env, "optouts", "add", "+254712345678", "--reason", "asked at the branch")
    herald(env, "optouts", "remove", "+254712345678")
    herald(env, "jobs", "run", "send")

    listed = herald(env, "audit", "list").stdout
    assert "Audit log (Africa/Nairobi)" in listed and "3 of 3 entries" in listed
    for action in ("optout.add", "optout.remove", "job.run"):
        assert action in listed
    assert me in listed and "+2547******78" in listed and "254712345678" not in listed
    assert " EAT " in listed  # times carry their zone
    only = herald(env, "audit", "list", "--action", "optout.", "--actor", me).stdout
    assert "2 of 2 entries" in only and "job.run" not in only
    assert "0 of 0 entries" in herald(env, "audit", "list", "--from", "2000-01-01", "--to", "2000-01-02").stdout
    commands = herald(env, "audit", "--help").stdout
    assert "list" in commands and "delete" not in commands and "clear" not in commands
