"""Access control at the HTTP edge: credentials, roles, sessions with CSRF, and what stays reachable without them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.http import auth as http_auth
from herald.server import create_app
from herald.services import auth
from herald.services.auth import Role
from herald.store.tables import api_tokens, sessions
from herald.store.tables import users as users_table
from tests.api.conftest import PASSWORD, Caller, assert_error, create_campaign

SAMPLE_PATH_VALUES = {
    "campaign_id": "1",
    "message_id": "1",
    "rule_id": "166",
    "name": "simulator",
    "job": "send",
    "username": "admin",
    "token_id": "1",
    "number": "+254712345678",
    "letter_id": "1",
    "office_id": "1",
}


def _api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the REST API, as its OpenAPI spec lists them."""
    found = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if path.startswith("/api/v1"):
            concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], path)
            found += [(method.upper(), concrete) for method in sorted(operations)]
    return found


def test_every_api_route_refuses_a_caller_without_credentials(client: TestClient, users: dict[Role, Caller]) -> None:
    routes = _api_routes(client)
    assert len(routes) >= 25
    for method, path in routes:
        response = client.request(method, path)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization", ["Bearer nonsense", "Bearer hrd_unknown-token", "Basic YWRtaW46YWRtaW4=", "Bearer", "hrd_"]
)
def test_an_unknown_or_malformed_credential_is_refused(client: TestClient, authorization: str) -> None:
    assert_error(client.get("/api/v1/campaigns", headers={"Authorization": authorization}), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        (Role.VIEWER, "GET", "/api/v1/campaigns", 200),
        (Role.VIEWER, "GET", "/api/v1/me", 200),
        (Role.VIEWER, "POST", "/api/v1/campaigns/1/activate", 403),
        (Role.VIEWER, "POST", "/api/v1/campaigns/1/close", 403),
        (Role.VIEWER, "POST", "/api/v1/campaigns/1/preview", 403),
        (Role.VIEWER, "POST", "/api/v1/campaigns/1/resend", 403),
        (Role.VIEWER, "DELETE", "/api/v1/campaigns/1", 403),
        (Role.VIEWER, "POST", "/api/v1/jobs/send/run", 403),
        (Role.VIEWER, "GET", "/api/v1/users", 403),
        (Role.VIEWER, "GET", "/api/v1/offices", 200),
        (Role.VIEWER, "PUT", "/api/v1/offices/1", 403),
        (Role.CAMPAIGN_MANAGER, "PUT", "/api/v1/offices/1", 403),
        (Role.CAMPAIGN_MANAGER, "POST", "/api/v1/jobs/send/run", 200),
        (Role.CAMPAIGN_MANAGER, "GET", "/api/v1/users", 403),
        (Role.CAMPAIGN_MANAGER, "POST", "/api/v1/users", 403),
        (Role.CAMPAIGN_MANAGER, "GET", "/api/v1/tokens", 403),
        (Role.CAMPAIGN_MANAGER, "POST", "/api/v1/tokens", 403),
        (Role.CAMPAIGN_MANAGER, "DELETE", "/api/v1/tokens/1", 403),
        (Role.ADMIN, "GET", "/api/v1/users", 200),
        (Role.ADMIN, "PUT", "/api/v1/offices/1", 422),  # allowed; the request has no body
        (Role.ADMIN, "POST", "/api/v1/campaigns/1/close", 409),  # allowed; the campaign is only Pending
    ],
)
def test_each_role_may_do_what_it_allows_and_is_refused_the_rest(
    client: TestClient, users: dict[Role, Caller], role: Role, method: str, path: str, status: int
) -> None:
    create_campaign(client, users[Role.ADMIN].headers)
    body = {"username": "x", "role": "viewer", "password": "p" * 12} if path == "/api/v1/users" else None
    response = client.request(method, path, headers=users[role].headers, json=body)
    if status == 403:
        assert_error(response, 403, "forbidden")
    else:
        assert response.status_code == status, response.text


def test_a_viewer_cannot_create_a_campaign_and_nothing_is_stored(
    client: TestClient, viewer: dict[str, str], admin: dict[str, str]
) -> None:
    assert_error(client.post("/api/v1/campaigns", json={}, headers=viewer), 403, "forbidden")
    assert client.get("/api/v1/campaigns", headers=admin).json() == []


def test_a_revoked_token_stops_working(client: TestClient, herald: Herald, users: dict[Role, Caller]) -> None:
    issued = auth.issue_token("viewer", "short-lived", store=herald.store, clock=herald.clock)
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "viewer"
    auth.revoke_token(issued.info.id, store=herald.store, clock=herald.clock)
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")


def test_a_disabled_user_loses_its_tokens_and_sessions(
    client: TestClient, herald: Herald, users: dict[Role, Caller]
) -> None:
    session_id = auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)
    auth.update_user("viewer", active=False, store=herald.store, clock=herald.clock)
    assert_error(client.get("/api/v1/me", headers=users[Role.VIEWER].headers), 401, "unauthenticated")
    client.cookies.set(auth.SESSION_COOKIE, session_id)
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")
    with pytest.raises(auth.AuthenticationError):
        auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)


