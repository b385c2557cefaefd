"""Two campaigns to the same clients through the fake Twilio of a trial account with Smart Encoding.

Twilio stores every body altered (prefix, GSM look-alikes), so a lost answer's message is not
herald's text letter for letter. Counted at the fake: each client gets each campaign's message
exactly once, whether the answer was lost or the request never arrived.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

DUE = "Hi {{firstName}}, your instalment is due \u2013 please pay on time\u2026"
THANKS = "Hi {{firstName}}, we\u2019ve received your payment \u2013 thank you"
STORED = {  # what Twilio keeps of each, for the first client
    "due": "Sent from your Twilio trial account - Hi C0, your instalment is due - please pay on time...",
    "thanks": "Sent from your Twilio trial account - Hi C0, we've received your payment - thank you",
}


def run(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, body: Callable[..., Awaitable[None]]) -> None:
    for i in range(2):
        fineract.client(f"C{i}", f"+2547120003{i:02d}")

    async def main() -> None:
        async with FakeTwilio(stall=2.0, trial_account=True, smart_encoding=True) as twilio:
            provider = twilio.provider(timeout=0.5)
            settings = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([provider]),
                max_attempts=4,
                retry_base_seconds=5,
                send_batch_size=1,
            )
            herald = Herald.build(settings, clock)
            try:
                for name, text in (("Instalment due", DUE), ("Payment received", THANKS)):
                    request = {
                        "campaignName": name,
                        "triggerType": "direct",
                        "runReportId": 166,
                        "paramValue": {"officeId": "1"},
                        "message": text,
                        "providerId": "twilio",
                    }
                    c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
                    campaigns.activate(c.id, **activating(herald))
                outbound_for(herald).run_due()
                await body(herald, twilio)
            finally:
                await herald.close_providers()
                herald.close()

    asyncio.run(main())


def _rows(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(messages).order_by(messages.c.id)))


def _each_once(herald: Herald, twilio: FakeTwilio) -> None:
    """Every message reached Twilio once, under the sid herald holds for it, with that message's text."""
    rows = _rows(herald)
    assert len(rows) == 4
    assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
    received = Counter((m["to"], m["body"].split(" - ", 1)[1][:12]) for m in twilio.messages.values())
    assert received == Counter((r.mobile_no, r.body[:12].replace("\u2019", "'")) for r in rows)  # nothing twice
    assert sorted(r.external_id for r in rows) == sorted(twilio.messages)  # each its own sid
    for r in rows:
        assert twilio.messages[r.external_id]["to"] == r.mobile_no


def test_a_lost_answer_on_an_altered_body_is_adopted_not_sent_again(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio) -> None:
        sender = sender_for(herald)
        twilio.inject(FakeFault.LOST_ANSWER)  # Twilio keeps the first message; herald hears nothing
        await sender.run(limit=1)
        [first] = [r for r in _rows(herald) if r.error_code == "TIMEOUT"]
        [(sid, kept)] = twilio.messages.items()
        assert kept["body"] == STORED["due"]
        clock.advance(seconds=60)
        await sender.run()
        _each_once(herald, twilio)
        assert next(r for r in _rows(herald) if r.id == first.id).external_id == sid  # adopted

    run(tmp_path, fineract, clock, body)


def test_another_campaign_s_message_to_the_same_client_is_not_taken_for_one_that_never_arrived(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio) -> None:
        sender = sender_for(herald)
        await sender.run(limit=2)  # the due reminders (the first campaign's) go through
        assert len(twilio.messages) == 2
        twilio.inject(FakeFault.TIMEOUT)  # the thanks to C0 never reaches Twilio
        await sender.run(limit=1)
        assert len(twilio.messages) == 2
        clock.advance(seconds=60)
        await sender.run()  # herald asks; C0's only message in the window is the due reminder
        _each_once(herald, twilio)
        rows = {r.body[:9]: r for r in _rows(herald) if r.body.startswith("Hi C0")}
        assert twilio.messages[rows["Hi C0, we"].external_id]["body"] == STORED["thanks"]
        assert twilio.messages[rows["Hi C0, yo"].external_id]["body"] == STORED["due"]

    run(tmp_path, fineract, clock, body)
