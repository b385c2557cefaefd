"""REST: the offices and their profile (region, time zone, default language): everyone reads them, admins set them
(audited, seen by the next preview at once), and bad input is a readable 4xx that leaves what is stored alone."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.services.auth import Role
from herald.store.tables import audit_log
from tests.api.conftest import Caller, Corebank, assert_error, create_campaign

SWAHILI = [{"language": "sw", "message": "Habari {{firstName}}"}]


def listed(client: TestClient, headers: dict[str, str], **params: str) -> dict[int, dict[str, Any]]:
    response = client.get("/api/v1/offices", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {o["id"]: o for o in response.json()}


def put(client: TestClient, headers: dict[str, str], office: int, **body: Any) -> Any:
    return client.put(f"/api/v1/offices/{office}", json=body, headers=headers)


def office_audit(herald: Herald) -> list[tuple[str | None, str, str | None, object]]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == "office.set").order_by(audit_log.c.id))
        return [(r.actor, r.via, r.target, r.detail) for r in rows]


def test_a_viewer_reads_every_office_with_the_installations_defaults_until_one_is_saved(
    client: TestClient, viewer: dict[str, str], herald: Herald, corebank: Corebank
) -> None:
    offices = listed(client, viewer)
    assert {offices[corebank.nairobi]["name"], offices[corebank.westlands]["name"]} == {"Nairobi", "Westlands"}
    assert offices[corebank.westlands] == {
        "id": corebank.westlands,
        "name": "Westlands",
        "region": herald.settings.default_region,
        "timezone": "Africa/Nairobi",
        "language": None,
        "languageName": None,
        "custom": False,
    }


def test_an_admin_sets_an_offices_profile_and_the_next_preview_gives_its_clients_that_language(
    client: TestClient, admin: dict[str, str], manager: dict[str, str], herald: Herald, corebank: Corebank
) -> None:
    answer = put(client, admin, corebank.nairobi, region="ke", timezone="Africa/Kampala", language="SW")
    assert answer.status_code == 200, answer.text
    saved = {
        "id": corebank.nairobi,
        "name": "Nairobi",
        "region": "KE",
        "timezone": "Africa/Kampala",
        "language": "sw",
        "languageName": "Swahili (sw)",
        "custom": True,
    }
    assert answer.json() == saved
    assert listed(client, manager)[corebank.nairobi] == saved
    assert office_audit(herald) == [
        ("admin", "api", f"office {corebank.nairobi}", {"region": "KE", "timezone": "Africa/Kampala", "language": "sw"})
    ]
    assert herald.offices.timezones(None)[corebank.nairobi] == "Africa/Kampala"  # quiet hours read it at once
    # Amina (Nairobi) now gets the Swahili template; Westlands' clients the campaign's first.
    campaign = create_campaign(client, manager, language="en", translations=SWAHILI)
    preview = client.post(f"/api/v1/campaigns/{campaign['id']}/preview", headers=manager).json()
    assert {s["language"]: s["recipients"] for s in preview["byLanguage"]} == {"en": 2, "sw": 1}


def test_a_language_left_out_is_kept_and_null_takes_it_away(
    client: TestClient, admin: dict[str, str], corebank: Corebank
) -> None:
    assert (
        put(client, admin, corebank.westlands, region="KE", timezone="Africa/Nairobi", language="sw").status_code == 200
    )
    kept = put(client, admin, corebank.westlands, region="UG", timezone="Africa/Kampala")
    assert (kept.status_code, kept.json()["region"], kept.json()["language"]) == (200, "UG", "sw")
    cleared = put(client, admin, corebank.westlands, region="UG", timezone="Africa/Kampala", language=None)
    assert (cleared.status_code, cleared.json()["language"]) == (200, None)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("region", "XX", "'XX' is not a phone region; use an ISO code such as KE"),
        ("timezone", "Africa/Atlantis", "'Africa/Atlantis' is not an IANA time zone such as Africa/Kampala"),
        ("timezone", "../../../etc/passwd", "is not an IANA time zone"),
        ("language", "Kiswahili", "'Kiswahili' is not a language code; write an ISO 639 code"),
    ],
)
def test_a_bad_region_zone_or_language_is_a_422_naming_it_and_nothing_stored_changes(
    client: TestClient, admin: dict[str, str], herald: Herald, corebank: Corebank, field: str, value: str, words: str
) -> None:
    good = {"region": "KE", "timezone": "Africa/Nairobi", "language": "sw"}
    assert put(client, admin, corebank.nairobi, **good).status_code == 200
    before = listed(client, admin)
    error = assert_error(
        put(client, admin, corebank.nairobi, **(good | {field: value})), 422, "validation_error", field
    )
    assert words in error["message"]
    assert listed(client, admin) == before
    assert len(office_audit(herald)) == 1


def test_an_office_or_tenant_fineract_does_not_have_is_refused_and_says_where_to_look(
    client: TestClient, admin: dict[str, str], herald: Herald
) -> None:
    body = {"region": "KE", "timezone": "Africa/Nairobi"}
    error = assert_error(client.put("/api/v1/offices/999", json=body, headers=admin), 404, "not_found")
    assert "no office 999" in error["message"] and "GET /api/v1/offices" in error["message"]
    error = assert_error(
        client.put("/api/v1/offices/1", params={"tenantId": "nope"}, json=body, headers=admin),
        422, "validation_error", "tenantId",
    )  # fmt: skip
    assert "Unknown tenant 'nope'" in error["message"] and "default" in error["message"]
    assert_error(client.get("/api/v1/offices", params={"tenantId": "nope"}, headers=admin), 422, "validation_error")
    assert_error(
        client.put("/api/v1/offices/1", json=body | {"name": "Renamed"}, headers=admin), 422, "validation_error"
    )
    assert office_audit(herald) == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_only_admins_change_an_office_as_on_the_offices_page(
    client: TestClient, users: dict[Role, Caller], herald: Herald, corebank: Corebank, role: Role
) -> None:
    headers = users[role].headers
    before = listed(client, headers)
    error = assert_error(
        put(client, headers, corebank.nairobi, region="UG", timezone="Africa/Kampala"), 403, "forbidden"
    )
    assert "needs the admin role" in error["message"]
    assert listed(client, headers) == before and office_audit(herald) == []


def test_without_credentials_offices_are_neither_read_nor_changed(client: TestClient, corebank: Corebank) -> None:
    assert_error(client.get("/api/v1/offices"), 401, "unauthenticated")
    assert_error(
        client.put(f"/api/v1/offices/{corebank.nairobi}", json={"region": "UG", "timezone": "UTC"}),
        401,
        "unauthenticated",
    )
