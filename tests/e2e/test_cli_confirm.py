"""The CLI asks before what costs money (`campaigns activate`, `reactivate`, `messages resend`), run as a user runs it.

Subprocesses on real files. A terminal is a real pseudo-terminal on stdin (the answer typed into
it); "no terminal" is stdin from /dev/null, as under cron or a CI job. What was queued is read
back from herald's SQLite file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.test_cli import HERALD, herald


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HERALD_HOME": str(tmp_path / "var"),
        "HERALD_DATABASE_URL": "",
        "HERALD_COREBANK_URL": "",
        "COLUMNS": "200",
        "HERALD_SIMULATOR_FAILURE_RATIO": "0.4",  # failures with the simulator's codes, for the re-sends
        "HERALD_SIMULATOR_SENT_AFTER": "0.1",
        "HERALD_SIMULATOR_DELIVERED_AFTER": "0.2",
        "HERALD_SEND_INTERVAL": "0.1",
        "HERALD_REPORTS_INTERVAL": "0.2",
        "HERALD_MATERIALIZE_INTERVAL": "0.2",
    }


def on_terminal(env: dict[str, str], *args: str, answer: str) -> subprocess.CompletedProcess[str]:
    """The command with a pseudo-terminal as stdin, `answer` typed into it."""
    master, slave = os.openpty()
    try:
        os.write(master, answer.encode())
        return subprocess.run([*HERALD, *args], env=env, stdin=slave, capture_output=True, text=True, timeout=120)
    finally:
        os.close(slave)
        os.close(master)


def no_terminal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HERALD, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )


def said(stderr: str) -> list[str]:
    """stderr's lines but the one naming herald's database (HERALD_HOME is set, so every command names it)."""
    return [line for line in stderr.strip().splitlines() if not line.startswith("herald's database: ")]


def status_of(env: dict[str, str], name: str) -> str:
    with sqlite3.connect(Path(env["HERALD_HOME"]) / "herald.sqlite") as db:
        (status,) = db.execute("SELECT status FROM campaigns WHERE name = ?", (name,)).fetchone()
    return {100: "Pending", 300: "Active", 600: "Closed"}[status]


def create(env: dict[str, str], name: str, *extra: str) -> None:
    args = ["campaigns", "create", "--name", name, "--rule", "Active Clients", "-p", "officeId=1"]
    herald(env, *args, "--message", "Dear {{firstName}}, welcome.", *extra)


def test_activate_asks_on_a_terminal_refuses_without_one_and_goes_ahead_with_yes(env: dict[str, str]) -> None:
    herald(env, "demo", "init", "--clients", "60", "--seed", "3")
    create(env, "Hello")

    refused = no_terminal(env, "campaigns", "activate", "Hello")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len(said(refused.stderr)) == 1, refused.stderr  # one line
    assert "pass --yes" in refused.stderr and "Nothing was done" in refused.stderr
    assert status_of(env, "Hello") == "Pending"

    declined = on_terminal(env, "campaigns", "activate", "Hello", answer="n\n")
    assert declined.returncode == 1, declined.stdout + declined.stderr
    assert "Audience:" in declined.stdout and "Estimated cost:" in declined.stdout and "KES" in declined.stdout
    assert 'Activate "Hello"' in declined.stdout and "Nothing was done" in declined.stderr
    assert status_of(env, "Hello") == "Pending"

    agreed = on_terminal(env, "campaigns", "activate", "Hello", "--no-now", answer="y\n")
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert 'Campaign 1 "Hello" activated' in agreed.stdout
    assert status_of(env, "Hello") == "Active"

    herald(env, "campaigns", "close", "Hello")  # closing costs nothing: it never asks
    assert "pass --yes" in no_terminal(env, "campaigns", "reactivate", "Hello").stderr
    assert status_of(env, "Hello") == "Closed"
    herald(env, "campaigns", "reactivate", "Hello", "--yes")
    assert status_of(env, "Hello") == "Active"


def test_a_schedule_running_more_than_daily_is_warned_about_even_with_yes(env: dict[str, str]) -> None:
    herald(env, "demo", "init", "--clients", "30", "--seed", "3")
    schedule = ["--trigger", "schedule", "--timezone", "Africa/Nairobi", "--start", "2030-01-01T08:00"]
    create(env, "Twice", *schedule, "--recurrence", "FREQ=DAILY;BYHOUR=8,17;BYMINUTE=0")
    create(env, "Once", *schedule, "--recurrence", "FREQ=DAILY;BYHOUR=8;BYMINUTE=0")
    twice = herald(env, "campaigns", "activate", "Twice", "--yes")
    assert "Warning:" in twice.stderr and "runs 2 times on Tue 01 Jan 2030 (08:00, 17:00" in twice.stderr
    assert "more often than daily" in twice.stderr
    once = herald(env, "campaigns", "activate", "Once", "--yes")
    assert "Warning" not in once.stderr


def failed_by_code(env: dict[str, str]) -> Counter[str]:
    """Failed messages that were never re-sent, per error code, read from herald's database."""
    with sqlite3.connect(Path(env["HERALD_HOME"]) / "herald.sqlite") as db:
        keys = {k for (k,) in db.execute("SELECT dedup_key FROM messages")}
        rows = db.execute("SELECT dedup_key, error_code FROM messages WHERE status = 400").fetchall()
    return Counter(code for key, code in rows if f"{key}#resend-1" not in keys)


