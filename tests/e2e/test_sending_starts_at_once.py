"""An activated Direct campaign is sent at once by a `herald worker` already running in another process,
not at the worker's next materialize or send interval, and sending starts while materializing is
still writing. Counted at the far side: a fake Twilio on 127.0.0.1 notes when each request came.

The worker's intervals are a minute here, so only its watch of the campaigns table (activation) and
the wake of the send job by each written chunk can make the messages go out in seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from herald.app import Herald
from herald.config import Settings, settings_environment
from herald.corebank.demo import create_demo_database
from herald.domain.campaign import Campaign
from herald.domain.jobs import Job
from herald.domain.message import MessageStatus
from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.database import make_engine, upgrade
from herald.store.tables import job_runs, messages
from tests.campaign_parts import activating, validating

TODAY = date(2026, 11, 25)
CLIENTS = 8_000
MINUTE = 60.0


@pytest.fixture(scope="module")
def demo_corebank(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("corebank")
    url = f"sqlite:///{folder / 'fineract.sqlite'}"
    create_demo_database(url, clients=CLIENTS, seed=3, today=TODAY)
    return url


@pytest.fixture
def far_side() -> Iterator[FakeTwilio]:
    """The fake Twilio on a loop of its own in a thread, as a provider is out of herald's processes."""
    fake = FakeTwilio(push_callbacks=False, latency=0.01)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        loop.run_until_complete(fake.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _settings(home: Path, db_url: str, corebank: str, fake: FakeTwilio) -> Settings:
    provider = {
        "kind": "twilio",
        "name": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": "+12025550143",
        "base_url": fake.url,
        "max_in_flight": 64,
    }
    return Settings(
        home=home,
        database_url=db_url,
        corebank_url=corebank,
        providers=json.dumps([provider]),
        public_url="http://127.0.0.1:9",  # reports are pushed, none polled: only sends reach the fake
        business_date=TODAY,
        materialize_interval=MINUTE,
        send_interval=MINUTE,
        reports_interval=MINUTE,
        catchup_interval=MINUTE,
    )


def _wait(condition: object, seconds: float, what: str, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if worker.poll() is not None:
            pytest.fail(f"herald worker stopped: {log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:.0f} s; the worker said: {log.read_text()[-3000:]}")
        time.sleep(0.05)


def test_a_running_worker_sends_a_campaign_activated_elsewhere_at_once_while_it_is_still_being_written(
    tmp_path: Path, db_url: str, demo_corebank: str, far_side: FakeTwilio
) -> None:
    settings = _settings(tmp_path, db_url, demo_corebank, far_side)
    upgrade(make_engine(db_url))  # as an operator does before starting herald on PostgreSQL
    herald = Herald.build(settings)  # the server's or the CLI's process, where the activation happens
    # One small campaign is due when the worker starts: its first pass sends it, and leaves a trace.
    _activate(herald, "Kawangware", 5, "Welcome to Kawangware branch.")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "herald", "worker"],
            env=settings_environment(settings, os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def first_pass_sent() -> bool:
            return bool(_created_runs(herald)) and any("Kawangware" in body for _, _, body in far_side.arrivals)

        # Its first pass over the jobs is behind it: by their intervals, nothing runs for a minute now.
        _wait(first_pass_sent, 60, "the worker did not send the campaign due when it started", worker, log)
        time.sleep(0.5)  # the rest of that campaign's requests: they are not counted below
        before = len(far_side.arrivals)
        made = _activate(herald, "Everyone", 1, "Dear {{firstName}}, thank you for banking with us.")
        activated = time.time()

        def stored() -> tuple[int, int]:
            with herald.store.connect() as conn:
                total = conn.execute(select(func.count()).where(messages.c.campaign_id == made.id)).scalar_one()
                sendable = conn.execute(
                    select(func.count()).where(
                        messages.c.campaign_id == made.id, messages.c.status != MessageStatus.INVALID
                    )
                ).scalar_one()
            return int(total), int(sendable)

        _wait(lambda: len(_created_runs(herald)) == 2, 30, "the campaign was not materialized", worker, log)
        total, sendable = stored()
        assert total > 5_000 and sendable > 4_000  # most of the demo's clients have a number herald can use

        def sent() -> int:
            return sum("thank you for banking" in body for _, _, body in far_side.arrivals[before:])

        _wait(lambda: sent() >= sendable, 30, "not every message was sent", worker, log)
        time.sleep(1.0)  # a message sent twice would arrive now
    finally:
        worker.terminate()
        worker.wait(30)
    finished = _created_runs(herald)[-1]
    herald.close()

    arrivals = [(at, to) for at, to, body in far_side.arrivals if "thank you for banking" in body]
    numbers = [to for _, to in arrivals]
    assert len(numbers) == len(set(numbers)) == sendable  # each sendable message once, none twice
    first = min(at for at, _ in arrivals)
    last = max(at for at, _ in arrivals)
    # Seconds, where the worker's intervals would have made it a minute.
    assert last - activated < MINUTE / 4
    # The first request left before materializing had written the last of the campaign's messages.
    assert datetime.fromtimestamp(first, UTC) < finished


def _activate(herald: Herald, name: str, office: int, text: str) -> Campaign:
    request = {
        "campaignName": name,
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": str(office)},
        "message": text,
        "providerId": "twilio",
    }
    made = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    return campaigns.activate(made.id, **activating(herald))


def _created_runs(herald: Herald) -> list[datetime]:
    """When each run of the materialize job that created messages finished, oldest first."""
    with herald.store.connect() as conn:
        runs = conn.execute(
            select(job_runs.c.finished_at, job_runs.c.counts)
            .where(job_runs.c.job == Job.UPDATE_OUTBOUND.slug, job_runs.c.finished_at.is_not(None))
            .order_by(job_runs.c.id)
        ).all()
    return [at for at, counts in runs if (counts or {}).get("created")]
