"""The audit log page: what was done through the UI is recorded as the UI's; only admins see the log."""

from __future__ import annotations

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.services import campaigns
from herald.services.auth import Role
from herald.store.audit_search import AuditFilter, search
from tests.web.confirming import confirmed_post
from tests.web.conftest import USERNAMES, csrf_of, log_in
from tests.web.test_pages import SCHEDULED


def test_ui_actions_are_recorded_and_admins_read_them_on_the_audit_page(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    assert client.post("/campaigns/new", data={**SCHEDULED, "csrf_token": token, "action": "save"}).status_code == 303
    (campaign,) = campaigns.list_all(store=herald.store)
    assert confirmed_post(client, campaign.id, "activate", token).status_code == 303
    assert client.post("/jobs/send/run", data={"csrf_token": token}).status_code == 303

    with herald.store.connect() as conn:
        _, everything = search(conn, AuditFilter(), 20, 0)
    # The fixture made its users and logged them in, audited too (via system, and "login"): not what is looked at here.
    entries = [e for e in everything if e.action != "login" and e.via != "system"]
    assert [(e.action, e.actor, e.via) for e in entries] == [
        ("job.run", USERNAMES[Role.CAMPAIGN_MANAGER], "ui"),
        ("campaign.activate", USERNAMES[Role.CAMPAIGN_MANAGER], "ui"),
        ("campaign.create", USERNAMES[Role.CAMPAIGN_MANAGER], "ui"),
    ]
    assert entries[1].detail["audience"] is not None and entries[1].detail["cost"] >= 0

    for role in (Role.CAMPAIGN_MANAGER, Role.VIEWER):
        log_in(client, role)
        assert client.get("/audit").status_code == 403
        assert 'href="/audit"' not in client.get("/campaigns").text
    log_in(client, Role.ADMIN)
    assert 'href="/audit"' in client.get("/campaigns").text
    page = client.get("/audit")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Times are in Africa/Nairobi" in page.text and " EAT<" in page.text  # each time carries its zone
    assert "campaign.activate" in page.text and "Due soon" in page.text and "Send Messages to SMS Gateway" in page.text
    kind = client.get("/audit", params={"action": "campaign."})  # logins are audited too: count one kind
    assert "2 entries" in kind.text and "Send Messages to SMS Gateway" not in kind.text
    only = client.get("/audit", params={"action": "job.run", "actor": USERNAMES[Role.CAMPAIGN_MANAGER]})
    assert "1 entry" in only.text and "Due soon" not in only.text
    later = client.get("/audit", params={"from": "2026-11-21"})
    assert "0 entries" in later.text
    assert client.get("/audit", params={"from": "someday"}).status_code == 422
