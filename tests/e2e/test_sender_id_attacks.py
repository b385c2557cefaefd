"""Sender ids under attack: renamed while a message is in doubt, after a restart, through fallbacks.

Each case was a way to send a client the same SMS twice or to lose a receipt, found by an outside
review of the first version; each runs the real services against the fakes and counts at the fake.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.errors import ValidationError
from herald.fakes.infobip import FakeInfobip
from herald.fakes.smsc import FakeSmsc
from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeFault, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, drafting, validating
from tests.fineract_builder import FineractBuilder

NUMBER = "+15005550006"


def _req(**kw: Any) -> CampaignRequest:
    base = {
        "campaignName": "c",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1"},
        "message": "Hello {{firstName}}",
        "providerId": "twilio",
    }
    return CampaignRequest.model_validate(base | kw)


def test_a_sender_id_changed_while_a_message_is_in_doubt_never_sends_it_twice(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    fineract.client("Amina", "+254712000399")

    async def main() -> int:
        async with FakeTwilio() as twilio:
            tw = {
                "kind": "twilio",
                "name": "twilio",
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "from_number": NUMBER,
                "base_url": twilio.url,
            }
            s = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([tw]),
            )
            herald = Herald.build(s, clock)
            c = campaigns.create(_req(senderId="MFIBank"), **validating(herald))
            campaigns.activate(c.id, **activating(herald))
            await asyncio.to_thread(outbound_for(herald).run_due)
            twilio.inject(FakeFault.LOST_ANSWER, 1)
            sender = sender_for(herald)
            await sender.run()
            assert len(twilio.messages) == 1  # Twilio has it, herald is in doubt
            # The manager closes the campaign, fixes the sender id, reactivates.
            campaigns.close(c.id, store=herald.store, clock=herald.clock)
            campaigns.edit(c.id, _req(senderId="MFI Bank"), **validating(herald))
            campaigns.reactivate(c.id, **activating(herald))
            clock.advance(seconds=120)
            await sender_for(herald).run()
            await herald.providers.close()
            herald.close()
            return len(twilio.messages)

    assert asyncio.run(main()) == 1, "the client got the SMS twice"


def test_a_sender_id_the_global_fallback_could_not_send_is_refused(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    link = {
        "kind": "smpp",
        "name": "smpp",
        "host": "127.0.0.1",
        "port": 1,
        "system_id": "h",
        "password": "p",
        "source_addr": "LINK",
    }
    tw = {
        "kind": "twilio",
        "name": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": NUMBER,
    }
    s = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([link, tw]),
        fallback_provider="twilio",
    )
    herald = Herald.build(s, clock)
    with pytest.raises(ValidationError) as refused:
        campaigns.draft(_req(providerId="smpp", senderId="+" + "1" * 20), **drafting(herald))
    assert refused.value.field == "senderId" and "twilio" in str(refused.value)


@pytest.mark.parametrize("snd", [None, "MFIBank"])
def test_an_smpp_receipt_is_still_pulled_after_a_restart_forgot_the_messages_address(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, snd: str | None
) -> None:
    from datetime import UTC, datetime

    from herald.domain.message import MessageStatus
    from herald.fakes.smsc import STAT_STATES
    from herald.worker import puller_for

    fineract.client("Amina", "+254712000399")

    async def main() -> MessageStatus:
        smsc = await FakeSmsc(receipt_after=None).start()
        try:
            link = {
                "kind": "smpp",
                "name": "smpp",
                "host": "127.0.0.1",
                "port": smsc.port,
                "system_id": "herald",
                "password": "secret",
                "source_addr": "LINK",
            }
            s = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([link]),
            )
            herald = Herald.build(s, clock)
            c = campaigns.create(_req(providerId="smpp", senderId=snd), **validating(herald))
            campaigns.activate(c.id, **activating(herald))
            await asyncio.to_thread(outbound_for(herald).run_due)
            assert (await sender_for(herald).run())["accepted"] == 1
            await herald.providers.close()
            herald.close()
            # worker restarts
            herald = Herald.build(s, clock)
            [submitted] = smsc.submitted
            submitted.state, submitted.done = STAT_STATES["DELIVRD"], datetime.now(UTC)
            for _ in range(3):
                clock.advance(seconds=herald.settings.reports_poll_after + 1)
                await puller_for(herald).pull()
            with herald.store.connect() as conn:
                status = conn.execute(select(messages.c.status)).scalar_one()
            await herald.providers.close()
            herald.close()
            return MessageStatus(status)
        finally:
            await smsc.close()

    assert asyncio.run(main()) is MessageStatus.DELIVERED


def test_infobip_gets_one_entry_per_sender_for_the_same_text(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    a = fineract.office("A")
    b = fineract.office("B")
    fineract.client("X", "+254712000301", office_id=a)
    fineract.client("Y", "+254712000302", office_id=b)

    async def main() -> list[tuple[str, str]]:
        infobip = FakeInfobip("ib-key")
        url = await infobip.start()
        try:
            ib = {"kind": "infobip", "name": "infobip", "base_url": url, "api_key": "ib-key", "sender": "HeraldIB"}
            s = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([ib]),
            )
            herald = Herald.build(s, clock)
            for i, (office, snd) in enumerate([(a, "MFIBank"), (b, "+256700000002")]):
                c = campaigns.create(
                    _req(
                        campaignName=f"c{i}",
                        providerId="infobip",
                        senderId=snd,
                        message="Pay today",
                        paramValue={"officeId": str(office)},
                    ),
                    **validating(herald),
                )
                campaigns.activate(c.id, **activating(herald))
            await asyncio.to_thread(outbound_for(herald).run_due)
            assert (await sender_for(herald).run())["accepted"] == 2
            await herald.providers.close()
            herald.close()
            return sorted((m.sender, m.to) for m in infobip.messages.values())
        finally:
            await infobip.stop()

    assert asyncio.run(main()) == [("256700000002", "254712000302"), ("MFIBank", "254712000301")]


@pytest.mark.parametrize("second", ["MFIBank", "MFI Bank"])
def test_a_gateway_sender_id_changed_while_a_message_is_in_doubt_never_sends_it_twice(
    second: str, tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    from herald.services import gateway
    from herald.services.gateway import GatewayMessage, GatewaySettings

    async def main() -> int:
        async with FakeTwilio() as twilio:
            tw = {
                "kind": "twilio",
                "name": "twilio",
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "from_number": NUMBER,
                "base_url": twilio.url,
            }
            base = dict(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([tw]),
                gateway_provider="twilio",
            )
            s = Settings(**base, gateway_sender_ids='{"default": "MFIBank"}')
            herald = Herald.build(s, clock)
            gateway.accept(
                "default",
                [GatewayMessage(1, "+254712000399", "Your loan is due", None)],
                store=herald.store,
                clock=herald.clock,
                settings=GatewaySettings.of(s),
            )
            twilio.inject(FakeFault.LOST_ANSWER, 1)
            await sender_for(herald).run()
            assert len(twilio.messages) == 1
            await herald.providers.close()
            herald.close()
            # operator renames the sender id and restarts; Fineract polls the report
            s2 = Settings(**base, gateway_sender_ids=json.dumps({"default": second}))
            herald = Herald.build(s2, clock)
            gateway.report("default", [1], store=herald.store, clock=herald.clock, settings=GatewaySettings.of(s2))
            clock.advance(seconds=120)
            await sender_for(herald).run()
            await herald.providers.close()
            herald.close()
            return len(twilio.messages)

    assert asyncio.run(main()) == 1, "the client got the SMS twice"
