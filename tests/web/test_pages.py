"""What the UI pages show: the form's steps and preview, tabs with search and pages, masked numbers, no secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from herald.app import Herald
from herald.clock import ManualClock
from herald.domain.message import MessageStatus
from herald.server import create_app
from herald.services import campaigns
from herald.services.auth import Role
from herald.services.resend import resend_failed
from herald.store.tables import messages
from herald.worker import outbound_for
from tests.campaign_parts import activating
from tests.web.conftest import DemoCorebank, build_herald, csrf_of, herald_settings, log_in, login_token
from tests.web.test_access import pending_campaign

SCHEDULED = {
    "campaignName": "Due soon",
    "triggerType": "schedule",
    "runReportId": "170",
    "param.officeId": "1",
    "param.loanOfficerId": "-1",
    "param.fromX": "-3",
    "param.toY": "-1",
    "message": "Dear {{fullName}}, {{totalDue}} is due on {{paymentDueDate}}.",
    "providerId": "simulator",
    "recurrence": "FREQ=DAILY",
    "recurrenceStartDate": "2026-11-20T09:00",
}


def test_the_form_offers_the_rules_of_the_trigger_type_and_their_parameters(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    direct = client.get("/campaigns/new").text
    assert "Active Clients" in direct and "Loan Repayment" not in direct
    triggered = client.post(
        "/campaigns/new", data={"csrf_token": token, "triggerType": "triggered", "action": "refresh"}
    )
    assert triggered.status_code == 200
    assert "Loan Repayment" in triggered.text and "Active Clients" not in triggered.text
    assert re.search(r'value="-1"( selected)?>All offices', triggered.text)  # triggered rules can take every office
    due = client.post("/campaigns/new", data={**SCHEDULED, "csrf_token": token, "action": "refresh"}).text
    assert 'type="number" name="param.fromX" value="-3"' in due
    assert "..Nairobi" in due  # offices indented by hierarchy
    assert 'value="-10">No officer' in due
    assert 'data-var="paymentDueDate"' in due and "5. Schedule" in due


def test_preview_shows_samples_segments_cost_and_the_next_five_occurrences(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    fragment = client.post("/campaigns/form-preview", data={**SCHEDULED, "csrf_token": csrf_of(client)})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text  # a fragment for the live preview
    assert "daily at 09:00 (Africa/Nairobi)" in fragment.text
    assert len(re.findall(r"<li>\w{3} \d\d Nov 2026 09:00 EAT</li>", fragment.text)) == 5
    assert 'data-testid="audience"' in fragment.text and "KES" in fragment.text
    assert "is due on" in fragment.text and "GSM-7" in fragment.text


def test_a_preview_with_an_unknown_variable_says_so(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    data = {**SCHEDULED, "message": "Hi {{nickname}}", "csrf_token": csrf_of(client)}
    fragment = client.post("/campaigns/form-preview", data=data).text
    assert "nickname" in fragment and 'role="alert"' in fragment


def test_a_refused_save_keeps_what_was_typed(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    data = {**SCHEDULED, "recurrence": "FREQ=SOMETIMES", "csrf_token": csrf_of(client), "action": "save"}
    answer = client.post("/campaigns/new", data=data)
    assert answer.status_code == 422
    assert "FREQ=SOMETIMES" in answer.text and "Due soon" in answer.text and 'role="alert"' in answer.text
    assert campaigns.list_all(store=herald.store) == []


def test_create_then_edit_through_the_form(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    created = client.post("/campaigns/new", data={**SCHEDULED, "csrf_token": token, "action": "save"})
    assert created.status_code == 303
    (campaign,) = campaigns.list_all(store=herald.store)
    assert campaign.params == {"officeId": 1, "loanOfficerId": -1, "fromX": -3, "toY": -1}
    assert campaign.recurrence is not None and campaign.recurrence.timezone == "Africa/Nairobi"
    form = client.get(f"/campaigns/{campaign.id}/edit").text
    assert 'value="Due soon"' in form and "Next five occurrences" in form
    edited = {**SCHEDULED, "campaignName": "Due very soon", "param.toY": "0", "csrf_token": token, "action": "save"}
    assert client.post(f"/campaigns/{campaign.id}/edit", data=edited).status_code == 303
    assert campaigns.get(campaign.id, store=herald.store).name == "Due very soon"
    assert campaigns.get(campaign.id, store=herald.store).params["toY"] == 0


def test_an_active_campaign_cannot_be_opened_for_editing(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    log_in(client, Role.CAMPAIGN_MANAGER)
    answer = client.get(f"/campaigns/{campaign_id}/edit")
    assert answer.status_code == 409 and "close it first" in answer.text


def test_tabs_search_and_pages(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    log_in(client, Role.VIEWER)
    page = client.get(f"/campaigns/{campaign_id}?tab=pending").text
    total = int(re.search(r"([\d,]+) messages?\.", page).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert total > 25 and "Page 1 of" in page and "Older" in page
    second = client.get(f"/campaigns/{campaign_id}?tab=pending&page=2").text
    assert "Page 2 of" in second and "Newer" in second
    first_row = re.search(r'<td class="num"><a href="/messages/\d+">\d+</a></td>\s*<td class="num">(\d+)</td>', page)
    assert first_row is not None
    client_id = first_row.group(1)
    found = client.get(f"/campaigns/{campaign_id}?tab=pending&q={client_id}").text
    assert f"1 message matching “{client_id}”." in found
    assert "0 messages matching" in client.get(f"/campaigns/{campaign_id}?tab=pending&q=no+such+words").text
    assert client.get(f"/campaigns/{campaign_id}?tab=everything").status_code == 422


def test_numbers_are_masked_except_for_admins(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    log_in(client, Role.VIEWER)
    assert "******" in client.get(f"/campaigns/{campaign_id}").text
    client.cookies.clear()
    log_in(client, Role.ADMIN)
    admin_page = client.get(f"/campaigns/{campaign_id}").text
    assert "******" not in admin_page and re.search(r"\+25\d{9,}", admin_page)


def test_the_campaigns_list_shows_status_and_counts_per_tab(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    log_in(client, Role.VIEWER)
    page = client.get("/campaigns").text
    for tab in ("Pending", "Waiting for delivery report", "Sent", "Delivered", "Failed", "Invalid"):
        assert f">{tab}</th>" in page
    assert "Active</span>" in page and "Direct" in page and "Active Clients" in page
    assert f'href="/campaigns/{campaign_id}?tab=pending"' in page  # a count links to its tab
    assert f'href="/campaigns/{campaign_id}?tab=failed"' not in page  # nothing failed yet: a plain 0, no link


def test_a_tab_with_no_messages_is_plain_text_not_a_link(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    log_in(client, Role.VIEWER)
    tabs = client.get(f"/campaigns/{campaign_id}").text.split('<nav class="tabs"')[1].split("</nav>")[0]
    assert f'href="/campaigns/{campaign_id}?tab=pending#messages"' in tabs
    assert "?tab=delivered" not in tabs
    assert re.search(r'<span class="tab">\s*Delivered <span class="count">0</span>', tabs)


def test_the_providers_page_never_shows_a_secret(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, clock: ManualClock
) -> None:
    secret = "twilio-auth-token-0123456789abcdef"
    provider = {
        "kind": "twilio",
        "name": "twilio-ke",
        "account_sid": "AC" + "0" * 32,
        "auth_token": secret,
        "from_number": "+254700000001",
        "base_url": "http://127.0.0.1:9",  # nothing listens: the health check fails fast
        "timeout": 1,
    }
    herald = build_herald(tmp_path, herald_template, demo_corebank, clock)
    herald.close()
    settings = herald_settings(tmp_path, demo_corebank).model_copy(update={"providers": json.dumps([provider])})
    herald = Herald.build(settings, clock)
    try:
        with TestClient(create_app(herald), follow_redirects=False) as client:
            log_in(client, Role.ADMIN)
            page = client.get("/providers").text
    finally:
        herald.close()
    assert "twilio-ke" in page and "Failing" in page and "simulator" in page
    assert secret not in page and "AC" + "0" * 32 not in page


def test_the_demo_login_opens_the_ui_as_admin(client: TestClient, herald: Herald) -> None:
    from herald.demo.scenario import DEMO_USER, create_demo_login

    password = create_demo_login(herald)
    token = login_token(client)
    answer = client.post("/login", data={"username": DEMO_USER, "password": password, "login_token": token})
    assert answer.status_code == 303
    assert "demo <small>(admin)" in client.get("/campaigns").text


def test_each_tab_shows_the_columns_of_its_status(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    with herald.store.begin() as conn:  # one message in every status, as the jobs would leave them
        ids = conn.execute(select(messages.c.id).where(messages.c.campaign_id == campaign_id).limit(6)).scalars()
        for message_id, status in zip(list(ids), MessageStatus, strict=True):
            conn.execute(update(messages).where(messages.c.id == message_id).values(status=status))
    log_in(client, Role.VIEWER)
    expected = {
        "pending": ["Reason"],
        "waiting": ["Sent"],
        "sent": ["Sent"],
        "delivered": ["Sent", "Delivered"],
        "failed": ["Sent", "Reason"],
        "invalid": ["Reason"],
    }
    for tab, columns in expected.items():
        head = client.get(f"/campaigns/{campaign_id}?tab={tab}").text.split("<thead>")[1].split("</thead>")[0]
        shown = re.findall(r"<th[^>]*>([^<]+)</th>", head)
        assert shown == ["Id", "Client", "Mobile", "Message", "Created", *columns, "Provider", "Segments"], tab


def test_the_campaign_page_shows_resends_apart_from_first_attempts(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    log_in(client, Role.VIEWER)
    assert 'data-testid="resends"' not in client.get(f"/campaigns/{campaign_id}").text  # nothing re-sent yet
    with herald.store.begin() as conn:
        first = conn.execute(select(messages.c.id).where(messages.c.status == MessageStatus.PENDING).limit(3))
        ids = list(first.scalars())
        conn.execute(update(messages).where(messages.c.id.in_(ids)).values(status=MessageStatus.FAILED))
    assert resend_failed(campaign_id, store=herald.store, clock=herald.clock).resent == 3
    page = client.get(f"/campaigns/{campaign_id}").text
    shown = re.search(r'data-testid="resends">First attempts ([\d,]+);\s*re-sends 3 \(Pending 3\)', page)
    assert shown is not None, page
    with herald.store.connect() as conn:
        total = len(conn.execute(select(messages.c.id)).all())
    assert int(shown.group(1).replace(",", "")) == total - 3
