"""Sending through the local Twilio and Infobip fakes: outages with failover, 429 storms, lost answers, crashes.

Every test counts what the fake provider received: no message may reach it twice.
"""

from __future__ import annotations

import asyncio
import json
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
from herald.fakes.infobip import FakeInfobip, Injection
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.providers.base import OutboundMessage
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store import messages as message_store
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

Body = Callable[[Herald, FakeTwilio, FakeInfobip], Awaitable[None]]

LEASE = timedelta(minutes=5)


def run(
    tmp_path: Path,
    fineract: FineractBuilder,
    clock: ManualClock,
    body: Body,
    clients: int = 6,
    twilio_fallback: bool = True,
) -> None:
    for i in range(clients):
        fineract.client(f"C{i}", f"+2547120002{i:02d}")

    async def main() -> None:
        twilio = FakeTwilio(stall=2.0)
        infobip = FakeInfobip("ib-key", hang=2.0)
        async with twilio:
            ib_url = await infobip.start()
            try:
                providers = [
                    twilio.provider(
                        timeout=1.2,  # under the fakes' 2 s stall; 0.5 s timed out plain sends on a loaded machine
                        **({"fallback": "infobip"} if twilio_fallback else {}),
                    ),
                    {
                        "kind": "infobip",
                        "name": "infobip",
                        "base_url": ib_url,
                        "api_key": "ib-key",
                        "sender": "MFI",
                        "timeout": 1.2,
                    },
                ]
                settings = Settings(
                    home=tmp_path,
                    database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                    corebank_url=fineract.url,
                    providers=json.dumps(providers),
                    max_attempts=4,
                    retry_base_seconds=5,
                    send_batch_size=2,
                )
                herald = Herald.build(settings, clock)
                c = campaigns.create(
                    CampaignRequest.model_validate(
                        {
                            "campaignName": "Reminder",
                            "triggerType": "direct",
                            "runReportId": 166,
                            "paramValue": {"officeId": "1"},
                            "message": "Hello {{firstName}}",
                            "providerId": "twilio",
                        }
                    ),
                    **validating(herald),
                )
                campaigns.activate(c.id, **activating(herald))
                outbound_for(herald).run_due()
                try:
                    await body(herald, twilio, infobip)
                finally:
                    await herald.close_providers()
                    herald.close()
            finally:
                await infobip.stop()

    asyncio.run(main())


def _rows(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(messages).order_by(messages.c.id)))


def _received(twilio: FakeTwilio, infobip: FakeInfobip) -> list[str]:
    """Every destination the two fakes accepted, duplicates included."""
    return [m["to"] for m in twilio.messages.values()] + ["+" + m.to.lstrip("+") for m in infobip.messages.values()]


