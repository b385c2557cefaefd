"""UI access rules over plain HTTP: login required everywhere, roles for every action, CSRF on every form post."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from herald.app import Herald
from herald.domain.campaign import CampaignStatus
from herald.services import campaigns
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from tests.campaign_parts import validating
from tests.web.confirming import confirmed_post
from tests.web.conftest import PASSWORD, USERNAMES, csrf_of, log_in, login_token

PAGES = ("/campaigns", "/campaigns/new", "/campaigns/{id}", "/campaigns/{id}/edit", "/jobs", "/providers")
ACTIONS = (
    "/campaigns/{id}/activate",
    "/campaigns/{id}/close",
    "/campaigns/{id}/reactivate",
    "/campaigns/{id}/delete",
    "/campaigns/{id}/resend",
    "/campaigns/{id}/edit",
    "/campaigns/new",
    "/campaigns/form-preview",
    "/jobs/send/run",
)


def pending_campaign(herald: Herald, name: str = "Everyone") -> int:
    request = CampaignRequest.model_validate(
        {
            "campaignName": name,
            "triggerType": "direct",
            "runReportId": 166,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": "Hello {{firstName}}",
        }
    )
    return campaigns.create(request, **validating(herald)).id


def assert_readable_refusal(answer: Response, status: int, words: str) -> None:
    assert answer.status_code == status
    text = answer.text
    assert "<h1>" in text and words in text, text
    assert "Traceback" not in text and '{"error"' not in text


@pytest.mark.parametrize("page", PAGES)
def test_every_page_redirects_to_login_without_a_session(client: TestClient, herald: Herald, page: str) -> None:
    path = page.format(id=pending_campaign(herald))
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("action", ACTIONS)
def test_form_posts_without_a_session_change_nothing(client: TestClient, herald: Herald, action: str) -> None:
    campaign_id = pending_campaign(herald)
    answer = client.post(action.format(id=campaign_id), data={"csrf_token": "guess"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert campaigns.get(campaign_id, store=herald.store).status is CampaignStatus.PENDING


@pytest.mark.parametrize("page", ("/campaigns", "/campaigns/{id}", "/jobs", "/providers"))
def test_a_viewer_sees_every_page(client: TestClient, herald: Herald, page: str) -> None:
    path = page.format(id=pending_campaign(herald))
    log_in(client, Role.VIEWER)
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert "viewer" in answer.text
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"


def test_a_viewer_gets_no_action_buttons(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.VIEWER)
    page = client.get(f"/campaigns/{campaign_id}").text
    assert "/activate" not in page and "/delete" not in page and "/edit" not in page
    assert '/run"' not in client.get("/jobs").text
    assert "New campaign" not in client.get("/campaigns").text


@pytest.mark.parametrize("page", ("/campaigns/new", "/campaigns/{id}/edit"))
def test_a_viewer_is_refused_the_form_with_a_readable_page(client: TestClient, herald: Herald, page: str) -> None:
    log_in(client, Role.VIEWER)
    answer = client.get(page.format(id=pending_campaign(herald)))
    assert_readable_refusal(answer, 403, "needs the campaign manager role")


@pytest.mark.parametrize("action", ACTIONS)
def test_a_viewer_forging_a_post_with_a_valid_token_is_refused(client: TestClient, herald: Herald, action: str) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.VIEWER)
    token = csrf_of(client)
    answer = client.post(action.format(id=campaign_id), data={"csrf_token": token, "action": "save"})
    assert_readable_refusal(answer, 403, "needs the campaign manager role")
    assert campaigns.get(campaign_id, store=herald.store).status is CampaignStatus.PENDING


@pytest.mark.parametrize("token", (None, "", "wrong-token"))
def test_a_manager_post_without_the_right_csrf_token_is_refused(
    client: TestClient, herald: Herald, token: str | None
) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    answer = client.post(f"/campaigns/{campaign_id}/activate", data={} if token is None else {"csrf_token": token})
    assert_readable_refusal(answer, 403, "CSRF token is missing or wrong")
    assert campaigns.get(campaign_id, store=herald.store).status is CampaignStatus.PENDING


def test_another_sessions_token_does_not_work(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.ADMIN)
    admins_token = csrf_of(client)
    client.cookies.clear()
    log_in(client, Role.CAMPAIGN_MANAGER)
    answer = client.post(f"/campaigns/{campaign_id}/activate", data={"csrf_token": admins_token})
    assert answer.status_code == 403


def test_a_manager_moves_a_campaign_through_its_lifecycle(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    for action, status in (
        ("activate", CampaignStatus.ACTIVE),
        ("close", CampaignStatus.CLOSED),
        ("reactivate", CampaignStatus.ACTIVE),
        ("close", CampaignStatus.CLOSED),
    ):
        if action == "close":
            answer = client.post(f"/campaigns/{campaign_id}/{action}", data={"csrf_token": token})
        else:  # they cost money: posted from their confirmation (tests/web/test_confirm_pages.py)
            answer = confirmed_post(client, campaign_id, action, token)
        assert answer.status_code == 303, answer.text
        assert campaigns.get(campaign_id, store=herald.store).status is status
        assert "notice=" in answer.headers["location"]
    answer = client.post(f"/campaigns/{campaign_id}/delete", data={"csrf_token": token})
    assert answer.headers["location"] == "/campaigns?notice=deleted"
    assert "Campaign deleted" in client.get(answer.headers["location"]).text


def test_an_action_the_lifecycle_refuses_is_explained(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    assert confirmed_post(client, campaign_id, "activate", token).status_code == 303
    answer = client.post(f"/campaigns/{campaign_id}/delete", data={"csrf_token": token})
    assert_readable_refusal(answer, 409, "cannot delete it")


def test_an_unknown_campaign_is_a_readable_404(client: TestClient) -> None:
    log_in(client, Role.VIEWER)
    assert_readable_refusal(client.get("/campaigns/999"), 404, "No campaign 999")


def test_wrong_password_shows_the_form_again(client: TestClient) -> None:
    token = login_token(client)
    answer = client.post("/login", data={"username": "manager", "password": "nope", "login_token": token})
    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text and "herald_session" not in answer.headers.get("set-cookie", "")


def test_the_login_form_opens_a_session_and_goes_where_the_officer_was_going(client: TestClient) -> None:
    first = client.get("/jobs")
    assert first.headers["location"] == "/login?next=%2Fjobs"
    assert 'name="next" value="/jobs"' in client.get(first.headers["location"]).text
    token = login_token(client, first.headers["location"])
    answer = client.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "login_token": token, "next": "/jobs"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/jobs"
    assert "HttpOnly" in answer.headers["set-cookie"] and "SameSite=lax" in answer.headers["set-cookie"]
    assert client.get("/jobs").status_code == 200


def test_a_login_post_without_the_forms_token_is_refused(client: TestClient) -> None:
    answer = client.post("/login", data={"username": USERNAMES[Role.ADMIN], "password": PASSWORD})
    assert answer.status_code == 401 and "expired" in answer.text
    assert client.get("/campaigns").status_code == 303


@pytest.mark.parametrize("target", ("//evil.example/x", "https://evil.example/", "/\\evil.example"))
def test_login_never_redirects_to_another_site(client: TestClient, target: str) -> None:
    token = login_token(client)
    answer = client.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "login_token": token, "next": target}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/campaigns"


def test_logout_needs_the_token_and_ends_the_session(client: TestClient) -> None:
    log_in(client, Role.VIEWER)
    assert client.post("/logout", data={}).status_code == 403
    answer = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/campaigns").status_code == 303


def test_the_api_spec_does_not_list_the_pages(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith(("/api/", "/webhooks", "/fineract", "/healthz"))]
