"""REST users and tokens (admin only): creation with checks, role changes, disabling, tokens shown once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, assert_error


def test_an_admin_creates_a_user_who_can_then_be_read(client: TestClient, admin: dict[str, str]) -> None:
    body = {"username": "wanjiku", "role": "campaign_manager", "password": "long enough password"}
    created = client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["role"] == "campaign_manager"
    assert "password" not in created.text and body["password"] not in created.text
    assert client.get("/api/v1/users/wanjiku", headers=admin).json()["active"] is True
    assert "wanjiku" in [u["username"] for u in client.get("/api/v1/users", headers=admin).json()]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "viewer"}, "username"),
        ({"username": "has space"}, "username"),
        ({"password": "short"}, "password"),
        ({"role": "boss"}, "role"),
        ({"extra": True}, "extra"),
    ],
)
def test_a_bad_user_is_refused_with_its_field(
    client: TestClient, admin: dict[str, str], changes: dict[str, object], field: str
) -> None:
    body = {"username": "new-user", "role": "viewer", "password": "long enough password"} | changes
    assert_error(client.post("/api/v1/users", json=body, headers=admin), 422, "validation_error", field)


def test_a_role_change_and_a_disable_take_effect_at_once(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    promoted = client.patch("/api/v1/users/viewer", json={"role": "campaign_manager"}, headers=admin)
    assert promoted.json()["role"] == "campaign_manager"
    assert client.post("/api/v1/jobs/send/run", headers=viewer).status_code == 200
    assert client.patch("/api/v1/users/viewer", json={"active": False}, headers=admin).json()["active"] is False
    assert_error(client.get("/api/v1/me", headers=viewer), 401, "unauthenticated")


def test_the_last_admin_cannot_be_disabled_or_demoted(client: TestClient, admin: dict[str, str]) -> None:
    for change in ({"active": False}, {"role": "viewer"}):
        assert_error(client.patch("/api/v1/users/admin", json=change, headers=admin), 409, "lifecycle_conflict")


def test_an_unknown_user_is_not_found(client: TestClient, admin: dict[str, str]) -> None:
    assert_error(client.get("/api/v1/users/nobody", headers=admin), 404, "not_found")
    assert_error(client.patch("/api/v1/users/nobody", json={}, headers=admin), 404, "not_found")
    body = {"username": "nobody", "name": "script"}
    assert_error(client.post("/api/v1/tokens", json=body, headers=admin), 404, "not_found")


def test_a_token_is_shown_once_and_works_until_revoked(client: TestClient, admin: dict[str, str]) -> None:
    issued = client.post("/api/v1/tokens", json={"username": "viewer", "name": "nightly export"}, headers=admin)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("hrd_")
    listed = client.get("/api/v1/tokens", headers=admin)
    assert token not in listed.text and "nightly export" in listed.text
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "viewer"
    assert client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=admin).status_code == 204
    assert_error(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthenticated")
    assert_error(client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=admin), 404, "not_found")


def test_no_answer_ever_contains_a_password_or_another_token(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    answers = [client.get(path, headers=admin).text for path in ("/api/v1/users", "/api/v1/tokens", "/api/v1/me")]
    for text in answers:
        assert PASSWORD not in text and "hrd_" not in text and "argon2" not in text
