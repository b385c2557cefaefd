"""Several Fineract tenants: each campaign reads only its own tenant's core-banking database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.campaign import Campaign
from herald.errors import ConfigurationError, ValidationError
from herald.services import campaigns, offices
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder


@pytest.fixture
def two_tenants(tmp_path: Path, clock: ManualClock) -> tuple[Herald, FineractBuilder, FineractBuilder]:
    nairobi = FineractBuilder(f"sqlite:///{tmp_path / 'nairobi.sqlite'}")
    kampala = FineractBuilder(f"sqlite:///{tmp_path / 'kampala.sqlite'}")
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=nairobi.url,
        tenant="nairobi",
        tenants=json.dumps({"kampala": kampala.url}),
    )
    return Herald.build(settings, clock), nairobi, kampala


def _everyone(herald: Herald, tenant: str | None, name: str) -> Campaign:
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": name,
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": "Hello {{firstName}}",
                "tenantId": tenant,
            }
        ),
        **validating(herald),
    )
    return campaigns.activate(c.id, **activating(herald))


def test_each_campaign_messages_only_its_own_tenants_clients(
    two_tenants: tuple[Herald, FineractBuilder, FineractBuilder],
) -> None:
    herald, nairobi, kampala = two_tenants
    nairobi.client("Wanjiku", "+254712000001")
    kampala.client("Nakato", "0772000002")
    # Kampala's head office: UG numbers
    offices.set_profile(
        1,
        "UG",
        "Africa/Kampala",
        store=herald.store,
        corebanks=herald.corebanks,
        offices=herald.offices,
        tenant="kampala",
    )
    k = _everyone(herald, "kampala", "Kampala everyone")
    n = _everyone(herald, None, "Nairobi everyone")
    assert (k.tenant, n.tenant) == ("kampala", "nairobi")
    outbound_for(herald).run_due()
    with herald.store.connect() as conn:
        rows = {(r.campaign_id, r.body, r.mobile_no) for r in conn.execute(select(messages))}
    assert rows == {(k.id, "Hello Nakato", "+256772000002"), (n.id, "Hello Wanjiku", "+254712000001")}


def test_an_unknown_tenant_is_refused(two_tenants: tuple[Herald, FineractBuilder, FineractBuilder]) -> None:
    herald, _, _ = two_tenants
    with pytest.raises(ValidationError, match="Unknown tenant 'mombasa'") as err:
        _everyone(herald, "mombasa", "Nope")
    assert err.value.field == "tenantId"
    with pytest.raises(ConfigurationError, match="HERALD_TENANTS"):
        herald.corebanks.engine("mombasa")


def test_the_office_check_uses_the_campaigns_tenant(
    two_tenants: tuple[Herald, FineractBuilder, FineractBuilder],
) -> None:
    herald, _, kampala = two_tenants
    gulu = kampala.office("Gulu")  # exists in Kampala's database only
    with pytest.raises(ValidationError, match="does not exist"):
        campaigns.create(
            CampaignRequest.model_validate(
                {
                    "campaignName": "Gulu",
                    "triggerType": "direct",
                    "runReportId": 166,
                    "paramValue": {"officeId": str(gulu)},
                    "message": "Hi",
                }
            ),
            **validating(herald),
        )
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "Gulu",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": str(gulu)},
                "message": "Hi",
                "tenantId": "kampala",
            }
        ),
        **validating(herald),
    )
    assert c.params["officeId"] == gulu


def test_bad_tenants_json_is_a_configuration_error(tmp_path: Path) -> None:
    from herald.config import load_settings

    with pytest.raises(ConfigurationError, match="HERALD_TENANTS"):
        load_settings(tenants='["not", "a", "mapping"]')
