"""`herald messages list` and `herald messages search` as a user runs them: names, times with their zone,
masked numbers, the Messages page's keys, and one readable line for bad input. (Here, beside the web tests,
for their Herald on a demo core bank: the command runs as a subprocess on that Herald's database.)"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.store.tables import messages
from tests.web.conftest import DemoCorebank
from tests.web.test_message_search import a_client, messages_of, two_campaigns


@pytest.fixture
def bare_env(herald: Herald, demo_corebank: DemoCorebank, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HERALD_HOME": str(tmp_path),
        "HERALD_DATABASE_URL": str(herald.settings.database_url),
        "HERALD_COREBANK_URL": demo_corebank.url,
        "HERALD_TIMEZONE": "Africa/Nairobi",
        "COLUMNS": "250",
    }


@pytest.fixture
def env(herald: Herald, bare_env: dict[str, str]) -> dict[str, str]:
    two_campaigns(herald)
    return bare_env


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "herald", "messages", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == (0 if ok else 1), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_messages_list_shows_client_names_and_times_with_their_zone(
    env: dict[str, str], herald: Herald, demo_corebank: DemoCorebank
) -> None:
    client_id, name, number = a_client(herald, demo_corebank)
    listing = run(env, "list", "--campaign", "Reminders", "--limit", "400").stdout
    assert "times in Africa/Nairobi" in listing
    assert re.search(rf"{re.escape(name)} #{client_id}", listing)
    assert "20 Nov 2026 08:00 EAT" in listing  # as the Messages page and the other commands write times
    assert "Reminders" in listing and "Greetings" not in listing
    assert number not in listing and "******" in listing


def test_messages_search_takes_the_pages_keys(env: dict[str, str], herald: Herald, demo_corebank: DemoCorebank) -> None:
    client_id, name, number = a_client(herald, demo_corebank)
    target = min(messages_of(herald, client_id=client_id))
    with herald.store.begin() as conn:
        conn.execute(
            update(messages).where(messages.c.id == target).values(status=MessageStatus.FAILED, error_code="30003")
        )
    by_name = run(env, "search", "--client", name.split()[-1]).stdout
    assert "Reminders" in by_name and "Greetings" in by_name and name in by_name
    by_number = run(env, "search", "--number", "0" + number.removeprefix("+254")).stdout
    assert "2 match; showing 1-2." in by_number and number not in by_number
    by_code = run(env, "search", "--code", "30003", "--status", "failed").stdout
    assert "1 match; showing 1-1." in by_code and "30003" in by_code
    assert "No messages match." in run(env, "search", "--from", "2026-11-21").stdout
    rows = list(csv.DictReader(io.StringIO(run(env, "search", "--client", str(client_id), "--csv").stdout)))
    assert len(rows) == 2 and {r["clientName"] for r in rows} == {name}
    assert all(r["mobileNo"].startswith("'+2547") and "*" in r["mobileNo"] for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--number", "banana"], "is not a phone number"),
        (["--status", "lost"], "Unknown message status 'lost'"),
        (["--from", "yesterday"], "is not a day"),
    ],
)
def test_messages_search_says_what_is_wrong_in_one_line(
    bare_env: dict[str, str], args: list[str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "herald", "messages", "search", *args], env=bare_env, capture_output=True, text=True
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert message in done.stdout + done.stderr
