"""Addresses the app does not have, and the words of error pages: a person gets herald's styled page with a way
back (never the API's JSON, never a command to type in a terminal); a program under /api/ keeps its JSON problem."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.errors import HeraldError, NotFoundError
from herald.services.auth import Role
from tests.web.conftest import csrf_of, log_in
from tests.web.test_access import pending_campaign
from tests.web.test_pages import SCHEDULED


def assert_styled_page(answer_text: str, heading: str) -> None:
    assert answer_text.startswith("<!doctype html>")
    assert '<link rel="stylesheet" href="/static/herald.css">' in answer_text
    assert f"<h1>{heading}</h1>" in answer_text and 'href="/campaigns">Campaigns</a>' in answer_text
    assert '{"error"' not in answer_text and "Traceback" not in answer_text


@pytest.mark.parametrize("path", ["/no/such/page", "/campaign", "/campaigns/12/tabs/nothing", "/static/nothing.css"])
def test_an_unknown_ui_address_gets_the_styled_not_found_page(client: TestClient, path: str) -> None:
    log_in(client, Role.VIEWER)
    answer = client.get(path)
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert_styled_page(answer.text, "Not found")
    assert "herald has no page at this address." in answer.text
    assert 'href="/optouts"' in answer.text  # the header and its menu, as on every page


def test_without_a_login_the_not_found_page_shows_no_menu(client: TestClient) -> None:
    answer = client.get("/nowhere")
    assert answer.status_code == 404
    assert_styled_page(answer.text, "Not found")
    assert 'href="/jobs"' not in answer.text


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/campaigns/1/nothing", "/fineract/nothing"])
def test_an_unknown_api_address_keeps_its_json_problem(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.json() == {"error": {"code": "not_found", "message": "Not Found", "field": None}}


def test_opening_an_action_address_in_the_browser_gets_a_page(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    campaign_id = pending_campaign(herald)
    # Activate is a confirmation page since item 6; Close is still a button's POST only.
    assert client.get(f"/campaigns/{campaign_id}/activate").status_code == 200
    answer = client.get(f"/campaigns/{campaign_id}/close")
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert_styled_page(answer.text, "Not found")
    assert "use the page&#39;s buttons" in answer.text
    assert client.get("/api/v1/jobs/send/run").headers["content-type"] == "application/json"


def test_a_missing_campaign_page_points_to_the_campaigns_page_not_to_a_command(client: TestClient) -> None:
    log_in(client, Role.VIEWER)
    answer = client.get("/campaigns/424242")
    assert answer.status_code == 404
    assert "No campaign 424242. The Campaigns page lists them." in answer.text
    assert "herald campaigns" not in answer.text


def test_the_forms_office_error_points_to_the_offices_page(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    data = {**SCHEDULED, "param.officeId": "99", "csrf_token": csrf_of(client), "action": "save"}
    answer = client.post("/campaigns/new", data=data)
    assert answer.status_code == 422
    assert "Office 99 does not exist" in answer.text and "The Offices page lists them." in answer.text
    assert "herald offices" not in answer.text
    preview = client.post("/campaigns/form-preview", data=data)
    assert "The Offices page lists them." in preview.text and "herald offices" not in preview.text


def test_a_hint_naming_a_command_stays_off_pages_unless_it_has_page_words() -> None:
    bare = HeraldError("Something is missing.", hint="Run `herald db upgrade` first.")
    assert str(bare) == "Something is missing. Run `herald db upgrade` first."  # the CLI and the API keep it
    assert bare.on_page() == "Something is missing."
    worded = NotFoundError(
        "No user 'x'.", hint="`herald users list` shows them.", page_hint="The Users page lists them."
    )
    assert worded.on_page() == "No user 'x'. The Users page lists them."
    assert HeraldError("Wait.", hint="Ask an admin.").on_page() == "Wait. Ask an admin."


def test_the_favicon_exists_is_linked_from_every_page_and_is_cached_long(client: TestClient) -> None:
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg") and "max-age=31536000" in icon.headers["cache-control"]
    assert client.get("/favicon.ico").content == icon.content  # where browsers look on pages naming no icon
    login = client.get("/login").text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
