"""The preview's warnings and GSM-7 fix, errors next to their field, the campaign page's preview, a Triggered page.

Issue 12 items 9, 15 and 16, through the real app (TestClient) on the demo core bank.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.server import create_app
from herald.services import campaigns, triggered_status
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from tests.campaign_parts import validating
from tests.web.conftest import START as START_OF_DAY
from tests.web.conftest import DemoCorebank, build_herald, csrf_of, herald_settings, log_in

SECRET = "hook-secret-42"
DIRECT = {
    "campaignName": "Everyone",
    "triggerType": "direct",
    "runReportId": "166",
    "param.officeId": "1",
    "param.loanOfficerId": "-1",
    "message": "Dear {{firstName}}, thank you.",
    "providerId": "simulator",
}
CURLY = "Dear {{firstName}}, it\u2019s time \u2013 come by\u2026"


def test_the_preview_names_an_empty_variable_with_how_many_and_a_client(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    data = {**DIRECT, "message": "Dear {{firstName}} {{middleName}}, thank you.", "csrf_token": csrf_of(client)}
    fragment = client.post("/campaigns/form-preview", data=data).text
    found = re.search(
        r"\{\{middleName\}\} is empty for ([\d,]+) recipients of ([\d,]+) \(e.g. client (\d+)\)", fragment
    )
    assert found, fragment
    assert 0 < int(found.group(1).replace(",", "")) < int(found.group(2).replace(",", ""))
    assert 'data-kind="empty_variable"' in fragment


def test_curly_quotes_are_named_and_use_gsm7_rewrites_the_message(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    fragment = client.post("/campaigns/form-preview", data={**DIRECT, "message": CURLY, "csrf_token": token}).text
    assert "characters outside GSM-7: \u2019 (curly quote, use &#34;&#39;&#34;)" in fragment, fragment
    assert "\u2013 (dash" in fragment and "\u2026 (ellipsis" in fragment
    assert 'value="gsm7"' in fragment and "Use GSM-7 characters" in fragment
    # Without script the button posts the form: the message comes back rewritten, nothing saved.
    page = client.post("/campaigns/new", data={**DIRECT, "message": CURLY, "csrf_token": token, "action": "gsm7"})
    assert page.status_code == 200
    assert "Dear {{firstName}}, it&#39;s time - come by...</textarea>" in page.text
    assert 'data-kind="ucs2_template"' not in page.text and "GSM-7" in page.text


def test_an_error_is_shown_next_to_its_field(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    data = {**DIRECT, "message": "Hi {{nickname}}", "csrf_token": csrf_of(client), "action": "save"}
    answer = client.post("/campaigns/new", data=data)
    assert answer.status_code == 422
    label = re.search(r"<label>Message <textarea.*?</label>", answer.text, re.S)
    assert label and 'class="field-error"' in label.group(0) and "nickname" in label.group(0)
    assert answer.text.count('class="field-error"') == 1
    assert '<p class="error" role="alert">' not in answer.text  # not repeated above the form
    empty = client.post("/campaigns/new", data={**data, "message": "Hi", "campaignName": " "})
    name = re.search(r"<label>Campaign name .*?</label>", empty.text, re.S)
    assert empty.status_code == 422 and name and 'class="field-error"' in name.group(0), empty.text
    assert campaigns.list_all(store=herald.store) == []


def test_the_campaign_page_previews_a_pending_campaign_and_offers_the_gsm7_rewrite(
    client: TestClient, herald: Herald
) -> None:
    request = CampaignRequest.model_validate(
        {
            "campaignName": "Curly",
            "triggerType": "direct",
            "runReportId": 166,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": CURLY,
        }
    )
    campaign = campaigns.create(request, **validating(herald))
    log_in(client, Role.CAMPAIGN_MANAGER)
    page = client.get(f"/campaigns/{campaign.id}").text
    assert 'data-testid="campaign-preview"' in page and 'data-testid="audience"' in page
    assert f'href="/campaigns/{campaign.id}/edit?gsm7=1"' in page
    form = client.get(f"/campaigns/{campaign.id}/edit?gsm7=1").text
    assert "it&#39;s time - come by...</textarea>" in form
    assert campaigns.get(campaign.id, store=herald.store).template == CURLY  # saved only when the officer saves
    log_in(client, Role.VIEWER)
    viewer = client.get(f"/campaigns/{campaign.id}").text
    assert 'data-testid="campaign-preview"' in viewer and "edit?gsm7=1" not in viewer


class _Fineract(BaseHTTPRequestHandler):
    hooks: ClassVar[list[dict[str, object]]] = []

    def do_GET(self) -> None:
        data = json.dumps(_Fineract.hooks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def fineract_api() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Fineract)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/fineract-provider/api/v1"
    server.shutdown()


@pytest.fixture
def hooked(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, fineract_api: str
) -> Iterator[tuple[Herald, TestClient]]:
    build_herald(tmp_path, herald_template, demo_corebank, ManualClock(START_OF_DAY)).close()
    settings = Settings.model_validate(
        {
            **herald_settings(tmp_path, demo_corebank).model_dump(),
            "public_url": "https://herald.mfi.example",
            "fineract_hook_secret": SECRET,
            "fineract_api_url": fineract_api,
            "fineract_password": "password",
        }
    )
    herald = Herald.build(settings, ManualClock(START_OF_DAY))
    with TestClient(create_app(herald), raise_server_exceptions=False, follow_redirects=False) as client:
        yield herald, client
    herald.close()


def _repayment(herald: Herald) -> tuple[int, int, int]:
    engine = sa.create_engine(herald.settings.corebank_url or "")
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT t.id, t.loan_id, l.client_id FROM m_loan_transaction t JOIN m_loan l ON l.id = t.loan_id"
                " WHERE t.transaction_type_enum = 2 AND t.is_reversed = 0 AND l.client_id IS NOT NULL"
                " ORDER BY t.transaction_date DESC, t.id DESC LIMIT 1"
            )
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1]), int(row[2])


def test_a_triggered_campaign_shows_a_real_sample_the_hook_url_its_registration_and_last_call(
    hooked: tuple[Herald, TestClient],
) -> None:
    herald, client = hooked
    request = CampaignRequest.model_validate(
        {
            "campaignName": "Thanks",
            "triggerType": "triggered",
            "runReportId": 179,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": "Asante {{firstname}}, we received {{repaymentAmount}} for loan {{LoanAccountId}}.",
        }
    )
    campaign = campaigns.create(request, **validating(herald))
    url = f"https://herald.mfi.example/fineract/hooks/{SECRET}/"
    _Fineract.hooks = []
    log_in(client, Role.CAMPAIGN_MANAGER)
    page = client.get(f"/campaigns/{campaign.id}").text
    sample = re.search(r'data-testid="triggered-sample">([^<]*)<', page)
    assert sample and re.fullmatch(r"Asante \w+, we received [A-Z]{3} [\d,.]+ for loan [\w*]+\.", sample.group(1))
    assert re.search(r"loan repayment of \d\d \w{3} 2026 \(loanTransactionId \d+\)", page)  # a day as pages write it
    assert SECRET not in page and "/fineract/hooks/••••••••/" in page  # the secret is for admins
    # An officer is not sent to a terminal: the command is for whoever runs herald, as on the Jobs page
    assert "ask whoever runs herald to (<code>herald fineract hook --register</code>)" in page
    assert "No: Fineract has no active hook" in page
    assert "Never: no hook for these events has reached herald." in page
    log_in(client, Role.ADMIN)
    assert url in client.get(f"/campaigns/{campaign.id}").text

    txn, loan, client_id = _repayment(herald)
    answer = client.post(
        f"/fineract/hooks/{SECRET}/",
        json={
            "entityName": "LOAN",
            "actionName": "REPAYMENT",
            "response": {"resourceId": txn, "loanId": loan, "clientId": client_id},
        },
    )
    assert answer.status_code == 200, answer.text
    _Fineract.hooks = [
        {
            "id": 1,
            "name": "Web",
            "isActive": True,
            "config": [
                {"fieldName": "Payload URL", "fieldValue": url},
                {"fieldName": "Content Type", "fieldValue": "json"},
            ],
            "events": [{"entityName": "LOAN", "actionName": "REPAYMENT"}],
        }
    ]
    triggered_status._checked.clear()  # the page reuses Fineract's answer for a minute
    page = client.get(f"/campaigns/{campaign.id}").text
    assert re.search(r"LOAN/REPAYMENT \d\d \w{3} 2026 \d\d:\d\d.*\(1 received\)", page), page
    assert "Yes: Fineract has an active hook sending these events to this URL." in page


def test_a_triggered_campaign_says_what_to_set_without_a_hook_url(client: TestClient, herald: Herald) -> None:
    request = CampaignRequest.model_validate(
        {
            "campaignName": "Welcome",
            "triggerType": "triggered",
            "runReportId": 183,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": "Welcome {{firstName}} to {{officeName}}!",
        }
    )
    campaign = campaigns.create(request, **validating(herald))
    log_in(client, Role.VIEWER)
    page = client.get(f"/campaigns/{campaign.id}").text
    assert "Set HERALD_PUBLIC_URL" in page
    sample = re.search(r'data-testid="triggered-sample">([^<]*)<', page)
    assert sample and re.fullmatch(r"Welcome \w+ to [A-Z][\w ]+!", sample.group(1)), page  # no "..Kampala"


def test_the_form_previews_a_triggered_draft_with_a_recent_real_event(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    data = {
        **DIRECT,
        "triggerType": "triggered",
        "runReportId": "186",
        "message": "Asante {{firstname}}, we received {{depositAmount}}; balance {{balance}}.",
        "csrf_token": csrf_of(client),
    }
    fragment = client.post("/campaigns/form-preview", data=data).text
    sample = re.search(r'data-testid="triggered-sample">([^<]*)<', fragment)
    assert sample and re.fullmatch(
        r"Asante \w+, we received [A-Z]{3} [\d,.]+; balance [A-Z]{3} [\d,.]+\.", sample.group(1)
    )
    assert re.search(r"savings deposit of \d\d \w{3} 2026 \(", fragment)
    wrong = client.post("/campaigns/form-preview", data={**data, "message": "Hi {{loanAmount}}"}).text
    assert "{{loanAmount}} is not provided" in wrong  # the template is checked as it is typed


def test_a_triggered_campaign_shows_where_its_external_events_come_from_and_the_last_one(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank
) -> None:
    from herald.events.transport import Delivery
    from tests.e2e.test_external_events import _consumer
    from tests.fineract_events import EventWriter

    build_herald(tmp_path, herald_template, demo_corebank, ManualClock(START_OF_DAY)).close()
    settings = Settings.model_validate(
        {
            **herald_settings(tmp_path, demo_corebank).model_dump(),
            "events_url": "stomp://herald:s3cret@broker.mfi.example:61613/queue/fineract-events",
        }
    )
    herald = Herald.build(settings, ManualClock(START_OF_DAY))
    with TestClient(create_app(herald), raise_server_exceptions=False, follow_redirects=False) as client:
        request = CampaignRequest.model_validate(
            {
                "campaignName": "Thanks",
                "triggerType": "triggered",
                "runReportId": 179,
                "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
                "message": "Asante {{firstname}}, we received {{repaymentAmount}}.",
            }
        )
        campaign = campaigns.create(request, **validating(herald))
        log_in(client, Role.VIEWER)
        page = client.get(f"/campaigns/{campaign.id}").text
        assert "Nothing has arrived yet (hooks or external events)" in page
        assert "LoanTransactionMakeRepaymentPostBusinessEvent, LoanTransactionRecoveryPaymentPostBusinessEvent" in page
        assert "<code>stomp://herald:***@broker.mfi.example:61613/queue/fineract-events</code>" in page
        assert "s3cret" not in page
        txn, loan, _ = _repayment(herald)
        body = EventWriter().event("LoanTransactionMakeRepaymentPostBusinessEvent", {"id": txn, "loanId": loan})
        assert _consumer(herald).handle([Delivery(body, "ID:1")]).events == 1
        page = client.get(f"/campaigns/{campaign.id}").text
        source = re.search(r'data-testid="event-source"><strong>Source:</strong> ([^<]*)<', page)
        assert source and source.group(1).strip() == "external events"
        assert re.search(
            r"LoanTransactionMakeRepaymentPostBusinessEvent \d\d \w{3} 2026 \d\d:\d\d.*\(1 received\)", page
        )
    herald.close()
