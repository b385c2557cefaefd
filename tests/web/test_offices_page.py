"""The offices page over plain HTTP: everyone sees Fineract's offices with herald's region and time zone, only
admins change them (audited as done via the UI, seen by the jobs at once), and bad input is refused readably."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.server import create_app
from herald.services.auth import Role
from herald.store.tables import audit_log
from tests.web.conftest import DemoCorebank, csrf_of, herald_settings, log_in
from tests.web.test_access import assert_readable_refusal

KAMPALA = 4  # the demo's Kampala branch: UG, Africa/Kampala


def office_audit(herald: Herald) -> list[tuple[str | None, str, str | None, object]]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == "office.set").order_by(audit_log.c.id))
        return [(r.actor, r.via, r.target, r.detail) for r in rows]


def test_an_admin_sets_an_offices_time_zone_from_the_list(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    listed = client.get("/offices")
    assert listed.status_code == 200 and 'aria-current="page">Offices' in listed.text
    assert "Kampala" in listed.text and "Africa/Kampala" in listed.text and 'href="/offices/4/edit"' in listed.text
    form = client.get(f"/offices/{KAMPALA}/edit").text
    assert "<option selected>Africa/Kampala</option>" in form and "<option selected>UG</option>" in form
    zones = form[form.index('name="timezone"') :]
    # the zones in use come first, then Africa's, and no legacy alias to pick by mistake
    assert zones.index("Africa/Nairobi") < zones.index("Africa/Abidjan") < zones.index("Europe/London")
    assert "<option>Etc/GMT+3</option>" not in zones and "<option>US/Pacific</option>" not in zones
    answer = client.post(
        f"/offices/{KAMPALA}",
        data={"csrf_token": csrf_of(client, "/offices"), "region": "UG", "timezone": "Africa/Nairobi"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/offices?notice=office-saved#office-4"
    page = client.get(answer.headers["location"]).text
    assert "Office saved" in page
    row = page[page.index('id="office-4"') :]
    assert row[: row.index("</tr>")].count("Africa/Nairobi") == 1
    assert herald.offices.timezones(None)[KAMPALA] == "Africa/Nairobi"  # what quiet hours read, at once
    assert herald.offices.regions(None)[KAMPALA] == "UG"
    assert office_audit(herald) == [("admin", "ui", "office 4", {"region": "UG", "timezone": "Africa/Nairobi"})]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("timezone", "Africa/Atlantis", "is not an IANA time zone"),
        ("region", "XX", "is not a phone region"),
    ],
)
def test_a_zone_or_region_not_in_the_lists_is_refused_and_nothing_changes(
    client: TestClient, herald: Herald, field: str, value: str, words: str
) -> None:
    log_in(client, Role.ADMIN)
    data = {"csrf_token": csrf_of(client, "/offices"), "region": "UG", "timezone": "Africa/Kampala", field: value}
    assert_readable_refusal(client.post(f"/offices/{KAMPALA}", data=data), 422, words)
    assert herald.offices.timezones(None)[KAMPALA] == "Africa/Kampala" and office_audit(herald) == []


def test_an_office_fineract_does_not_have_is_not_found(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    assert_readable_refusal(client.get("/offices/99/edit"), 404, "The core bank has no office 99.")
    data = {"csrf_token": csrf_of(client, "/offices"), "region": "KE", "timezone": "Africa/Nairobi"}
    answer = client.post("/offices/99", data=data)
    assert_readable_refusal(answer, 404, "The Offices page lists them.")
    assert 99 not in herald.offices.timezones(None)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_others_see_the_offices_but_only_admins_change_them(client: TestClient, herald: Herald, role: Role) -> None:
    log_in(client, role)
    page = client.get("/offices")
    assert page.status_code == 200 and "Kampala" in page.text and "Admins change them." in page.text
    assert "/edit" not in page.text
    assert_readable_refusal(client.get(f"/offices/{KAMPALA}/edit"), 403, "needs the admin role")
    data = {"csrf_token": csrf_of(client, "/offices"), "region": "UG", "timezone": "Africa/Nairobi"}
    assert_readable_refusal(client.post(f"/offices/{KAMPALA}", data=data), 403, "needs the admin role")
    assert herald.offices.timezones(None)[KAMPALA] == "Africa/Kampala"


def test_a_change_without_the_csrf_token_changes_nothing(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    answer = client.post(f"/offices/{KAMPALA}", data={"region": "UG", "timezone": "Africa/Nairobi"})
    assert_readable_refusal(answer, 403, "CSRF token is missing or wrong")
    assert herald.offices.timezones(None)[KAMPALA] == "Africa/Kampala"


@pytest.fixture
def two_tenants(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, clock: ManualClock
) -> Iterator[Herald]:
    """The web tests' installation with a second Fineract tenant, "kampala", whose offices have no profile yet."""
    for file in herald_template.glob("herald.sqlite*"):
        shutil.copy(file, tmp_path / file.name)
    one = herald_settings(tmp_path, demo_corebank)
    settings = Settings(**one.model_dump(exclude={"tenants"}), tenants=json.dumps({"kampala": demo_corebank.url}))
    h = Herald.build(settings, clock)
    yield h
    h.close()


def test_a_second_tenants_offices_show_the_defaults_until_an_admin_saves_one(two_tenants: Herald) -> None:
    with TestClient(create_app(two_tenants), raise_server_exceptions=False, follow_redirects=False) as client:
        log_in(client, Role.ADMIN)
        listed = client.get("/offices?tenant=kampala").text
        assert '<option value="kampala" selected>kampala</option>' in listed
        assert listed.count("(default)") == 2 * 9  # region and zone of each of the demo's nine offices
        form = client.get(f"/offices/{KAMPALA}/edit?tenant=kampala").text
        assert "uses the installation's defaults until you save" in form
        data = {"csrf_token": csrf_of(client, "/offices"), "tenant": "kampala", "region": "UG"}
        answer = client.post(f"/offices/{KAMPALA}", data=data | {"timezone": "Africa/Nairobi"})
        assert answer.headers["location"] == "/offices?tenant=kampala&notice=office-saved#office-4"
        assert two_tenants.offices.timezones("kampala") == {KAMPALA: "Africa/Nairobi"}
        assert two_tenants.offices.timezones(None)[KAMPALA] == "Africa/Kampala"  # the default tenant's own, untouched
        assert client.get("/offices?tenant=kampala").text.count("(default)") == 2 * 8
        assert_readable_refusal(
            client.get("/offices?tenant=lagos"), 404, "herald has no Fineract tenant &#39;lagos&#39;"
        )