def resent_codes(env: dict[str, str]) -> Counter[str]:
    """The error codes of the failed messages re-sent so far (each copy's original's code)."""
    with sqlite3.connect(Path(env["HERALD_HOME"]) / "herald.sqlite") as db:
        codes = dict(db.execute("SELECT dedup_key, error_code FROM messages"))
    return Counter(codes[key.removesuffix("#resend-1")] for key in codes if key.endswith("#resend-1"))


def test_messages_resend_by_code_asks_then_says_what_it_did(env: dict[str, str]) -> None:
    herald(env, "demo", "init", "--clients", "200", "--seed", "3")
    create(env, "Hello")
    herald(env, "campaigns", "activate", "Hello", "--yes")
    herald(env, "worker", "--until-idle", "--duration", "60")
    failed = failed_by_code(env)
    (code, count), *others = failed.most_common()
    assert count > 0 and others, failed  # two codes at least, so choosing one leaves the others

    refused = no_terminal(env, "messages", "resend", "Hello", "--code", code)
    assert refused.returncode == 1 and "pass --yes" in refused.stderr and len(said(refused.stderr)) == 1
    declined = on_terminal(env, "messages", "resend", "Hello", "--code", code, answer="n\n")
    assert declined.returncode == 1 and "Nothing was done" in declined.stderr
    assert f"{code} {count:,}" in declined.stdout and "(not chosen)" in declined.stdout
    assert f"Re-send {count:,} failed message" in declined.stdout
    assert resent_codes(env) == Counter()

    done = herald(env, "messages", "resend", "Hello", "--code", code, "--yes")
    assert f"Re-sent {count:,} failed message" in done.stdout and f"({code} {count:,})" in done.stdout
    assert resent_codes(env) == Counter({code: count})  # exactly the chosen code's, each once

    again = herald(env, "messages", "resend", "Hello", "--code", code, "--yes")
    assert f"0 failed messages to re-send with code {code}" in again.stdout
    typo = herald(env, "messages", "resend", "Hello", "--code", "3O003", "--yes")
    assert "0 failed messages to re-send with code 3O003" in typo.stdout and others[0][0] in typo.stdout
    assert resent_codes(env) == Counter({code: count})

    rest = herald(env, "messages", "resend", "Hello", "--yes")  # no --code: every other failure
    assert f"Re-sent {sum(n for _, n in others):,} failed message" in rest.stdout
    assert resent_codes(env) == failed
