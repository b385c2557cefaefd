"""Account lifecycle over the REST API: password resets end sessions, re-enabling brings no token back, and every
user and token change is in the audit log with who made it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.services import auth
from herald.services.auth import Role
from herald.store.tables import audit_log
from tests.api.conftest import PASSWORD, Caller, assert_error

NEW_PASSWORD = "a brand new passphrase"


def audit_entries(herald: Herald, *prefixes: str) -> list[tuple[Any, ...]]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
    return [(r.action, r.actor, r.via, r.target, r.detail) for r in rows if r.action.startswith(prefixes)]


def test_an_admin_resets_a_password_and_the_users_sessions_end_but_its_tokens_stay(
    client: TestClient, herald: Herald, users: dict[Role, Caller], admin: dict[str, str]
) -> None:
    session_id = auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)
    client.cookies.set(auth.SESSION_COOKIE, session_id)
    assert client.get("/api/v1/me").status_code == 200
    client.cookies.clear()
    answer = client.put("/api/v1/users/viewer/password", json={"password": NEW_PASSWORD}, headers=admin)
    assert answer.status_code == 204, answer.text
    client.cookies.set(auth.SESSION_COOKIE, session_id)
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")  # the session opened before is over
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=users[Role.VIEWER].headers).status_code == 200  # tokens stay
    try:
        auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)
        raise AssertionError("the old password still works")
    except auth.AuthenticationError:
        pass
    assert auth.login("viewer", NEW_PASSWORD, store=herald.store, clock=herald.clock)
    assert ("user.password", "admin", "api", "viewer", {"sessions_ended": 1}) in audit_entries(herald, "user.")


def test_only_an_admin_sets_passwords_and_a_bad_one_is_refused_with_its_field(
    client: TestClient, herald: Herald, users: dict[Role, Caller], admin: dict[str, str], manager: dict[str, str]
) -> None:
    refused = client.put("/api/v1/users/admin/password", json={"password": NEW_PASSWORD}, headers=manager)
    assert_error(refused, 403, "forbidden")
    short = client.put("/api/v1/users/viewer/password", json={"password": "short"}, headers=admin)
    assert_error(short, 422, "validation_error", "password")
    unknown = client.put("/api/v1/users/nobody/password", json={"password": NEW_PASSWORD}, headers=admin)
    assert_error(unknown, 404, "not_found")
    assert auth.login("admin", PASSWORD, store=herald.store, clock=herald.clock)  # nothing changed
    assert audit_entries(herald, "user.password") == []


def test_re_enabling_a_disabled_user_does_not_bring_back_its_api_tokens(
    client: TestClient, herald: Herald, users: dict[Role, Caller], admin: dict[str, str]
) -> None:
    viewer = users[Role.VIEWER].headers
    assert client.patch("/api/v1/users/viewer", json={"active": False}, headers=admin).status_code == 200
    assert client.patch("/api/v1/users/viewer", json={"active": True}, headers=admin).status_code == 200
    assert_error(client.get("/api/v1/me", headers=viewer), 401, "unauthenticated")
    assert [t for t in client.get("/api/v1/tokens", headers=admin).json() if t["username"] == "viewer"] == []
    assert auth.login("viewer", PASSWORD, store=herald.store, clock=herald.clock)  # the password does work again
    fresh = client.post("/api/v1/tokens", json={"username": "viewer", "name": "again"}, headers=admin).json()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh['token']}"}).status_code == 200


def test_every_user_and_token_change_is_in_the_audit_log_with_who_made_it(
    client: TestClient, herald: Herald, users: dict[Role, Caller], admin: dict[str, str]
) -> None:
    body = {"username": "newcomer", "role": "viewer", "password": PASSWORD}
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    assert client.patch("/api/v1/users/newcomer", json={"role": "campaign_manager"}, headers=admin).status_code == 200
    issued = client.post("/api/v1/tokens", json={"username": "newcomer", "name": "export"}, headers=admin).json()
    assert client.delete(f"/api/v1/tokens/{issued['id']}", headers=admin).status_code == 204
    second = client.post("/api/v1/tokens", json={"username": "newcomer", "name": "report"}, headers=admin).json()
    assert client.patch("/api/v1/users/newcomer", json={"active": False}, headers=admin).status_code == 200
    assert client.patch("/api/v1/users/newcomer", json={"active": True}, headers=admin).status_code == 200
    assert client.patch("/api/v1/users/newcomer", json={"active": True}, headers=admin).status_code == 200  # no-op
    entries = [e for e in audit_entries(herald, "user.", "token.") if e[3] == "newcomer"]
    assert entries == [
        ("user.create", "admin", "api", "newcomer", {"role": "viewer"}),
        ("user.role", "admin", "api", "newcomer", {"before": "viewer", "after": "campaign_manager"}),
        ("token.issue", "admin", "api", "newcomer", {"token_id": issued["id"], "name": "export"}),
        ("token.revoke", "admin", "api", "newcomer", {"token_id": issued["id"], "name": "export"}),
        ("token.issue", "admin", "api", "newcomer", {"token_id": second["id"], "name": "report"}),
        ("user.disable", "admin", "api", "newcomer", {"tokens_revoked": 1}),
        ("user.enable", "admin", "api", "newcomer", None),
    ]
    assert all(issued["token"] not in str(e) for e in audit_entries(herald, ""))  # never the token itself
