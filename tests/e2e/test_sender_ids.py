"""A sender id per campaign, as the far side receives it: Twilio's From, Infobip's sender, SMPP's source_addr.

Each campaign is created through the campaign service, materialized and sent by the real send job
to a fake that speaks the provider's wire format; what the fake received is what is asserted. A
campaign without a sender id keeps the provider's own sender, so two campaigns on one provider
send under two names in the same pass.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.errors import ValidationError
from herald.fakes.infobip import FakeInfobip
from herald.fakes.smsc import STAT_STATES, FakeSmsc
from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

TWILIO_NUMBER = "+15005550006"


def _providers(twilio: FakeTwilio, infobip_url: str, smsc: FakeSmsc) -> list[dict[str, Any]]:
    return [
        {
            "kind": "twilio",
            "name": "twilio",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": TWILIO_NUMBER,
            "base_url": twilio.url,
        },
        {"kind": "infobip", "name": "infobip", "base_url": infobip_url, "api_key": "ib-key", "sender": "HeraldIB"},
        {
            "kind": "smpp",
            "name": "smpp",
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "herald",
            "password": "secret",
            "source_addr": "LINK",
        },
    ]


def _campaign(herald: Herald, name: str, provider: str, sender_id: str | None, office: int) -> None:
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": name,
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": str(office)},
                "message": "Hello {{firstName}}",
                "providerId": provider,
                "senderId": sender_id,
            }
        ),
        **validating(herald),
    )
    campaigns.activate(c.id, **activating(herald))


def _send_all(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, plan: list[tuple[str, str | None]]) -> Any:
    """Send one campaign per (provider, sender id) in `plan`, each to its own office's one client; the fakes."""
    offices = [fineract.office(f"Branch {i}") for i in range(len(plan))]
    for i, office in enumerate(offices):
        fineract.client(f"C{i}", f"+2547120003{i:02d}", office_id=office)

    async def main() -> tuple[FakeTwilio, FakeInfobip, FakeSmsc]:
        twilio, infobip = FakeTwilio(), FakeInfobip("ib-key")
        smsc = await FakeSmsc(receipt_after=None).start()
        async with twilio:
            infobip_url = await infobip.start()
            try:
                settings = Settings(
                    home=tmp_path,
                    database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                    corebank_url=fineract.url,
                    providers=json.dumps(_providers(twilio, infobip_url, smsc)),
                )
                herald = Herald.build(settings, clock)
                for i, ((provider, sender_id), office) in enumerate(zip(plan, offices, strict=True)):
                    _campaign(herald, f"campaign {i}", provider, sender_id, office)
                await asyncio.to_thread(outbound_for(herald).run_due)
                counts = await sender_for(herald).run()
                assert counts["accepted"] == len(plan)
                await herald.providers.close()
                herald.close()
            finally:
                await infobip.stop()
                await smsc.close()
        return twilio, infobip, smsc

    return asyncio.run(main())