def test_an_outage_of_the_primary_mid_campaign_fails_over_and_nothing_is_sent_twice(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        sender = sender_for(herald)
        await sender.run(limit=2)  # the first two go through Twilio
        twilio.inject(FakeFault.SERVER_ERROR, 100)  # then Twilio goes down
        await sender.run()
        rows = _rows(herald)
        assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        assert [r.provider for r in rows] == ["twilio", "twilio"] + ["infobip"] * 4
        assert sorted(_received(twilio, infobip)) == sorted(r.mobile_no for r in rows)

    run(tmp_path, fineract, clock, body)


def test_a_429_storm_pauses_the_provider_without_using_up_attempts_until_every_message_is_accepted_once(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        twilio.inject(FakeFault.THROTTLED, 6)
        sender = sender_for(herald)
        for _ in range(6):
            await sender.run()
            sender.gates.reset()  # the storm is short: no failover in this test, only backoff
            clock.advance(seconds=60)
        rows = _rows(herald)
        assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        assert {r.provider for r in rows} == {"twilio"}
        assert {r.attempts for r in rows} == {1}  # "slow down" is not the message's fault
        assert sorted(_received(twilio, infobip)) == sorted(r.mobile_no for r in rows)

    run(tmp_path, fineract, clock, body, twilio_fallback=False)


def test_a_lost_twilio_answer_is_looked_up_not_resent(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        twilio.inject(FakeFault.LOST_ANSWER, 1)  # Twilio queues the first message, herald hears nothing
        sender = sender_for(herald)
        await sender.run(limit=1)
        [first] = _rows(herald)[:1]
        assert (first.status, first.error_code) == (MessageStatus.PENDING, "TIMEOUT")
        assert len(twilio.messages) == 1
        clock.advance(seconds=60)
        await sender.run()
        rows = _rows(herald)
        assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        assert rows[0].external_id in twilio.messages  # adopted, not sent again
        assert sorted(_received(twilio, infobip)) == sorted(r.mobile_no for r in rows)

    run(tmp_path, fineract, clock, body, twilio_fallback=False)


@pytest.mark.parametrize("fault", [FakeFault.LOST_ANSWER, FakeFault.TIMEOUT])
def test_an_unanswered_send_never_goes_to_the_fallback_before_the_primary_is_asked(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, fault: FakeFault
) -> None:
    """Twilio takes (or may take) the message and herald hears nothing: Infobip must not get it blind."""

    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        twilio.inject(fault, 3)
        sender = sender_for(herald)
        await sender.run()
        assert len(infobip.messages) == 0  # nothing failed over blind
        rows = _rows(herald)
        unanswered = [r for r in rows if r.error_code == "TIMEOUT"]
        assert unanswered and all(r.status == MessageStatus.PENDING for r in unanswered)
        for _ in range(4):
            clock.advance(seconds=60)
            sender.gates.reset()
            await sender.run()
        rows = _rows(herald)
        assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        received = _received(twilio, infobip)
        assert sorted(received) == sorted(r.mobile_no for r in rows)  # each number exactly once, across both

    run(tmp_path, fineract, clock, body)


def test_a_crash_between_infobip_accepting_and_herald_recording_sends_once(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        with herald.store.begin() as conn:
            campaigns_rows = message_store.claim_pending(conn, clock.now(), 2, LEASE)
        # The worker sends (Infobip accepts) and dies before recording anything.
        mine = herald.providers.installation
        await herald.providers.named("infobip").send(
            [OutboundMessage(m.id, m.mobile_no, m.body, m.attempts, installation=mine) for m in campaigns_rows]
        )
        assert len(infobip.messages) == 2
        clock.advance(LEASE + timedelta(seconds=1))
        sender = sender_for(herald)
        sender.gate("twilio").breaker.failed(clock.now())  # and Twilio happens to be down: Infobip takes over
        for _ in range(5):
            sender.gate("twilio").breaker.failed(clock.now())
        await sender.run()
        rows = _rows(herald)
        assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        assert sorted(_received(twilio, infobip)) == sorted(r.mobile_no for r in rows)
        assert {r.external_id for r in rows[:2]} == {f"herald-{mine}-{m.id}-1" for m in campaigns_rows}

    run(tmp_path, fineract, clock, body)


def test_a_lost_infobip_answer_is_looked_up_by_messageid(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        for _ in range(5):
            sender_for(herald)  # nothing
        infobip.inject(Injection.LOST_ANSWER, 1)
        sender = sender_for(herald)
        for _ in range(5):
            sender.gate("twilio").breaker.failed(clock.now())  # route everything to Infobip
        await sender.run(limit=2)
        assert len(infobip.messages) == 2
        assert {r.error_code for r in _rows(herald)[:2]} == {"TIMEOUT"}  # no answer in time, as for Twilio
        clock.advance(seconds=60)
        await sender.run()
        rows = _rows(herald)
        assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        assert sorted(_received(twilio, infobip)) == sorted(r.mobile_no for r in rows)

    run(tmp_path, fineract, clock, body)


def test_refused_credentials_fail_no_message_the_fallback_takes_them(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        twilio.inject(FakeFault.BAD_CREDENTIALS, 100)  # someone rotated the Twilio token
        await sender_for(herald).run()
        rows = _rows(herald)
        assert {(r.status, r.provider) for r in rows} == {(MessageStatus.WAITING_FOR_DELIVERY_REPORT, "infobip")}

    run(tmp_path, fineract, clock, body)


def test_refused_credentials_without_a_fallback_hold_the_messages(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def body(herald: Herald, twilio: FakeTwilio, infobip: FakeInfobip) -> None:
        twilio.inject(FakeFault.BAD_CREDENTIALS, 100)
        await sender_for(herald).run()
        rows = _rows(herald)
        # Every message waits, none is failed or counted as an attempt. Those claimed before Twilio's
        # refusals opened the breaker carry its code and wait; on a slow machine a second claim may
        # come after that, and the open breaker leaves the rest unclaimed until it closes.
        assert {(r.status, r.attempts) for r in rows} == {(MessageStatus.PENDING, 0)}
        refused = [r for r in rows if r.error_code is not None]
        assert refused and {r.error_code for r in refused} == {"20003"}
        assert all(r.not_before > clock.now() for r in refused)
        assert not herald.gates["twilio"].accepting(clock.now())  # the breaker holds the rest back

    run(tmp_path, fineract, clock, body, twilio_fallback=False)
