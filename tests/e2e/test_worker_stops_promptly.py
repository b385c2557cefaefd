"""A stop request (SIGTERM, Ctrl-C, the server shutting down) ends the worker well inside its grace
period even when a delivery-report pull is asking a slow provider about many messages: the pull only
reads, so it is cancelled and what it did not record is asked again by the next worker.

Real worker loop, a fake Twilio on 127.0.0.1 that answers in one second, two requests at a time.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from sqlalchemy import func, select

from herald.app import Herald
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import GRACE, Worker
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

CLIENTS = 30


def _waiting(herald: Herald) -> int:
    with herald.store.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(messages.c.status == MessageStatus.WAITING_FOR_DELIVERY_REPORT)
            ).scalar_one()
        )


def test_a_stop_during_a_long_report_pull_ends_the_worker_well_inside_its_grace_period(
    tmp_path: Path, fineract: FineractBuilder
) -> None:
    for i in range(CLIENTS):
        fineract.client(f"Client{i}", f"+2547120005{i:02d}")

    async def main() -> float:
        fake = FakeTwilio()  # the messages stay "queued": every pull asks about each of them again
        await fake.start()
        provider = {
            "kind": "twilio",
            "name": "twilio",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": "+12025550143",
            "base_url": fake.url,
            "max_in_flight": 2,
            "status_callback": False,  # reports are pulled
        }
        settings = Settings(
            home=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'herald.sqlite'}",
            corebank_url=fineract.url,
            providers=json.dumps([provider]),
            reports_poll_after=0,
            send_interval=0.05,
            reports_interval=0.05,
            materialize_interval=0.05,
        )
        herald = Herald.build(settings)
        request = {
            "campaignName": "Everyone",
            "triggerType": "direct",
            "runReportId": 166,
            "paramValue": {"officeId": "1"},
            "message": "Your instalment is due this week.",
            "providerId": "twilio",
        }
        made = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
        campaigns.activate(made.id, **activating(herald))
        worker = Worker(herald)
        running = asyncio.create_task(worker.run_async(lambda: False))
        try:
            deadline = time.monotonic() + 30
            while _waiting(herald) < CLIENTS:  # all sent at once, the fake answering at once
                assert time.monotonic() < deadline, "the campaign was not sent"
                await asyncio.sleep(0.05)
            fake.latency = 1.0  # from now on a pull of 30 messages, two at a time, takes 15 s
            while fake.in_flight == 0:  # every message is sent: what is in flight is a pull's request
                assert time.monotonic() < deadline, "no report pull started"
                await asyncio.sleep(0.01)
            stopping = time.monotonic()
            worker.request_stop()
            await asyncio.wait_for(running, timeout=GRACE + 10)
            return time.monotonic() - stopping
        finally:
            if not running.done():
                running.cancel()
            await fake.stop()
            herald.close()

    took = asyncio.run(main())
    # Without cancelling the pull the loop waits for it, then for the whole grace period.
    assert took < GRACE / 2, f"the worker took {took:.1f} s to stop"