def test_a_wrong_password_or_unknown_user_gets_the_same_refusal(herald: Herald, users: dict[Role, Caller]) -> None:
    messages = set()
    for username, password in [("viewer", "wrong password!"), ("nobody", PASSWORD)]:
        with pytest.raises(auth.AuthenticationError) as refused:
            auth.login(username, password, store=herald.store, clock=herald.clock)
        messages.add(str(refused.value))
    assert len(messages) == 1


def test_a_session_cookie_reads_but_writes_only_with_its_csrf_token(
    client: TestClient, herald: Herald, users: dict[Role, Caller]
) -> None:
    session_id = auth.login("campaign-manager", PASSWORD, store=herald.store, clock=herald.clock)
    client.cookies.set(auth.SESSION_COOKIE, session_id)
    assert client.get("/api/v1/me").json()["role"] == "campaign_manager"
    body = {"campaignName": "Via the UI", "triggerType": 1, "runReportId": 166, "paramValue": {"officeId": 1}}
    body["message"] = "Hi {{firstName}}"
    assert_error(client.post("/api/v1/campaigns", json=body), 403, "forbidden")
    assert_error(client.post("/api/v1/campaigns", json=body, headers={"X-CSRF-Token": "forged"}), 403, "forbidden")
    token = _csrf_of(herald, session_id)
    assert client.post("/api/v1/campaigns", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def _csrf_of(herald: Herald, session_id: str) -> str:
    from herald.services.auth.sessions import find_session

    found = find_session(session_id, store=herald.store, clock=herald.clock)
    assert found is not None
    return auth.csrf_token(found)


def test_a_session_ends_at_logout_and_after_its_lifetime(
    client: TestClient, herald: Herald, clock: ManualClock, users: dict[Role, Caller]
) -> None:
    first = auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)
    second = auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)
    auth.logout(first, store=herald.store)
    client.cookies.set(auth.SESSION_COOKIE, first)
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")
    client.cookies.set(auth.SESSION_COOKIE, second)
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(hours=12, seconds=1)
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_ui_helpers_check_the_form_token_and_set_a_safe_cookie(herald: Herald, users: dict[Role, Caller]) -> None:
    app = create_app(herald)

    @app.post("/ui/login")
    def ui_login(response: Response) -> dict[str, bool]:
        http_auth.set_session_cookie(
            response, auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock), secure=True
        )
        return {"ok": True}

    @app.post("/ui/form")
    def ui_form(request: Request, csrf_token: str | None = None) -> dict[str, str | None]:
        http_auth.check_csrf(request, csrf_token)
        user = http_auth.current_user(request)
        return {"user": user.username if user else None}

    with TestClient(app, base_url="https://testserver") as ui:
        cookie = ui.post("/ui/login").headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
        token = _csrf_of(herald, ui.cookies[auth.SESSION_COOKIE])
        assert_error(ui.post("/ui/form", params={"csrf_token": "wrong"}), 403, "forbidden")
        assert ui.post("/ui/form", params={"csrf_token": token}).json() == {"user": "viewer"}


def test_only_hashes_of_passwords_tokens_and_session_ids_are_stored(herald: Herald, users: dict[Role, Caller]) -> None:
    session_id = auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)
    with herald.store.connect() as conn:
        hashes = [r.password_hash for r in conn.execute(select(users_table.c.password_hash))]
        tables = (users_table, api_tokens, sessions)
        stored = " ".join(str(v) for table in tables for r in conn.execute(select(table)) for v in r)
    assert all(h.startswith("$argon2id$") for h in hashes)
    for secret in [PASSWORD, session_id, *(c.token for c in users.values())]:
        assert secret not in stored


def test_webhooks_and_fineract_endpoints_need_no_user_session(client: TestClient) -> None:
    assert client.get("/webhooks/simulator").json() == {"provider": "simulator", "ok": True}
    assert client.get("/healthz").status_code == 200
    hook = client.get("/fineract/hooks/not-the-secret/")
    assert hook.status_code == 404  # refused by its own secret, not by a missing login
    gateway = client.post("/fineract/gateway/sms", content=b"[]")
    assert gateway.status_code in (401, 403) and gateway.json()["error"]["code"] == "refused"


def test_last_used_is_recorded_for_a_token_without_a_write_per_request(
    client: TestClient, herald: Herald, clock: ManualClock, users: dict[Role, Caller]
) -> None:
    client.get("/api/v1/me", headers=users[Role.VIEWER].headers)
    first = {t.username: t.last_used_at for t in auth.list_tokens(store=herald.store)}["viewer"]
    clock.advance(seconds=30)
    client.get("/api/v1/me", headers=users[Role.VIEWER].headers)
    assert {t.username: t.last_used_at for t in auth.list_tokens(store=herald.store)}["viewer"] == first
    clock.advance(timedelta(minutes=1))
    client.get("/api/v1/me", headers=users[Role.VIEWER].headers)
    assert {t.username: t.last_used_at for t in auth.list_tokens(store=herald.store)}["viewer"] == clock.now()