def test_each_provider_receives_the_campaigns_sender_id_or_its_own(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    plan = [
        ("twilio", "MFIBank"),
        ("twilio", None),
        ("twilio", "+256700000001"),
        ("infobip", "Kampala Br"),
        ("infobip", "+256700000002"),
        ("infobip", None),
        ("smpp", "MFIBank"),
        ("smpp", "+256700000003"),
        ("smpp", "12345"),
        ("smpp", None),
    ]
    twilio, infobip, smsc = _send_all(tmp_path, fineract, clock, plan)
    assert sorted(m["from"] for m in twilio.messages.values()) == sorted(["MFIBank", TWILIO_NUMBER, "+256700000001"])
    # Infobip takes numbers as international digits without "+".
    assert sorted(m.sender for m in infobip.messages.values()) == sorted(["Kampala Br", "256700000002", "HeraldIB"])
    # SMPP: TON 5 (alphanumeric) for a name, TON 1 / NPI 1 (international, E.164) for a number, TON 6
    # (abbreviated) for a short code.
    received = sorted((s.sm.source_addr, s.sm.source_addr_ton, s.sm.source_addr_npi) for s in smsc.submitted)
    assert received == sorted([("MFIBank", 5, 0), ("256700000003", 1, 1), ("12345", 6, 0), ("LINK", 5, 0)])


@pytest.mark.parametrize(
    ("sender_id", "says"),
    [
        ("MicroFinance Bank", "at most 11"),
        ("MFI-Bank", "'-'"),
        ("+1", "3 to 15"),
        ("+" + "1" * 18, "3 to 15"),
        ("254712345678", "international"),
    ],
)
def test_a_sender_id_the_provider_would_refuse_is_refused_at_creation_and_nothing_is_stored(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, sender_id: str, says: str
) -> None:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([{"kind": "simulator", "name": "sim"}]),
    )
    herald = Herald.build(settings, clock)
    with pytest.raises(ValidationError) as refused:
        _campaign(herald, "bad sender", "sim", sender_id, 1)
    assert refused.value.field == "senderId" and says in str(refused.value)
    assert campaigns.list_all(store=herald.store) == []


def test_an_smpp_only_length_is_refused_when_a_fallback_could_not_send_it(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """A 20-digit number suits an SMPP link but not Twilio: with Twilio as fallback it is refused."""
    link = {"kind": "smpp", "name": "smpp", "host": "127.0.0.1", "port": 1, "system_id": "h", "password": "p"}
    link["source_addr"] = "LINK"
    twilio = {
        "kind": "twilio",
        "name": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": TWILIO_NUMBER,
    }
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([link, twilio]),
    )
    herald = Herald.build(settings, clock)
    number = "+" + "1" * 20
    base = {"campaignName": "x", "triggerType": "direct", "runReportId": 166, "paramValue": {"officeId": "1"}}
    request = {**base, "message": "Hi", "providerId": "smpp", "senderId": number}
    alone = campaigns.draft(CampaignRequest.model_validate(request), **_drafting(herald))
    assert alone.sender_id == number
    with pytest.raises(ValidationError) as refused:
        campaigns.draft(
            CampaignRequest.model_validate({**request, "fallbackProviderId": "twilio"}), **_drafting(herald)
        )
    assert refused.value.field == "senderId" and "twilio" in str(refused.value)


def _drafting(herald: Herald) -> dict[str, Any]:
    return {
        "corebanks": herald.corebanks,
        "providers": herald.providers,
        "clock": herald.clock,
        "calendar": herald.calendar,
    }


def test_an_smpp_receipt_asked_for_with_query_sm_names_the_campaigns_source_address(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """An SMSC finds a message by its id and the source address it came from: a status query for a
    message sent under the campaign's sender id must name that address, not the link's."""
    fineract.client("Amina", "+254712000399")

    async def main() -> MessageStatus:
        smsc = await FakeSmsc(receipt_after=None).start()  # no receipt is pushed: herald has to ask
        try:
            link = _providers(FakeTwilio(), "http://127.0.0.1:1", smsc)[2]
            settings = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([link]),
            )
            herald = Herald.build(settings, clock)
            _campaign(herald, "branded", "smpp", "MFIBank", 1)
            await asyncio.to_thread(outbound_for(herald).run_due)
            assert (await sender_for(herald).run())["accepted"] == 1
            [submitted] = smsc.submitted
            submitted.state, submitted.done = STAT_STATES["DELIVRD"], datetime.now(UTC)
            clock.advance(seconds=herald.settings.reports_poll_after + 1)  # a pushing link is asked only then
            await puller_for(herald).pull()
            with herald.store.connect() as conn:
                status = conn.execute(select(messages.c.status)).scalar_one()
            await herald.providers.close()
            herald.close()
            return MessageStatus(status)
        finally:
            await smsc.close()

    assert asyncio.run(main()) is MessageStatus.DELIVERED
