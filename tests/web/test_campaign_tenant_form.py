"""Saving the campaign form for a campaign of a second tenant keeps that tenant (the form has no tenant field)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.server import create_app
from herald.services import campaigns
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from tests.campaign_parts import validating
from tests.web.conftest import DemoCorebank, csrf_of, herald_settings, log_in
from tests.web.test_pages import SCHEDULED


@pytest.fixture
def herald(tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, clock: ManualClock) -> Iterator[Herald]:
    """The web tests' installation with a second Fineract tenant, "kampala" (the demo database again)."""
    for file in herald_template.glob("herald.sqlite*"):
        shutil.copy(file, tmp_path / file.name)
    one_tenant = herald_settings(tmp_path, demo_corebank)
    settings = Settings(
        **one_tenant.model_dump(exclude={"tenants"}), tenants=json.dumps({"kampala": demo_corebank.url})
    )
    h = Herald.build(settings, clock)
    yield h
    h.close()


@pytest.fixture
def client(herald: Herald) -> Iterator[TestClient]:
    with TestClient(create_app(herald), raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def test_saving_the_edit_form_keeps_the_campaigns_tenant(client: TestClient, herald: Herald) -> None:
    request = {
        "campaignName": SCHEDULED["campaignName"],
        "triggerType": "schedule",
        "runReportId": 170,
        "paramValue": {"officeId": 1, "loanOfficerId": -1, "fromX": -3, "toY": -1},
        "message": SCHEDULED["message"],
        "recurrence": SCHEDULED["recurrence"],
        "recurrenceStartDate": SCHEDULED["recurrenceStartDate"],
        "tenantId": "kampala",
    }
    campaign = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client, f"/campaigns/{campaign.id}/edit")
    edited = {**SCHEDULED, "campaignName": "Due very soon", "csrf_token": token, "action": "save"}
    assert client.post(f"/campaigns/{campaign.id}/edit", data=edited).status_code == 303
    after = campaigns.get(campaign.id, store=herald.store)
    assert (after.name, after.tenant) == ("Due very soon", "kampala")


def test_the_form_saves_a_sender_id_shows_it_again_and_refuses_one_handsets_cannot_show(
    client: TestClient, herald: Herald
) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client, "/campaigns/new")
    before = {c.id for c in campaigns.list_all(store=herald.store)}
    form = {**SCHEDULED, "csrf_token": token, "action": "save"}
    refused = client.post("/campaigns/new", data={**form, "senderId": "MFI-Bank"})
    assert refused.status_code == 422 and "&#39;-&#39;" in refused.text  # the form again, saying which character
    assert 'value="MFI-Bank"' in refused.text  # kept as typed
    assert {c.id for c in campaigns.list_all(store=herald.store)} == before
    saved = client.post("/campaigns/new", data={**form, "senderId": "MFIBank"})
    assert saved.status_code == 303
    [campaign] = [c for c in campaigns.list_all(store=herald.store) if c.id not in before]
    assert campaign.sender_id == "MFIBank"
    assert 'name="senderId" value="MFIBank"' in client.get(f"/campaigns/{campaign.id}/edit").text
