"""Templates are data in the UI too: the live preview, create and edit refuse every attack, naming the tag."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.services import campaigns
from herald.services.auth import Role
from tests.template_attacks import ATTACKS, ENV_PROVIDERS, ENV_SECRET
from tests.web.conftest import csrf_of, log_in
from tests.web.test_access import pending_campaign

DIRECT = {
    "campaignName": "Everyone",
    "triggerType": "direct",
    "runReportId": "166",
    "param.officeId": "1",
    "param.loanOfficerId": "-1",
    "providerId": "simulator",
}


@pytest.fixture(autouse=True)
def _secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_PROVIDERS", ENV_PROVIDERS)


def test_the_live_preview_refuses_every_attack_naming_the_tag(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    for text, tag in ATTACKS:
        fragment = client.post("/campaigns/form-preview", data={**DIRECT, "message": text, "csrf_token": token})
        assert fragment.status_code == 200
        shown = html.unescape(fragment.text)
        assert 'role="alert"' in fragment.text and tag in shown, (text, shown)
        assert ENV_SECRET not in shown and 'data-testid="audience"' not in fragment.text


def test_create_and_edit_through_the_form_refuse_every_attack(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    for text, tag in ATTACKS:
        data = {**DIRECT, "campaignName": "Attack", "message": text, "csrf_token": token, "action": "save"}
        for path in ("/campaigns/new", f"/campaigns/{campaign_id}/edit"):
            answer = client.post(path, data=data)
            assert answer.status_code == 422, (path, text)
            assert tag in html.unescape(answer.text) and ENV_SECRET not in html.unescape(answer.text)
    assert [c.template for c in campaigns.list_all(store=herald.store)] == ["Hello {{firstName}}"]
