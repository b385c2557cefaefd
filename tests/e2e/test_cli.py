"""The `herald` command run as a user runs it: a subprocess, real files, readable errors, no stack traces."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

HERALD = [sys.executable, "-m", "herald"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HERALD_HOME": str(tmp_path / "var"),
        "HERALD_DATABASE_URL": "",
        "HERALD_COREBANK_URL": "",
        "COLUMNS": "200",
        "HERALD_SEND_INTERVAL": "0.1",
        "HERALD_REPORTS_INTERVAL": "0.2",
        "HERALD_MATERIALIZE_INTERVAL": "0.2",
        "HERALD_SIMULATOR_SENT_AFTER": "0.1",
        "HERALD_SIMULATOR_DELIVERED_AFTER": "0.3",
    }


def herald(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*HERALD, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
    return done


def test_a_user_creates_previews_activates_and_watches_a_campaign(env: dict[str, str]) -> None:
    init = herald(env, "demo", "init", "--clients", "300", "--seed", "3")
    assert "m_client" in init.stdout or "clients" in init.stdout
    rules = herald(env, "rules", "list").stdout
    assert "Loan payments received (Active Loans)" in rules and "Happy Birthday" in rules
    herald(
        env,
        "campaigns",
        "create",
        "--name",
        "Hello",
        "--rule",
        "Active Clients",
        "-p",
        "officeId=1",
        "--message",
        "Dear {{firstName}}, welcome.",
    )
    preview = herald(env, "campaigns", "preview", "Hello").stdout
    assert "Audience:" in preview and "segments" in preview and "KES" in preview
    activated = herald(env, "campaigns", "activate", "Hello", "--yes").stdout
    assert "messages created" in activated
    herald(env, "worker", "--until-idle", "--duration", "60")
    listing = herald(env, "campaigns", "list").stdout
    assert "Hello" in listing and "Active" in listing
    pending = herald(env, "messages", "list", "--status", "pending").stdout
    assert "+254" not in pending  # nothing left pending
    delivered = herald(env, "messages", "list", "--status", "delivered", "--limit", "5").stdout
    assert "******" in delivered  # numbers are masked
    runs = herald(env, "jobs", "runs").stdout
    assert "Send Messages to SMS Gateway" in runs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["campaigns", "create", "--name", "X", "--rule", "999", "-p", "officeId=1", "--message", "Hi"],
            "Unknown business rule",
        ),
        (
            ["campaigns", "create", "--name", "X", "--rule", "166", "-p", "officeId=1", "--message", "Hi {{nope}}"],
            "{{nope}}",
        ),
        (["campaigns", "create", "--name", "X", "--rule", "166", "-p", "officeId", "--message", "Hi"], "name=value"),
        (
            [
                "campaigns",
                "create",
                "--name",
                "X",
                "--rule",
                "166",
                "-p",
                "officeId=1",
                "--message",
                "Hi",
                "--trigger",
                "schedule",
                "--recurrence",
                "FREQ=NEVER",
            ],
            "recurrence",
        ),
        (["campaigns", "activate", "nobody"], "No campaign"),
        (["jobs", "run", "dance"], "Unknown job"),
        (["messages", "list", "--status", "lost"], "Unknown status"),
    ],
)
def test_refusals_are_one_readable_line(env: dict[str, str], args: list[str], message: str) -> None:
    herald(env, "demo", "init", "--clients", "50")
    done = herald(env, *args, ok=False)
    assert message in done.stderr


def test_bad_configuration_is_reported_not_raised(env: dict[str, str]) -> None:
    done = herald({**env, "HERALD_DEFAULT_REGION": "XX"}, "campaigns", "list", ok=False)
    assert "HERALD_DEFAULT_REGION" in done.stderr


def test_the_main_job_runs_end_to_end(env: dict[str, str], tmp_path: Path) -> None:
    started = datetime.now(ZoneInfo("Africa/Nairobi"))
    done = subprocess.run(
        [*HERALD, "demo", "run", "--clients", "400", "--timeout", "60"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Summary" in done.stdout
    for name in ("Active Clients", "Loan payments due", "Loan payments received (Active Loans)"):
        assert name in done.stdout
    said = " ".join(done.stdout.split())  # rich wraps at the terminal's width
    # When the scheduled ones run, as their pages and `campaigns show` say it (day, time, zone), not a bare clock time
    first = re.search(r"the scheduled ones run first at (\d\d \w{3} \d{4} \d\d:\d\d) EAT, then daily\.", said)
    assert first, said
    # Nairobi's time, seconds after the start (it once said 06:23 EAT for a run at 03:23 EAT)
    shown = datetime.strptime(first.group(1), "%d %b %Y %H:%M").replace(tzinfo=ZoneInfo("Africa/Nairobi"))
    assert timedelta(minutes=-1) <= shown - started <= timedelta(minutes=2), (shown, started)
    listing = herald(env, "campaigns", "list").stdout
    assert "Loan payments due" in listing


@pytest.mark.parametrize("provider", ["twilio", "infobip", "africastalking", "smpp"])
def test_the_main_job_runs_through_a_local_fake_of_a_real_provider(
    env: dict[str, str], tmp_path: Path, provider: str
) -> None:
    done = subprocess.run(
        [*HERALD, "demo", "run", "--clients", "300", "--timeout", "60", "--provider", provider],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"local fake {provider}" in done.stdout
    listing = herald(env, "messages", "list", "--status", "delivered", "--limit", "3").stdout
    assert "Delivered" in listing
    pending = herald(env, "messages", "list", "--status", "waiting").stdout
    assert "******" not in pending  # every accepted message got its final report


def test_serve_runs_the_jobs_by_default_and_answers_http(env: dict[str, str], tmp_path: Path) -> None:
    import signal
    import socket
    import sqlite3
    import time
    import urllib.request

    herald(env, "demo", "init", "--clients", "80")
    herald(env, "campaigns", "create", "--name", "All", "--rule", "166", "-p", "officeId=1", "--message", "Hi")
    herald(env, "campaigns", "activate", "All", "--no-now", "--yes")  # the worker inside serve materializes it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [*HERALD, "serve", "--port", str(port)],  # no flag: the documented command sends
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        delivered = 0
        while time.monotonic() < deadline and not delivered:
            time.sleep(0.5)
            with sqlite3.connect(tmp_path / "var" / "herald.sqlite") as db:
                delivered = db.execute("SELECT COUNT(*) FROM messages WHERE status = 300").fetchone()[0]
        assert delivered > 0
        # The worker may deliver before uvicorn has bound its port on a busy machine: wait for it too.
        status = None
        while status is None and time.monotonic() < deadline + 30:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    status = answer.status
            except OSError:
                time.sleep(0.2)
        assert status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert "Traceback" not in (server.stderr.read() if server.stderr else "")


def test_the_demo_with_one_seed_gives_the_same_totals_every_run(env: dict[str, str], tmp_path: Path) -> None:
    """Same seed, same data, same summary: the simulated teller's repayments come after the Scheduled
    campaigns ran, so "Loan payments received" (which counts today's repayments) never catches some."""
    import sqlite3

    totals = []
    for run in ("first", "second"):
        home = tmp_path / run / "var"
        done = subprocess.run(
            [*HERALD, "demo", "run", "--clients", "400", "--seed", "3", "--timeout", "90"],
            env=env | {"HERALD_HOME": str(home)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        with sqlite3.connect(home / "herald.sqlite") as db:
            rows = db.execute(
                "SELECT c.name, m.status, m.dedup_key FROM messages m JOIN campaigns c ON c.id = m.campaign_id"
            ).fetchall()
            totals.append(sorted(rows))  # who got a message in which campaign, and how it ended
    assert totals[0] == totals[1]
    assert {name for name, *_ in totals[0]} >= {"Loan payments received (Active Loans)", "Loan Repayment"}


def _demo(env: dict[str, str], cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HERALD, "demo", "run", "--clients", "200", "--timeout", "60", *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,  # no terminal to ask on, as in CI
    )


def test_the_demo_replaces_only_its_own_files_after_asking_and_keeps_its_login(
    env: dict[str, str], tmp_path: Path
) -> None:
    import hashlib
    import re

    first = _demo(env, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    password = re.search(r"with the password (\S+)", first.stdout)
    assert password, first.stdout
    database = tmp_path / "var" / "herald.sqlite"
    before = hashlib.sha256(database.read_bytes()).hexdigest()

    asked = _demo(env, tmp_path)  # nobody to say yes: nothing is replaced
    assert asked.returncode == 1
    assert "nothing was replaced" in asked.stderr and "--yes" in asked.stderr, asked.stderr
    assert "Traceback" not in asked.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before

    again = _demo(env, tmp_path, "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"with the password {password.group(1)}" in again.stdout  # the same login as last time
    assert (tmp_path / "var" / "demo.json").stat().st_mode & 0o077 == 0  # it holds that password


def test_the_demo_never_replaces_a_database_it_did_not_make(env: dict[str, str], tmp_path: Path) -> None:
    import hashlib

    herald(env, "db", "upgrade")  # an installation of one's own: the documented first step
    made = herald(
        env | {"OFFICER_PASSWORD": "a long officer password"},
        "users",
        "create",
        "amina",
        "--role",
        "admin",
        "--password-env",
        "OFFICER_PASSWORD",
    )
    assert "amina" in made.stdout
    database = tmp_path / "var" / "herald.sqlite"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    refused = _demo(env, tmp_path, "--yes")
    assert refused.returncode == 1
    assert f"{database} exists and the demo did not make it" in refused.stderr.replace("\n", " "), refused.stderr
    assert "Traceback" not in refused.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    assert "amina" in herald(env, "users", "list").stdout

    elsewhere = _demo(env | {"HERALD_DATABASE_URL": f"sqlite:///{tmp_path / 'mine.sqlite'}"}, tmp_path, "--yes")
    assert elsewhere.returncode == 1
    assert "never uses the database HERALD_DATABASE_URL names" in elsewhere.stderr.replace("\n", " ")
    assert not (tmp_path / "mine.sqlite").exists()
