"""A lost Twilio answer: settled with herald's own copy however Twilio altered it, never with another message's.

Two campaigns may send the same text to the same client (a reminder and its copy in a second
campaign, a re-send): both are herald's, both must arrive. A text with modifier letters (Uzbek
"toʻlov", a Ukrainian apostrophe) is stored by Smart Encoding with plain apostrophes: still the
same message, never sent again. Counted at the fake Twilio.
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
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

TEXT = "Hi {{firstName}}, your instalment is due tomorrow"
UZBEK = "Salom {{firstName}}, kredit bo\u02bbyicha to\u02bblov muddati ertaga"


def _rows(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(messages).order_by(messages.c.id)))


def run(
    tmp_path: Path,
    fineract: FineractBuilder,
    clock: ManualClock,
    texts: list[str],
    body: Callable[[Herald, FakeTwilio], Awaitable[None]],
    batch: int = 1,
    **fake: Any,
) -> None:
    """One client, one direct campaign per text through a fake Twilio, then `body`."""
    fineract.client("C0", "+254712000300")

    async def main() -> None:
        async with FakeTwilio(stall=2.0, **fake) as twilio:
            provider = twilio.provider(timeout=0.5)
            settings = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([provider]),
                max_attempts=4,
                retry_base_seconds=5,
                send_batch_size=batch,
            )
            herald = Herald.build(settings, clock)
            try:
                for n, text in enumerate(texts):
                    request = {
                        "campaignName": f"Reminder {n}",
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


def test_a_timed_out_send_is_not_settled_with_the_same_text_another_campaign_already_sent(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio) -> None:
        sender = sender_for(herald)
        await sender.run(limit=1)  # the first campaign's message reaches Twilio, its sid recorded
        assert len(twilio.messages) == 1
        twilio.inject(FakeFault.TIMEOUT)  # the second one never reaches Twilio
        await sender.run(limit=1)
        assert len(twilio.messages) == 1
        clock.advance(seconds=60)
        await sender.run()  # herald asks Twilio: the only listed message is the first campaign's
        rows = _rows(herald)
        assert len(rows) == 2
        received = Counter(m["to"] for m in twilio.messages.values())
        assert received == Counter({"+254712000300": 2})  # both campaigns' messages arrived
        assert len({r.external_id for r in rows}) == 2  # each under its own sid

    run(tmp_path, fineract, clock, [TEXT, TEXT], body)


def test_a_lost_answer_on_a_text_with_modifier_letter_apostrophes_is_adopted_not_sent_again(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio) -> None:
        sender = sender_for(herald)
        twilio.inject(FakeFault.LOST_ANSWER)  # Twilio keeps it; herald hears nothing
        await sender.run(limit=1)
        [(sid, kept)] = twilio.messages.items()
        assert "to'lov" in kept["body"] and "\u02bb" not in kept["body"]  # Smart Encoding's apostrophe
        clock.advance(seconds=60)
        await sender.run()
        assert len(twilio.messages) == 1  # not sent again
        [row] = _rows(herald)
        assert row.external_id == sid

    run(tmp_path, fineract, clock, [UZBEK], body, smart_encoding=True)


def test_two_lost_copies_of_one_text_asked_together_past_a_held_original_do_not_share_one_message(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """Three campaigns, one text: the first's message went through; of the other two, Twilio holds one
    and never saw the other. Asked together, the first round gives one of them the original (held:
    asked again) and the other the copy; the second round must not give the copy to both."""

    async def body(herald: Herald, twilio: FakeTwilio) -> None:
        sender = sender_for(herald)
        await sender.run(limit=1)  # the first campaign's message, its sid recorded
        twilio.inject(FakeFault.LOST_ANSWER)  # one of the next two is kept by Twilio, unanswered
        twilio.inject(FakeFault.TIMEOUT)  # the other never reaches it
        await sender.run(limit=2)
        assert len(twilio.messages) == 2
        clock.advance(seconds=60)
        await sender.run()  # both in doubt, asked about in one batch
        rows = _rows(herald)
        assert Counter(m["to"] for m in twilio.messages.values()) == Counter({"+254712000300": 3})
        assert len({r.external_id for r in rows}) == 3  # each message its own sid, none sharing one

    run(tmp_path, fineract, clock, [TEXT, TEXT, TEXT], body, batch=2)
