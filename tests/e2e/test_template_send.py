"""A real send through the local Twilio fake: no template, stored or typed, puts a secret into an SMS.

The provider's auth token and the process environment (HERALD_PROVIDERS) carry recognisable fake
secrets; every form the fake Twilio received is searched for them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.fakes.twilio import ACCOUNT_SID, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import campaigns as campaign_table
from herald.store.tables import messages
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder
from tests.template_attacks import ATTACKS, ENV_PROVIDERS, ENV_SECRET, ENVIRONMENT

TOKEN = "twilio-token-secret-9b1e77"


def _campaign(herald: Herald, name: str, message: str) -> int:
    request = {
        "campaignName": name,
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1"},
        "message": message,
        "providerId": "twilio",
    }
    return campaigns.create(CampaignRequest.model_validate(request), **validating(herald)).id


def test_no_template_sends_a_secret_and_a_refused_one_does_not_stop_the_others(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERALD_PROVIDERS", ENV_PROVIDERS)
    fineract.client("Amina", "+254712000201")
    fineract.client(ENVIRONMENT, "+254712000202")  # a client "named" like a template: printed, never rendered

    async def main() -> None:
        async with FakeTwilio(auth_token=TOKEN) as twilio:
            provider = {
                "kind": "twilio",
                "name": "twilio",
                "account_sid": ACCOUNT_SID,
                "auth_token": TOKEN,
                "from_number": "+15005550006",
                "base_url": twilio.url,
                "timeout": 2,
            }
            settings = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([provider]),
            )
            herald = Herald.build(settings, clock)
            try:
                stored = []
                for index, (text, _) in enumerate(ATTACKS):  # as an older herald would have stored them
                    cid = _campaign(herald, f"attack {index}", "Hello {{firstName}}")
                    with herald.store.begin() as conn:
                        conn.execute(update(campaign_table).where(campaign_table.c.id == cid).values(template=text))
                    stored.append(cid)
                plain = _campaign(herald, "plain", "Hello {{firstName}}")
                for cid in [*stored, plain]:
                    campaigns.activate(cid, **activating(herald))
                outbound_for(herald).run_due()
                await sender_for(herald).run()
                with herald.store.connect() as conn:
                    made = conn.execute(select(messages.c.campaign_id, messages.c.body)).all()
            finally:
                await herald.close_providers()
                herald.close()
            bodies = sorted(m["body"] for m in twilio.messages.values())
            assert bodies == sorted(["Hello Amina", "Hello " + ENVIRONMENT])
            assert {campaign for campaign, _ in made} == {plain}
            sent = json.dumps([form for _, _, form in twilio.requests])
            assert ENV_SECRET not in sent and TOKEN not in sent and "auth_token" not in sent

    asyncio.run(main())
