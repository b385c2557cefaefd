"""REST rules with their select choices from the core bank, and providers with their live health, never secrets."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import SECRETS, Corebank, assert_error


def test_every_rule_is_listed_with_its_parameters_and_variables(client: TestClient, viewer: dict[str, str]) -> None:
    rules = client.get("/api/v1/rules", headers=viewer).json()
    assert [r["id"] for r in rules if not r["triggered"]] == list(range(166, 179))
    active = next(r for r in rules if r["id"] == 166)
    assert [p["name"] for p in active["parameters"]] == ["officeId", "loanOfficerId"]
    assert "firstName" in active["variables"]
    only_triggered = client.get("/api/v1/rules", params={"triggered": True}, headers=viewer).json()
    assert only_triggered and all(r["triggered"] and r["events"] for r in only_triggered)


def test_a_rule_offers_offices_in_hierarchy_and_the_special_officer_values(
    client: TestClient, viewer: dict[str, str], corebank: Corebank
) -> None:
    rule = client.get("/api/v1/rules/166", headers=viewer).json()
    choices = {p["name"]: p["choices"] for p in rule["parameters"]}
    assert [c["label"] for c in choices["officeId"]] == ["Head Office", "..Nairobi", "....Westlands"]
    assert choices["loanOfficerId"] == [
        {"value": -1, "label": "All"},
        {"value": -10, "label": "No officer"},
        {"value": corebank.officer, "label": "Achieng Otieno"},
    ]


def test_loan_officers_are_those_of_the_office_and_its_sub_offices(
    client: TestClient, viewer: dict[str, str], corebank: Corebank
) -> None:
    def officers(office: int) -> list[int]:
        rule = client.get("/api/v1/rules/166", params={"officeId": office}, headers=viewer).json()
        return [c["value"] for c in rule["parameters"][1]["choices"]]

    assert officers(corebank.nairobi) == [-1, -10, corebank.officer]
    assert officers(corebank.westlands) == [-1, -10, corebank.officer]
    assert_error(client.get("/api/v1/rules/166?officeId=999", headers=viewer), 404, "not_found")


def test_a_triggered_rule_offers_every_office_and_the_loan_types(client: TestClient, viewer: dict[str, str]) -> None:
    rule = client.get("/api/v1/rules/179", headers=viewer).json()
    choices = {p["name"]: p["choices"] for p in rule["parameters"]}
    assert choices["officeId"][0] == {"value": -1, "label": "All offices"}
    assert [c["value"] for c in choices["loanType"]] == [-1, 1, 2, 3, 4]


def test_an_unknown_rule_or_tenant_is_refused(client: TestClient, viewer: dict[str, str]) -> None:
    assert_error(client.get("/api/v1/rules/999", headers=viewer), 404, "not_found")
    assert_error(client.get("/api/v1/rules/166?tenantId=kampala", headers=viewer), 422, "validation_error", "tenantId")


def test_loan_products_come_from_the_core_bank(client: TestClient, viewer: dict[str, str]) -> None:
    assert client.get("/api/v1/loan-products", headers=viewer).json() == [{"value": 1, "label": "Group Loan KES"}]


def test_providers_are_listed_without_any_secret(client: TestClient, viewer: dict[str, str]) -> None:
    response = client.get("/api/v1/providers", headers=viewer)
    assert [p["name"] for p in response.json()] == ["simulator", "twilio-ke", "infobip-ug"]
    twilio = client.get("/api/v1/providers/twilio-ke", headers=viewer).json()
    assert twilio["kind"] == "twilio" and twilio["webhookUrl"] == "https://herald.example.org/webhooks/twilio-ke"
    assert not any(secret in response.text for secret in SECRETS)
    assert "auth_token" not in response.text and "api_key" not in response.text


def test_provider_health_is_checked_live_and_says_nothing_secret(client: TestClient, viewer: dict[str, str]) -> None:
    response = client.get("/api/v1/providers/health", headers=viewer)
    health = {h["name"]: h for h in response.json()}
    assert health["simulator"]["ok"] is True
    assert health["twilio-ke"]["ok"] is False and health["infobip-ug"]["ok"] is False
    assert not any(secret in response.text for secret in SECRETS)
    assert client.get("/api/v1/providers/simulator/health", headers=viewer).json()["ok"] is True


def test_an_unknown_provider_is_not_found(client: TestClient, viewer: dict[str, str]) -> None:
    assert_error(client.get("/api/v1/providers/nope", headers=viewer), 404, "not_found")
    assert_error(client.get("/api/v1/providers/nope/health", headers=viewer), 404, "not_found")
