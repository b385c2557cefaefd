"""REST campaigns: Fineract's field names in and out, the lifecycle with its conflicts, preview and re-send."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.store.tables import messages
from tests.api.conftest import assert_error, campaign_body, create_campaign, materialized_campaign


def test_a_created_campaign_answers_in_fineract_field_names(client: TestClient, manager: dict[str, str]) -> None:
    created = create_campaign(client, manager)
    assert created["campaignName"] == "Everyone"
    assert created["triggerType"] == 1 and created["runReportId"] == 166 and created["reportName"] == "Active Clients"
    assert created["paramValue"] == {"officeId": 1, "loanOfficerId": -1}
    assert created["status"] == {"code": 100, "label": "Pending"}
    assert created["counts"]["pending"] == 0 and created["tenantId"] == "default"
    assert client.get(f"/api/v1/campaigns/{created['id']}", headers=manager).json() == created


def test_a_scheduled_campaign_shows_its_recurrence_and_next_trigger_date(
    client: TestClient, manager: dict[str, str]
) -> None:
    created = create_campaign(
        client,
        manager,
        triggerType="schedule",
        recurrence="FREQ=DAILY;BYHOUR=8;BYMINUTE=0",
        recurrenceStartDate="2026-11-21T08:00",
        timezone="Africa/Kampala",
    )
    assert created["triggerType"] == 2 and created["recurrence"] == "FREQ=DAILY;BYHOUR=8;BYMINUTE=0"
    assert created["recurrenceStartDate"] == "2026-11-21T08:00" and created["timezone"] == "Africa/Kampala"
    active = client.post(f"/api/v1/campaigns/{created['id']}/activate", headers=manager).json()
    assert active["status"] == {"code": 300, "label": "Active"}
    assert active["nextTriggerDate"] == "2026-11-21T05:00:00Z"


def test_the_list_carries_the_counts_per_tab(client: TestClient, manager: dict[str, str]) -> None:
    materialized_campaign(client, manager)
    [listed] = client.get("/api/v1/campaigns", headers=manager).json()
    assert listed["counts"] == {
        "pending": 2,
        "waitingForDeliveryReport": 0,
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "invalid": 1,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"campaignName": ""}, "campaignName"),
        ({"campaignName": None}, "campaignName"),
        ({"triggerType": "weekly"}, "triggerType"),
        ({"runReportId": 999}, None),
        ({"paramValue": {"loanOfficerId": "-1"}}, "officeId"),
        ({"paramValue": {"officeId": "one"}}, "officeId"),
        ({"paramValue": {"officeId": "77"}}, "paramValue.officeId"),
        ({"message": "Hello {{firstname}}"}, "message"),
        ({"providerId": "nope"}, "providerId"),
        ({"fallbackProviderId": "simulator"}, "fallbackProviderId"),
        ({"triggerType": "schedule"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY"}, "recurrence"),
        ({"tenantId": "kampala"}, "tenantId"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_an_invalid_campaign_is_refused_with_the_offending_field(
    client: TestClient, manager: dict[str, str], changes: dict[str, Any], field: str | None
) -> None:
    error = assert_error(
        client.post("/api/v1/campaigns", json=campaign_body(**changes), headers=manager), 422, "validation_error", field
    )
    assert "Traceback" not in error["message"]
    assert client.get("/api/v1/campaigns", headers=manager).json() == []


def test_a_body_that_is_not_json_is_refused_as_invalid(client: TestClient, manager: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/campaigns", content=b"{not json", headers=manager | {"Content-Type": "application/json"}
    )
    assert_error(response, 422, "validation_error")


def test_a_second_campaign_with_the_same_name_is_refused(client: TestClient, manager: dict[str, str]) -> None:
    create_campaign(client, manager)
    assert_error(
        client.post("/api/v1/campaigns", json=campaign_body(), headers=manager), 422, "validation_error", "campaignName"
    )


def test_the_lifecycle_moves_and_refuses_what_the_status_does_not_allow(
    client: TestClient, manager: dict[str, str]
) -> None:
    cid = create_campaign(client, manager)["id"]
    base = f"/api/v1/campaigns/{cid}"
    assert_error(client.post(f"{base}/close", headers=manager), 409, "lifecycle_conflict")
    assert_error(client.post(f"{base}/reactivate", headers=manager), 409, "lifecycle_conflict")
    assert client.post(f"{base}/activate", headers=manager).json()["status"]["label"] == "Active"
    assert_error(client.post(f"{base}/activate", headers=manager), 409, "lifecycle_conflict")
    edit = client.put(base, json=campaign_body(campaignName="Renamed"), headers=manager)
    assert "cannot edit" in assert_error(edit, 409, "lifecycle_conflict")["message"]
    assert_error(client.delete(base, headers=manager), 409, "lifecycle_conflict")
    assert client.post(f"{base}/close", headers=manager).json()["status"] == {"code": 600, "label": "Closed"}
    assert client.put(base, json=campaign_body(campaignName="Renamed"), headers=manager).json()["campaignName"] == (
        "Renamed"
    )
    assert client.post(f"{base}/reactivate", headers=manager).json()["status"]["code"] == 300
    assert client.post(f"{base}/close", headers=manager).status_code == 200
    assert client.delete(base, headers=manager).status_code == 204
    assert_error(client.get(base, headers=manager), 404, "not_found")


def test_an_edit_is_validated_like_a_creation(client: TestClient, manager: dict[str, str]) -> None:
    cid = create_campaign(client, manager)["id"]
    response = client.put(f"/api/v1/campaigns/{cid}", json=campaign_body(message="{{nope}}"), headers=manager)
    assert_error(response, 422, "validation_error", "message")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("POST", "/activate"),
        ("POST", "/close"),
        ("POST", "/reactivate"),
        ("POST", "/preview"),
        ("POST", "/resend"),
    ],
)
def test_an_unknown_campaign_is_not_found(
    client: TestClient, manager: dict[str, str], method: str, suffix: str
) -> None:
    body = campaign_body() if method == "PUT" else None
    assert_error(client.request(method, f"/api/v1/campaigns/42{suffix}", headers=manager, json=body), 404, "not_found")


@pytest.mark.parametrize("campaign_id", ["0", "-1", "abc", str(2**64)])
def test_a_campaign_id_that_is_no_id_is_refused(client: TestClient, manager: dict[str, str], campaign_id: str) -> None:
    assert_error(
        client.get(f"/api/v1/campaigns/{campaign_id}", headers=manager), 422, "validation_error", "campaign_id"
    )


def test_a_preview_prices_the_audience_with_masked_numbers_and_stores_nothing(
    client: TestClient, herald: Herald, manager: dict[str, str]
) -> None:
    cid = create_campaign(client, manager)["id"]
    preview = client.post(f"/api/v1/campaigns/{cid}/preview", params={"samples": 3}, headers=manager).json()
    assert (preview["audience"], preview["sendable"], preview["invalid"]) == (3, 2, 1)
    assert preview["cost"] == pytest.approx(1.6) and preview["currency"] == "KES"
    assert preview["invalidReasons"] == {"no mobile number": 1}
    assert {s["mobileNo"] for s in preview["samples"]} == {"+2547******78", "***"}
    with herald.store.connect() as conn:
        assert conn.execute(select(messages)).first() is None


def test_a_preview_asks_for_at_most_fifty_samples(client: TestClient, manager: dict[str, str]) -> None:
    cid = create_campaign(client, manager)["id"]
    response = client.post(f"/api/v1/campaigns/{cid}/preview", params={"samples": 51}, headers=manager)
    assert_error(response, 422, "validation_error", "samples")


def _fail_all(herald: Herald) -> None:
    with herald.store.begin() as conn:
        conn.execute(
            update(messages)
            .where(messages.c.status == MessageStatus.PENDING)
            .values(status=MessageStatus.FAILED, error_code="30003", error_text="Unreachable")
        )


def _keys(herald: Herald) -> dict[str, int]:
    with herald.store.connect() as conn:
        return {r.dedup_key: r.status for r in conn.execute(select(messages.c.dedup_key, messages.c.status))}


def test_a_resend_makes_new_messages_for_failed_ones_and_keeps_the_failed_as_history(
    client: TestClient, herald: Herald, manager: dict[str, str]
) -> None:
    cid = materialized_campaign(client, manager)["id"]
    _fail_all(herald)
    first = client.post(f"/api/v1/campaigns/{cid}/resend", headers=manager).json()
    assert first == {"failed": 2, "resent": 2, "skipped": 0}
    keys = _keys(herald)
    originals = [k for k in keys if "#resend-" not in k and keys[k] == MessageStatus.FAILED]
    assert len(originals) == 2
    assert {f"{k}#resend-1" for k in originals} <= set(keys)
    assert all(keys[f"{k}#resend-1"] == MessageStatus.PENDING for k in originals)
    assert client.post(f"/api/v1/campaigns/{cid}/resend", headers=manager).json() == {
        "failed": 0,
        "resent": 0,
        "skipped": 0,
    }
    _fail_all(herald)
    assert client.post(f"/api/v1/campaigns/{cid}/resend", headers=manager).json()["resent"] == 2
    assert {f"{k}#resend-2" for k in originals} <= set(_keys(herald))


def test_a_resend_can_name_the_failed_messages_it_takes(
    client: TestClient, herald: Herald, manager: dict[str, str]
) -> None:
    cid = materialized_campaign(client, manager)["id"]
    _fail_all(herald)
    with herald.store.connect() as conn:
        failed = sorted(r.id for r in conn.execute(select(messages.c.id).where(messages.c.status == 400)))
    body = {"messageIds": failed[:1]}
    assert client.post(f"/api/v1/campaigns/{cid}/resend", json=body, headers=manager).json()["resent"] == 1


def test_a_resend_of_a_closed_campaign_is_a_conflict(
    client: TestClient, herald: Herald, manager: dict[str, str]
) -> None:
    cid = materialized_campaign(client, manager)["id"]
    _fail_all(herald)
    client.post(f"/api/v1/campaigns/{cid}/close", headers=manager)
    assert_error(client.post(f"/api/v1/campaigns/{cid}/resend", headers=manager), 409, "lifecycle_conflict")


def test_a_sender_id_is_stored_shown_and_changed_by_an_edit(client: TestClient, manager: dict[str, str]) -> None:
    created = create_campaign(client, manager, senderId="  MFIBank ")
    assert created["senderId"] == "MFIBank"
    base = f"/api/v1/campaigns/{created['id']}"
    assert client.get(base, headers=manager).json()["senderId"] == "MFIBank"
    edited = client.put(base, json=campaign_body(senderId="+256 700 000001"), headers=manager)
    assert edited.status_code == 200, edited.text
    assert edited.json()["senderId"] == "+256700000001"
    cleared = client.put(base, json=campaign_body(), headers=manager)
    assert cleared.json()["senderId"] is None  # the provider's own sender again


@pytest.mark.parametrize("sender_id", ["MicroFinance Bank", "MFI_Bank", "Bänk", "+12"])
def test_a_sender_id_handsets_cannot_show_is_refused_and_the_stored_one_kept(
    client: TestClient, manager: dict[str, str], sender_id: str
) -> None:
    refused = client.post("/api/v1/campaigns", json=campaign_body(senderId=sender_id), headers=manager)
    assert_error(refused, 422, "validation_error", "senderId")
    created = create_campaign(client, manager, campaignName="Kept", senderId="MFIBank")
    base = f"/api/v1/campaigns/{created['id']}"
    edit = client.put(base, json=campaign_body(campaignName="Kept", senderId=sender_id), headers=manager)
    assert_error(edit, 422, "validation_error", "senderId")
    assert client.get(base, headers=manager).json()["senderId"] == "MFIBank"


def test_the_counts_tell_first_attempts_from_resends(
    client: TestClient, herald: Herald, manager: dict[str, str]
) -> None:
    cid = materialized_campaign(client, manager)["id"]
    _fail_all(herald)
    assert client.post(f"/api/v1/campaigns/{cid}/resend", headers=manager).json()["resent"] == 2
    shown = client.get(f"/api/v1/campaigns/{cid}", headers=manager).json()
    every = {"pending": 2, "waitingForDeliveryReport": 0, "sent": 0, "delivered": 0, "failed": 2, "invalid": 1}
    assert shown["counts"] == every  # the tabs keep counting every message, under Fineract's statuses
    assert shown["firstAttempts"] == every | {"pending": 0}
    assert shown["resends"] == every | {"pending": 2, "failed": 0, "invalid": 0}
    listed = next(c for c in client.get("/api/v1/campaigns", headers=manager).json() if c["id"] == cid)
    assert (listed["firstAttempts"], listed["resends"]) == (shown["firstAttempts"], shown["resends"])
    stats = client.get("/api/v1/stats", params={"campaignId": cid}, headers=manager).json()
    assert (stats["totals"]["total"], stats["resends"]["total"], stats["resends"]["pending"]) == (5, 2, 2)


def test_a_preview_says_what_clients_would_see_and_offers_the_gsm7_message(
    client: TestClient, manager: dict[str, str]
) -> None:
    cid = create_campaign(client, manager, message="Dear {{firstName}}, it\u2019s due \u2013 thanks")["id"]
    preview = client.post(f"/api/v1/campaigns/{cid}/preview", headers=manager).json()
    (warning,) = [w for w in preview["warnings"] if w["kind"] == "ucs2_template"]
    assert "\u2019 (curly quote" in warning["text"] and warning["recipients"] == preview["sendable"]
    assert preview["gsm7Message"] == "Dear {{firstName}}, it's due - thanks"
