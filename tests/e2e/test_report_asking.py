"""How often herald asks Twilio about a message whose report does not come, counted at the fake Twilio.

Twilio without status callbacks is asked one message per request (GET Messages/{sid}.json). A
network that returns no delivery receipt leaves a message "sent" for good; asked at every run of the
report job (every 5 s) for as long as it waits, 100,000 such messages were 20,000 requests a second
for ever. herald asks at every run while a report is normal, then less and less often
(store/messages.py, ASKING), still picks up a report that comes late, and does not count an ask
Twilio did not answer.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.twilio import FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

NUMBERS = ["+254712000201", "+254712000202", "+254712000203"]


def _asks(twilio: FakeTwilio) -> Counter[str]:
    """GETs of each message resource the fake received, by the number the message went to."""
    to = {sid: m["to"] for sid, m in twilio.messages.items()}
    return Counter(
        to[path.rsplit("/", 1)[1].removesuffix(".json")]
        for method, path, _ in twilio.requests
        if method == "GET" and "/Messages/SM" in path
    )


def test_a_message_without_a_report_is_asked_about_less_and_less_often_and_a_late_report_still_lands(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    office = fineract.office("Branch")
    for i, number in enumerate(NUMBERS):
        fineract.client(f"C{i}", number, office_id=office)

    async def main() -> None:
        async with FakeTwilio(push_callbacks=False) as twilio:
            provider = twilio.provider()
            settings = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'herald.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([provider]),
            )
            herald = Herald.build(settings, clock)
            try:
                request = {
                    "campaignName": "Reminders",
                    "triggerType": "direct",
                    "runReportId": 166,
                    "paramValue": {"officeId": str(office)},
                    "message": "Hello {{firstName}}",
                    "providerId": "twilio",
                }
                c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
                campaigns.activate(c.id, **activating(herald))
                outbound_for(herald).run_due()
                await sender_for(herald).run()
                assert len(twilio.messages) == len(NUMBERS)
                puller = puller_for(herald)
                elapsed = 0.0

                async def run_at(seconds: float) -> Counter[str]:
                    """The report job at `seconds` after the send; the asks it made, per number."""
                    nonlocal elapsed
                    clock.advance(seconds=seconds - elapsed)
                    elapsed = seconds
                    before = _asks(twilio)
                    await puller.pull()
                    return _asks(twilio) - before

                everyone = Counter(dict.fromkeys(NUMBERS, 1))
                # A report normally comes within seconds: every run asks.
                for t in (0, 5, 10, 15):
                    assert await run_at(t) == everyone, f"not asked at {t} s"
                # Past 20 s, every 15 s.
                assert await run_at(25) == Counter(), "asked again 10 s after the last ask at 25 s"
                assert await run_at(30) == everyone
                assert await run_at(40) == Counter()
                # Hours later: hourly at most.
                assert await run_at(3 * 3600) == everyone
                assert await run_at(3 * 3600 + 1800) == Counter(), "asked twice within the hour"
                # The network's receipt for the first number comes now, late: the next ask finds it.
                first = next(sid for sid, m in twilio.messages.items() if m["to"] == NUMBERS[0])
                await twilio.settle(first, "delivered")
                assert await run_at(3 * 3600 + 3000) == Counter()
                assert await run_at(4 * 3600 + 1) == everyone
                with herald.store.connect() as conn:
                    status = dict(conn.execute(select(messages.c.mobile_no, messages.c.status)).all())
                assert status[NUMBERS[0]] == MessageStatus.DELIVERED
                assert {status[n] for n in NUMBERS[1:]} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
                # Delivered is final: never asked about again; the others still are.
                waiting = Counter(dict.fromkeys(NUMBERS[1:], 1))
                assert await run_at(6 * 3600) == waiting
                # Twilio down for a run: asks nobody answered are not asks, the next run asks again.
                await twilio.stop()
                await run_at(8 * 3600)
                await twilio.start()
                assert await run_at(8 * 3600 + 60) == waiting, "an unanswered ask counted as an ask"
            finally:
                await herald.providers.close()
                herald.close()

    asyncio.run(main())
