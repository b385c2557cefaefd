"""Templates are data: every attack in tests/template_attacks.py is refused at create, edit and preview.

The process environment carries a recognisable fake secret in HERALD_PROVIDERS, as a real
installation carries its provider credentials; no answer may ever contain it.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from herald.app import Herald
from herald.store.tables import campaigns
from tests.api.conftest import SECRETS, assert_error, campaign_body, create_campaign
from tests.template_attacks import ATTACKS, ENV_PROVIDERS, ENV_SECRET, ENVIRONMENT


@pytest.fixture(autouse=True)
def _secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_PROVIDERS", ENV_PROVIDERS)


def _no_secret(text: str) -> None:
    for secret in (ENV_SECRET, *SECRETS):
        assert secret not in text


def test_every_attack_is_refused_at_create_naming_the_tag(client: TestClient, manager: dict[str, str]) -> None:
    for text, tag in ATTACKS:
        response = client.post("/api/v1/campaigns", json=campaign_body(message=text), headers=manager)
        error = assert_error(response, 422, "validation_error", "message")
        assert tag in error["message"], (text, error)
        _no_secret(response.text)
    assert client.get("/api/v1/campaigns", headers=manager).json() == []


def test_every_attack_is_refused_at_edit_and_the_stored_template_is_kept(
    client: TestClient, manager: dict[str, str]
) -> None:
    cid = create_campaign(client, manager)["id"]
    for text, tag in ATTACKS:
        response = client.put(f"/api/v1/campaigns/{cid}", json=campaign_body(message=text), headers=manager)
        error = assert_error(response, 422, "validation_error", "message")
        assert tag in error["message"], (text, error)
        _no_secret(response.text)
    assert client.get(f"/api/v1/campaigns/{cid}", headers=manager).json()["message"] == "Hello {{firstName}}"


def test_a_template_stored_before_the_fix_is_refused_at_preview(
    client: TestClient, herald: Herald, manager: dict[str, str]
) -> None:
    cid = create_campaign(client, manager)["id"]
    for text, tag in ATTACKS:
        with herald.store.begin() as conn:  # as an older herald would have stored it
            conn.execute(update(campaigns).where(campaigns.c.id == cid).values(template=text))
        response = client.post(f"/api/v1/campaigns/{cid}/preview", headers=manager)
        error = assert_error(response, 422, "validation_error", "message")
        assert tag in error["message"], (text, error)
        _no_secret(response.text)


def test_the_issue_s_attack_never_prints_the_environment(client: TestClient, manager: dict[str, str]) -> None:
    response = client.post("/api/v1/campaigns", json=campaign_body(message=ENVIRONMENT), headers=manager)
    assert response.status_code == 422
    _no_secret(response.text)


def test_the_mobile_number_is_not_a_template_variable(client: TestClient, manager: dict[str, str]) -> None:
    body = campaign_body(message="Your number: {{mobileNo}}")
    response = client.post("/api/v1/campaigns", json=body, headers=manager)
    error = assert_error(response, 422, "validation_error", "message")
    assert "{{mobileNo}} is not provided" in error["message"]
    rules = client.get("/api/v1/rules", headers=manager).json()
    assert rules and all("mobileNo" not in json.dumps(r.get("variables", [])) for r in rules)


def test_sections_over_rule_variables_still_work(client: TestClient, manager: dict[str, str]) -> None:
    message = "Hello {{firstName}}{{#middleName}} {{middleName}}{{/middleName}}{{^middleName}}!{{/middleName}}"
    cid = create_campaign(client, manager, message=message)["id"]
    samples = client.post(f"/api/v1/campaigns/{cid}/preview", headers=manager).json()["samples"]
    assert {s["body"] for s in samples} == {"Hello Amina!", "Hello Baraka!", "Hello Chebet!"}


def test_a_message_longer_than_ten_segments_is_invalid_never_sent(
    client: TestClient, manager: dict[str, str]
) -> None:
    message = "x" * 1_530 + " {{firstName}}"  # ten GSM-7 segments hold 1,530 characters
    cid = create_campaign(client, manager, message=message)["id"]
    preview = client.post(f"/api/v1/campaigns/{cid}/preview", headers=manager).json()
    assert preview["sendable"] == 0 and preview["cost"] == 0
    assert preview["invalidReasons"] == {"too long: 11 segments, at most 10": 2, "no mobile number": 1}
    short = create_campaign(client, manager, campaignName="Short", message="x" * 1_500 + " {{firstName}}")
    assert client.post(f"/api/v1/campaigns/{short['id']}/preview", headers=manager).json()["sendable"] == 2
