"""A provider that takes the messages and then answers 504 (its gateway gave up waiting) has them:
herald asks before it sends again, so each client gets one message, counted at the fake.

Retried blind, as a passing error, each message went twice: Twilio holds the first, Infobip took the
first under the attempt's messageId and the retry under the next attempt's.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.infobip import FakeInfobip, Injection
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

NUMBERS = [f"+2547120004{i:02d}" for i in range(3)]


def _herald(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, provider: dict[str, Any]) -> Herald:
    for i, number in enumerate(NUMBERS):
        fineract.client(f"C{i}", number)
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([provider]),
        max_attempts=4,
        retry_base_seconds=5,
    )
    herald = Herald.build(settings, clock)
    request = {
        "campaignName": "Reminder",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1"},
        "message": "Hello {{firstName}}, your instalment is due",
        "providerId": provider["name"],
    }
    c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    campaigns.activate(c.id, **activating(herald))
    outbound_for(herald).run_due()
    return herald


def _statuses(herald: Herald) -> set[MessageStatus]:
    with herald.store.connect() as conn:
        return {MessageStatus(s) for s in conn.execute(select(messages.c.status)).scalars()}


def test_a_twilio_504_after_the_message_was_created_sends_nothing_twice(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def main() -> None:
        # The fake's gateway answers 504 well within herald's timeout, after Twilio created the message.
        async with FakeTwilio(stall=0.05) as twilio:
            provider = twilio.provider(timeout=5)
            herald = _herald(tmp_path, fineract, clock, provider)
            try:
                twilio.inject(FakeFault.LOST_ANSWER)
                sender = sender_for(herald)
                await sender.run()
                for _ in range(3):
                    clock.advance(timedelta(minutes=2))
                    await sender.run()
                received = Counter(m["to"] for m in twilio.messages.values())
                assert received == Counter(NUMBERS)  # each client once
                assert _statuses(herald) == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
            finally:
                await herald.close_providers()
                herald.close()

    asyncio.run(main())


def test_an_infobip_504_after_it_took_the_messages_sends_nothing_twice(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def main() -> None:
        fake = FakeInfobip("server-error-key", hang=0.05)  # takes them, then its gateway answers 504 at once
        await fake.start()
        provider = {
            "kind": "infobip",
            "name": "infobip",
            "base_url": fake.url,
            "api_key": "server-error-key",
            "sender": "MFI",
            "timeout": 5,
        }
        herald = _herald(tmp_path, fineract, clock, provider)
        try:
            fake.inject(Injection.LOST_ANSWER)
            sender = sender_for(herald)
            await sender.run()
            for _ in range(3):
                clock.advance(timedelta(minutes=2))
                await sender.run()
            received = Counter(f"+{m.to}" for m in fake.messages.values())
            assert received == Counter(NUMBERS)  # each client once
            assert _statuses(herald) == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        finally:
            await herald.close_providers()
            herald.close()
            await fake.stop()

    asyncio.run(main())
