"""A client's STOP sent over an operator's SMPP link reaches herald's opt-out list, like Twilio's and Infobip's."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.fakes.smsc import FakeSmsc
from herald.providers import smpp_pdu as p
from herald.providers.base import OutboundMessage
from herald.store import optouts
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder


def _herald(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, smsc: FakeSmsc, **extra: Any) -> Herald:
    """A Herald whose one provider is an SMPP link to the fake SMSC."""
    link = {
        "kind": "smpp",
        "name": "operator",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "herald",
        "password": "secret",
        "source_addr": "MFI",
    }
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([link]),
        **extra,
    )
    return Herald.build(settings, clock)


def test_a_stop_over_smpp_puts_the_number_on_the_opt_out_list(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None).start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc)
            [sent] = await herald.providers.named("operator").send([OutboundMessage(1, "+254712000001", "Hello")])
            assert sent.accepted  # the bind is up
            stop = p.ShortMessage(
                source_addr="254712000009",
                destination_addr="MFI",
                short_message=b"STOP",
                source_addr_ton=1,
                source_addr_npi=1,
            )
            assert await smsc.deliver(stop) == p.ESME_ROK
            ignored = p.ShortMessage(
                source_addr="254712000008",
                destination_addr="MFI",
                short_message=b"Thanks!",
                source_addr_ton=1,
                source_addr_npi=1,
            )
            assert await smsc.deliver(ignored) == p.ESME_ROK
            with herald.store.connect() as conn:
                assert optouts.all_numbers(conn) == {"+254712000009"}
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    asyncio.run(main())


def test_an_smsc_that_throttles_slows_herald_down_without_using_up_attempts(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """ESME_RTHROTTLED and ESME_RMSGQFUL are "slow down", not failures: every message is sent, none spent."""
    from sqlalchemy import select

    from herald.domain.message import MessageStatus
    from herald.fakes.smsc import SmscFault
    from herald.services import campaigns
    from herald.services.campaigns import CampaignRequest
    from herald.store.tables import messages
    from herald.worker import outbound_for, sender_for

    for i in range(3):
        fineract.client(f"Client{i}", f"+25471200010{i}")

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None).start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc, max_attempts=2)
            request = {
                "campaignName": "Due",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": "Hello {{firstName}}",
                "providerId": "operator",
            }
            c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
            campaigns.activate(c.id, **activating(herald))
            await asyncio.to_thread(outbound_for(herald).run_due)
            for _ in range(4):  # more "slow down" answers than the two attempts a message has
                smsc.inject(SmscFault.THROTTLED)
                smsc.inject(SmscFault.QUEUE_FULL)
            sender = sender_for(herald)
            for _ in range(12):
                await sender.run()
                clock.advance(seconds=120)
            with herald.store.connect() as conn:
                rows = conn.execute(select(messages.c.status, messages.c.attempts)).all()
            assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
            assert {r.attempts for r in rows} == {1}
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    asyncio.run(main())
