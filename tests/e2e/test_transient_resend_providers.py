"""Each provider's own way of saying "this failure passes" leads to one re-send, counted at its fake.

Infobip says it with a non-permanent error id on an UNDELIVERABLE status (pulled from
/sms/3/reports over HTTP); an SMPP link with an `UNDELIV` receipt whose `err:` and
network_error_code name a temporary GSM error (pushed on the bind over TCP). The same providers'
permanent failures are never re-sent. (Twilio's codes: tests/e2e/test_transient_resend.py.)
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.infobip import FakeInfobip
from herald.fakes.smsc import FakeSmsc
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

PASSING, LASTING = "+254712000301", "+254712000302"

Fail = Callable[[str, bool], Awaitable[None]]  # (number, passing?)
Received = Callable[[], Counter[str]]


def _herald(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, provider: dict[str, Any]) -> Herald:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        timezone="Africa/Nairobi",
        providers=json.dumps([provider]),
        transient_resend_times=1,
        transient_resend_after_minutes=10,
    )
    return Herald.build(settings, clock)


def _campaign(herald: Herald, office: int, provider: str, text: str = "Hello {{firstName}}") -> None:
    request = {
        "campaignName": "Reminders",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": str(office)},
        "message": text,
        "providerId": provider,
    }
    c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    campaigns.activate(c.id, **activating(herald))
    outbound_for(herald).run_due()


async def _failed(herald: Herald, count: int) -> None:
    """Until `count` messages are FAILED (a pushed receipt is applied as it arrives, on the link's task)."""
    for _ in range(200):
        with herald.store.connect() as conn:
            rows = conn.execute(select(messages.c.id).where(messages.c.status == MessageStatus.FAILED)).all()
        if len(rows) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {len(rows)} of {count} messages failed")


async def _policy_round(herald: Herald, clock: ManualClock, fail: Fail, received: Received) -> None:
    await sender_for(herald).run()
    await fail(PASSING, True)
    await fail(LASTING, False)
    await puller_for(herald).pull()
    await _failed(herald, 2)
    clock.advance(timedelta(minutes=10))
    assert (await puller_for(herald).pull())["resent"] == 1
    await sender_for(herald).run()
    assert received() == Counter({PASSING: 2, LASTING: 1})


@pytest.mark.parametrize("kind", ["infobip", "smpp"])
def test_a_passing_failure_is_resent_once_and_a_lasting_one_never(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, kind: str
) -> None:
    office = fineract.office("Branch")
    for i, number in enumerate((PASSING, LASTING)):
        fineract.client(f"C{i}", number, office_id=office)

    async def infobip() -> None:
        fake = FakeInfobip("ib-key")
        url = await fake.start()
        herald = _herald(
            tmp_path,
            fineract,
            clock,
            {"kind": "infobip", "name": "ib", "base_url": url, "api_key": "ib-key", "sender": "MFI"},
        )
        try:

            async def fail(number: str, passing: bool) -> None:
                [message_id] = [m.message_id for m in fake.messages.values() if "+" + m.to.lstrip("+") == number]
                fake.settle(message_id, "UNDELIVERABLE_NOT_DELIVERED", 27 if passing else 1)

            def received() -> Counter[str]:
                return Counter("+" + m.to.lstrip("+") for m in fake.messages.values())

            _campaign(herald, office, "ib")
            await _policy_round(herald, clock, fail, received)
        finally:
            await herald.close_providers()
            herald.close()
            await fake.stop()

    async def smpp() -> None:
        smsc = await FakeSmsc(receipt_after=None).start()
        link = {
            "kind": "smpp",
            "name": "link",
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "herald",
            "password": "secret",
            "source_addr": "MFI",
        }
        herald = _herald(tmp_path, fineract, clock, link)
        try:

            async def fail(number: str, passing: bool) -> None:
                [sub] = [s for s in smsc.submitted if "+" + s.sm.destination_addr.lstrip("+") == number]
                await smsc.settle(sub.message_id, "UNDELIV", "027" if passing else "001")

            def received() -> Counter[str]:
                return Counter("+" + s.sm.destination_addr.lstrip("+") for s in smsc.submitted if s.message_id)

            _campaign(herald, office, "link")
            await _policy_round(herald, clock, fail, received)
        finally:
            await herald.close_providers()
            herald.close()
            await smsc.close()

    asyncio.run(infobip() if kind == "infobip" else smpp())


def test_a_long_message_whose_second_part_fails_for_a_passing_reason_is_resent_whole(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    office = fineract.office("Branch")
    fineract.client("C", PASSING, office_id=office)
    long_text = "Hello {{firstName}}, " + "your instalment is due on Friday; thank you for banking with us. " * 3

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None).start()
        link = {
            "kind": "smpp",
            "name": "link",
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "herald",
            "password": "secret",
            "source_addr": "MFI",
        }
        herald = _herald(tmp_path, fineract, clock, link)
        try:
            _campaign(herald, office, "link", long_text)
            await sender_for(herald).run()
            parts = [s for s in smsc.submitted if s.message_id]
            assert len(parts) == 2
            await smsc.settle(parts[0].message_id, "DELIVRD")
            await smsc.settle(parts[1].message_id, "UNDELIV", "027")  # absent subscriber: passes
            await _failed(herald, 1)
            clock.advance(timedelta(minutes=10))
            assert (await puller_for(herald).pull())["resent"] == 1
            await sender_for(herald).run()
            assert len([s for s in smsc.submitted if s.message_id]) == 4  # the whole message again, once
        finally:
            await herald.close_providers()
            herald.close()
            await smsc.close()

    asyncio.run(main())
