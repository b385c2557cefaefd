"""The audit log through the REST API: what people did is recorded with who, how and when; only admins read it."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.server import create_app
from herald.services.auth import Role
from herald.store.audit_search import AuditFilter, search
from tests.api.conftest import Caller, assert_error, campaign_body, create_campaign

SRC = Path(__file__).resolve().parents[2] / "src" / "herald"


def entries(client: TestClient, admin: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """The entries these tests look at: not the fixture's own set-up (its users and tokens, made via system)."""
    response = client.get("/api/v1/audit", params=query, headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return [e for e in response.json()["items"] if e["via"] != "system"]


def test_each_campaign_action_is_recorded_with_actor_via_and_activation_estimate(
    client: TestClient, users: dict[Role, Caller], admin: dict[str, str], manager: dict[str, str]
) -> None:
    campaign = create_campaign(client, manager, campaignName="Reminders")
    cid = campaign["id"]
    body = {**campaign_body(), "campaignName": "Reminders 2", "message": "Hi {{firstName}}"}
    assert client.put(f"/api/v1/campaigns/{cid}", json=body, headers=manager).status_code == 200
    expected = client.post(f"/api/v1/campaigns/{cid}/preview", headers=manager).json()
    for action in ("activate", "close", "reactivate", "close"):
        assert client.post(f"/api/v1/campaigns/{cid}/{action}", headers=manager).status_code == 200, action
    assert client.delete(f"/api/v1/campaigns/{cid}", headers=manager).status_code == 204

    found = entries(client, admin)
    assert [e["action"] for e in found] == [
        "campaign.delete",
        "campaign.close",
        "campaign.reactivate",
        "campaign.close",
        "campaign.activate",
        "campaign.edit",
        "campaign.create",
    ]
    name = users[Role.CAMPAIGN_MANAGER].username
    assert {(e["actor"], e["via"]) for e in found} == {(name, "api")}
    assert found[-1]["target"] == "Reminders" and found[-2]["target"] == "Reminders 2"
    assert found[-2]["detail"]["changed"] == ["campaignName", "message"] and found[-2]["detail"]["was"] == "Reminders"
    activation = found[-3]["detail"]
    assert activation["audience"] == expected["audience"] == 3
    assert activation["sendable"] == expected["sendable"] and activation["cost"] == expected["cost"]
    assert activation["currency"] == "KES"
    assert found[0]["detail"]["id"] == cid


def test_a_refused_action_records_nothing(client: TestClient, admin: dict[str, str], manager: dict[str, str]) -> None:
    campaign = create_campaign(client, manager)
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/close", headers=manager).status_code == 409
    assert client.post("/api/v1/campaigns", json=campaign_body(), headers=manager).status_code == 422  # name taken
    assert [e["action"] for e in entries(client, admin)] == ["campaign.create"]


def test_resends_jobs_run_by_hand_and_opt_out_changes_are_recorded(
    client: TestClient, herald: Herald, users: dict[Role, Caller], admin: dict[str, str], manager: dict[str, str]
) -> None:
    campaign = create_campaign(client, manager)
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/activate", headers=manager).status_code == 200
    assert client.post("/api/v1/jobs/update-outbound/run", headers=manager).status_code == 200
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/resend", headers=manager).status_code == 200
    added = client.post(
        "/api/v1/optouts", json={"number": "0712 345 678", "reason": "asked at the branch"}, headers=manager
    )
    assert added.status_code == 201, added.text
    assert added.json() == {"number": "+2547******78", "changed": True}
    assert client.delete("/api/v1/optouts/+254712345678", headers=manager).status_code == 204
    assert_error(client.delete("/api/v1/optouts/+254712345678", headers=manager), 404, "not_found", "number")

    found = {e["action"]: e for e in entries(client, admin)}
    assert found["job.run"]["target"] == "Update SMS Outbound with Campaign Message"
    assert found["job.run"]["detail"]["counts"]["created"] == 3
    assert found["campaign.resend"]["detail"] == {"id": campaign["id"], "failed": 0, "resent": 0, "skipped": 0}
    assert found["optout.add"]["target"] == found["optout.remove"]["target"] == "+2547******78"
    assert found["optout.add"]["detail"] == {"reason": "asked at the branch", "new": True}
    everything = client.get("/api/v1/audit/export.csv", headers=admin).text
    assert "712345678" not in str(entries(client, admin)) and "712345678" not in everything
    assert {e["via"] for e in found.values()} == {"api"}


def test_filters_by_action_actor_days_and_pages(
    client: TestClient, clock: ManualClock, users: dict[Role, Caller], admin: dict[str, str], manager: dict[str, str]
) -> None:
    first = create_campaign(client, manager, campaignName="One")  # 2026-11-20 in Nairobi
    clock.advance(timedelta(days=1))
    create_campaign(client, admin, campaignName="Two")  # 2026-11-21
    client.post(f"/api/v1/campaigns/{first['id']}/activate", headers=manager)

    assert [e["target"] for e in entries(client, admin, action="campaign.create")] == ["Two", "One"]
    assert [e["action"] for e in entries(client, admin, action="campaign.")] == [
        "campaign.activate",
        "campaign.create",
        "campaign.create",
    ]
    assert [e["target"] for e in entries(client, admin, actor=users[Role.ADMIN].username)] == ["Two"]
    assert [e["target"] for e in entries(client, admin, **{"from": "2026-11-20", "to": "2026-11-20"})] == ["One"]
    assert [e["target"] for e in entries(client, admin, **{"from": "2026-11-21"})] == ["One", "Two"]
    page = client.get("/api/v1/audit", params={"action": "campaign.", "limit": 1, "offset": 1}, headers=admin).json()
    assert page["total"] == 3 and [e["target"] for e in page["items"]] == ["Two"]
    assert_error(
        client.get("/api/v1/audit", params={"from": "2026-11-22", "to": "2026-11-21"}, headers=admin),
        422,
        "validation_error",
        "from",
    )


def test_only_admins_read_the_log(client: TestClient, manager: dict[str, str], viewer: dict[str, str]) -> None:
    create_campaign(client, manager)
    for headers in (manager, viewer):
        for url in ("/api/v1/audit", "/api/v1/audit/export.csv"):
            assert_error(client.get(url, headers=headers), 403, "forbidden")
    assert_error(client.get("/api/v1/audit"), 401, "unauthenticated")


def test_the_csv_export_opens_every_cell_as_text_and_is_not_cached(
    client: TestClient, admin: dict[str, str], manager: dict[str, str]
) -> None:
    create_campaign(client, manager, campaignName='=HYPERLINK("http://evil.example","x")')
    response = client.get("/api/v1/audit/export.csv", headers=admin)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "at", "actor", "via", "action", "target", "tenant", "address", "detail"]
    assert rows[1][5] == '\'=HYPERLINK("http://evil.example","x")' and rows[1][4] == "campaign.create"


def test_the_log_is_append_only_through_herald(
    client: TestClient, herald: Herald, admin: dict[str, str], manager: dict[str, str]
) -> None:
    create_campaign(client, manager)
    with herald.store.connect() as conn:
        before = search(conn, AuditFilter(), 100, 0)
    documented = {path: set(ops) for path, ops in create_app(herald).openapi()["paths"].items() if "audit" in path}
    assert documented == {"/api/v1/audit": {"get"}, "/api/v1/audit/export.csv": {"get"}}
    entry = before[1][0].id
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for url in ("/api/v1/audit", f"/api/v1/audit/{entry}", "/audit", f"/audit/{entry}"):
            assert client.request(method, url, headers=admin).status_code in (404, 405), (method, url)
    with herald.store.connect() as conn:
        assert search(conn, AuditFilter(), 100, 0) == before
    # No code path in herald writes to audit_log other than store.audit.append's INSERT.
    writes = re.compile(r"(update|delete)\(\s*audit_log|audit_log\.(update|delete)\(|(UPDATE|DELETE FROM)\s+audit_log")
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if writes.search(p.read_text())]
    assert offenders == []

