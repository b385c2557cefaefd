"""An SMSC's replies and receipts in every shape SMPP 3.4 allows reach herald's opt-out list and messages.

The fake SMSC sends each shape over real TCP to a whole herald (its store on SQLite, the real
adapter, the sinks the composition root wires): a STOP in message_payload or as data_sm opts the
client out, and a receipt so carried moves its campaign message to Delivered.
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
from herald.domain.message import MessageStatus
from herald.domain.segments import Alphabet
from herald.fakes.smsc import Carrier, FakeSmsc
from herald.providers import smpp_pdu as p
from herald.providers.base import OutboundMessage
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.services.preview import preview
from herald.store import optouts
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, previewing, validating
from tests.fineract_builder import FineractBuilder


def _herald(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, smsc: FakeSmsc, **link: Any) -> Herald:
    """A Herald whose one provider is an SMPP link to the fake SMSC."""
    provider = {
        "kind": "smpp",
        "name": "operator",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "herald",
        "password": "secret",
        "source_addr": "MFI",
    } | link
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([provider]),
    )
    return Herald.build(settings, clock)


@pytest.mark.parametrize(
    ("carrier", "alphabet", "text"),
    [
        (Carrier.MESSAGE_PAYLOAD, "gsm7", "STOP"),
        (Carrier.DATA_SM, "gsm7", "STOP"),
        (Carrier.DATA_SM, "latin1", "stop"),
        (Carrier.SHORT_MESSAGE, "ascii", "Stop"),
    ],
)
def test_a_stop_in_any_carrier_and_alphabet_puts_the_number_on_the_opt_out_list(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, carrier: Carrier, alphabet: str, text: str
) -> None:
    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None, alphabet=Alphabet(alphabet)).start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc, default_alphabet=alphabet)
            [sent] = await herald.providers.named("operator").send([OutboundMessage(1, "+254712000001", "Hello")])
            assert sent.accepted  # the bind is up
            assert await smsc.reply("254712000009", text, carrier=carrier) == p.ESME_ROK
            assert await smsc.reply("254712000008", "Thanks @ you!", carrier=carrier) == p.ESME_ROK
            with herald.store.connect() as conn:
                assert optouts.all_numbers(conn) == {"+254712000009"}
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("carrier", "tlvs"),
    [(Carrier.MESSAGE_PAYLOAD, False), (Carrier.DATA_SM, True), (Carrier.DATA_SM, False)],
    ids=["payload-text-only", "data_sm-tlvs-no-text", "data_sm-text-only"],
)
def test_receipts_in_message_payload_or_data_sm_move_campaign_messages_to_delivered(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, carrier: Carrier, tlvs: bool
) -> None:
    for i in range(3):
        fineract.client(f"Client{i}", f"+25471200010{i}")

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None, receipt_carrier=carrier, receipt_tlvs=tlvs).start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc)
            request = {
                "campaignName": "Hello",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": "Hello {{firstName}} @ £5",
                "providerId": "operator",
            }
            c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
            campaigns.activate(c.id, **activating(herald))
            await asyncio.to_thread(outbound_for(herald).run_due)
            await sender_for(herald).run()
            accepted = [s for s in smsc.submitted if s.message_id]
            assert len(accepted) == 3  # counted at the SMSC: each message once
            assert sorted(s.text for s in accepted) == [f"Hello Client{i} @ £5" for i in range(3)]
            for submitted in accepted:
                await smsc.settle(submitted.message_id, "DELIVRD")
            with herald.store.connect() as conn:
                rows = conn.execute(select(messages.c.status, messages.c.external_id)).all()
            assert {r.external_id for r in rows} == {s.message_id for s in accepted}
            assert {r.status for r in rows} == {MessageStatus.DELIVERED}
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("alphabet", "template", "encoding"),
    [
        ("gsm7", "Karibu {{firstName}}, ada ni £5 @ tawi", "GSM-7"),  # every character in GSM 03.38
        ("latin1", "Karibu {{firstName}}, ada ni €5 kwa tawi", "UCS-2"),  # € is GSM-7 but not Latin-1
        ("ascii", "Karibu {{firstName}}, ada ni £5 kwa tawi la Zoé", "UCS-2"),  # £ and é are not ASCII
    ],
)
def test_the_preview_and_the_stored_segments_count_what_the_link_really_sends(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, alphabet: str, template: str, encoding: str
) -> None:
    """A text the link cannot carry in data_coding 0 goes UCS-2: the cost an officer is shown and the
    segments herald records are those parts, counted at the SMSC."""
    for i in range(2):
        fineract.client(f"Client{i}", f"+25471200020{i}")
    long_template = template + " " + "na asante sana kwa kulipa mapema " * 2  # over 70 UCS-2 units: parts

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None, alphabet=Alphabet(alphabet)).start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc, default_alphabet=alphabet)
            request = {
                "campaignName": "Ada",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": long_template,
                "providerId": "operator",
            }
            c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
            shown = preview(c, **previewing(herald))
            campaigns.activate(c.id, **activating(herald))
            await asyncio.to_thread(outbound_for(herald).run_due)
            await sender_for(herald).run()
            with herald.store.connect() as conn:
                stored = conn.execute(select(messages.c.encoding, messages.c.segments)).all()
            parts = [s for s in smsc.submitted if s.message_id]
            codings = {s.sm.data_coding for s in parts}
            assert codings == {p.DC_UCS2 if encoding == "UCS-2" else p.DC_DEFAULT}
            assert {r.encoding for r in stored} == {encoding}
            assert sum(r.segments for r in stored) == len(parts) == shown.segments  # counted at the SMSC
            assert all(s.text.startswith("Karibu Client") for s in parts if s.sm.esm_class == 0)
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    asyncio.run(main())
