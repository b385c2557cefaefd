"""The admins' users page over plain HTTP: set a password (the user's sessions end), change a role, disable and
enable (tokens stay revoked), each audited as done via the UI; nobody else may see or post to it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.services import auth
from herald.services.auth import Role
from herald.store.tables import audit_log
from tests.web.conftest import PASSWORD, csrf_of, log_in
from tests.web.test_access import assert_readable_refusal

NEW = "a fresh passphrase here"


def ui_changes(herald: Herald) -> list[tuple[str, str | None, str | None]]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.via == "ui").order_by(audit_log.c.id)).all()
    return [(r.action, r.actor, r.target) for r in rows if r.action.startswith(("user.", "token."))]


def test_an_admin_sets_a_password_and_that_users_sessions_end(client: TestClient, herald: Herald) -> None:
    manager = TestClient(client.app, follow_redirects=False)
    log_in(manager, Role.CAMPAIGN_MANAGER)
    assert manager.get("/campaigns").status_code == 200
    log_in(client, Role.ADMIN)
    page = client.get("/users")
    assert page.status_code == 200 and "manager" in page.text and 'href="/users"' in page.text
    csrf = csrf_of(client, "/users")
    answer = client.post("/users/manager/password", data={"csrf_token": csrf, "password": NEW, "confirm": NEW})
    assert answer.status_code == 303 and answer.headers["location"] == "/users?notice=user-password"
    assert "sessions ended" in client.get(answer.headers["location"]).text
    assert manager.get("/campaigns").status_code == 303  # logged out: its session is gone
    assert auth.login("manager", NEW, store=herald.store, clock=herald.clock)
    assert ui_changes(herald) == [("user.password", "admin", "manager")]


def test_two_different_passwords_are_refused_readably_and_change_nothing(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    csrf = csrf_of(client, "/users")
    answer = client.post("/users/manager/password", data={"csrf_token": csrf, "password": NEW, "confirm": NEW + "x"})
    assert_readable_refusal(answer, 422, "The two passwords differ")
    short = client.post("/users/manager/password", data={"csrf_token": csrf, "password": "short", "confirm": "short"})
    assert_readable_refusal(short, 422, "at least 10 characters")
    assert auth.login("manager", PASSWORD, store=herald.store, clock=herald.clock)
    assert ui_changes(herald) == []


def test_disable_and_enable_from_the_page_leave_the_old_tokens_revoked(client: TestClient, herald: Herald) -> None:
    token = auth.issue_token("viewer", "script", store=herald.store, clock=herald.clock).token
    log_in(client, Role.ADMIN)
    csrf = csrf_of(client, "/users")
    assert 'data-confirm="Disable viewer?' in client.get("/users").text
    assert client.post("/users/viewer/disable", data={"csrf_token": csrf}).status_code == 303
    assert "Disabled" in client.get("/users").text
    assert client.post("/users/viewer/enable", data={"csrf_token": csrf}).status_code == 303
    assert auth.tokens.user_for_token(token, store=herald.store, clock=herald.clock) is None
    assert client.post("/users/viewer/role", data={"csrf_token": csrf, "role": "campaign_manager"}).status_code == 303
    assert auth.get_user("viewer", store=herald.store).role is Role.CAMPAIGN_MANAGER
    assert ui_changes(herald) == [
        ("user.disable", "admin", "viewer"),
        ("user.enable", "admin", "viewer"),
        ("user.role", "admin", "viewer"),
    ]


def test_the_last_admin_cannot_disable_itself_from_the_page(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    answer = client.post("/users/admin/disable", data={"csrf_token": csrf_of(client, "/users")})
    assert_readable_refusal(answer, 409, "last active admin")
    assert auth.get_user("admin", store=herald.store).active


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_only_admins_see_the_page_or_change_anybody(client: TestClient, herald: Herald, role: Role) -> None:
    log_in(client, role)
    assert 'href="/users"' not in client.get("/campaigns").text
    assert_readable_refusal(client.get("/users"), 403, "admin role")
    csrf = csrf_of(client)  # a valid token of the caller's own session
    forged = client.post("/users/admin/password", data={"csrf_token": csrf, "password": NEW, "confirm": NEW})
    assert_readable_refusal(forged, 403, "admin role")
    assert client.post("/users/admin/disable", data={"csrf_token": csrf}).status_code == 403
    assert (
        auth.login("admin", PASSWORD, store=herald.store, clock=herald.clock)
        and auth.get_user("admin", store=herald.store).active
    )


def test_a_post_without_the_csrf_token_changes_nothing(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    assert client.post("/users/manager/password", data={"password": NEW, "confirm": NEW}).status_code == 403
    assert auth.login("manager", PASSWORD, store=herald.store, clock=herald.clock)


def test_an_admin_creates_a_user_who_then_logs_in_with_that_role(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    assert 'action="/users"' in client.get("/users").text
    form = {"csrf_token": csrf_of(client, "/users"), "username": "wanjiru", "role": "campaign_manager"}
    answer = client.post("/users", data=form | {"password": NEW, "confirm": NEW})
    assert answer.status_code == 303 and answer.headers["location"] == "/users?notice=user-created#user-wanjiru"
    page = client.get("/users").text
    assert 'id="user-wanjiru"' in page
    assert auth.login("wanjiru", NEW, store=herald.store, clock=herald.clock)
    assert auth.get_user("wanjiru", store=herald.store).role is Role.CAMPAIGN_MANAGER
    assert ui_changes(herald) == [("user.create", "admin", "wanjiru")]


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        (
            {"username": "manager", "password": NEW, "confirm": NEW},
            422,
            "A user named &#39;manager&#39; already exists",
        ),
        ({"username": "bad name", "password": NEW, "confirm": NEW}, 422, "A username is 1-100 letters"),
        ({"username": "wanjiru", "password": NEW, "confirm": NEW + "x"}, 422, "The two passwords differ"),
        ({"username": "wanjiru", "password": "short", "confirm": "short"}, 422, "at least 10 characters"),
        ({"username": "wanjiru", "password": NEW, "confirm": NEW, "role": "boss"}, 422, "Unknown role"),
    ],
)
def test_a_new_user_the_page_cannot_create_is_refused_readably(
    client: TestClient, herald: Herald, form: dict[str, str], status: int, words: str
) -> None:
    log_in(client, Role.ADMIN)
    before = auth.list_users(store=herald.store)
    answer = client.post("/users", data={"csrf_token": csrf_of(client, "/users"), "role": "viewer"} | form)
    assert_readable_refusal(answer, status, words)
    assert auth.list_users(store=herald.store) == before and ui_changes(herald) == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_only_an_admin_creates_users(client: TestClient, herald: Herald, role: Role) -> None:
    log_in(client, role)
    form = {"csrf_token": csrf_of(client), "username": "sneaky", "role": "admin", "password": NEW, "confirm": NEW}
    assert_readable_refusal(client.post("/users", data=form), 403, "admin role")
    client.cookies.clear()
    log_in(client, Role.ADMIN)
    assert_readable_refusal(client.post("/users", data=form | {"csrf_token": ""}), 403, "CSRF token")
    assert "sneaky" not in {u.username for u in auth.list_users(store=herald.store)}
