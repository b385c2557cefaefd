"""The command line says times as the UI does: local wall-clock time with its zone, and "not run yet" before a run."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.test_cli import env, herald

__all__ = ["env"]  # the fixture, shared with the other CLI tests


def _kampala_minutes(before: datetime, after: datetime) -> set[str]:
    """Kampala's wall clock at each minute the command may have read, "20 Nov 2026 15:07 EAT"."""
    zone, minute, found = ZoneInfo("Africa/Kampala"), before.replace(second=0, microsecond=0), set()
    while minute <= after:
        found.add(minute.astimezone(zone).strftime("%d %b %Y %H:%M EAT"))
        minute += timedelta(minutes=1)
    return found


def test_a_scheduled_campaign_shows_its_start_and_runs_in_its_zone(env: dict[str, str]) -> None:
    herald(env, "demo", "init", "--clients", "50", "--seed", "3")
    before = datetime.now(UTC)
    herald(
        env,
        "campaigns",
        "create",
        "--name",
        "Weekly",
        "--trigger",
        "schedule",
        "--rule",
        "Active Clients",
        "-p",
        "officeId=1",
        "--message",
        "Dear {{firstName}}, hello.",
        "--recurrence",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=30",
        "--timezone",
        "Africa/Kampala",
    )
    after = datetime.now(UTC)
    shown = herald(env, "campaigns", "show", "Weekly").stdout
    start = re.search(r"from (\d\d \w{3} \d{4} \d\d:\d\d EAT)", shown)
    assert start and start.group(1) in _kampala_minutes(before, after)  # now, in Kampala: not the UTC clock
    assert re.search(r"last run\s+│?\s*-", shown)  # Pending: no run to speak of

    activated = herald(env, "campaigns", "activate", "Weekly", "--yes").stdout
    assert re.search(r"Next run: \d\d \w{3} \d{4} 09:30 EAT\.", activated)
    shown = herald(env, "campaigns", "show", "Weekly").stdout
    assert re.search(r"next run\s+│?\s*\d\d \w{3} \d{4} 09:30 EAT", shown)
    assert re.search(r"last run\s+│?\s*not run yet", shown)
    listing = herald(env, "campaigns", "list").stdout
    assert re.search(r"\d\d \w{3} \d{4} 09:30 EAT", listing) and " UTC" not in listing


def test_users_job_runs_and_optouts_carry_the_zone(env: dict[str, str]) -> None:
    env = {**env, "HERALD_TIMEZONE": "Europe/London", "ADMIN_PASSWORD": "a long enough password"}
    herald(env, "db", "upgrade")  # no command but this one (and the demo) makes the database
    herald(env, "users", "create", "amina", "--role", "admin", "--password-env", "ADMIN_PASSWORD")
    herald(env, "jobs", "run", "send")
    users = herald(env, "users", "list").stdout
    assert re.search(r"amina.*\d\d \w{3} \d{4} \d\d:\d\d (GMT|BST)", users) and "(UTC)" not in users
    runs = herald(env, "jobs", "runs").stdout
    assert re.search(r"\d\d \w{3} \d{4} \d\d:\d\d:\d\d (GMT|BST)", runs) and "(UTC)" not in runs
    herald(env, "optouts", "add", "+254712345678", "--reason", "asked at the branch")
    optouts = herald(env, "optouts", "list").stdout
    assert re.search(r"\d\d \w{3} \d{4} \d\d:\d\d (GMT|BST)", optouts) and "(UTC)" not in optouts
