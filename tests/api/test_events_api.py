"""REST: the dead letters, for admins only: paged without bodies, retried, discarded (audited), refused in one shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.events.transport import Delivery
from herald.services.auth import Role
from herald.store.tables import audit_log, dead_letters
from tests.api.conftest import START, Caller, assert_error
from tests.fineract_events import EventWriter

WRITER = EventWriter()
URL = "/api/v1/events/dead-letters"


def _park(herald: Herald, count: int) -> list[int]:
    bodies = [
        WRITER.event("ClientActivateBusinessEvent", {"id": n + 1}, tenant="kampala", created_at=START)
        for n in range(count)
    ]
    herald.event_consumer().handle([Delivery(b, f"ID:broker-{n}") for n, b in enumerate(bodies)])
    with herald.store.connect() as conn:
        return [r[0] for r in conn.execute(select(dead_letters.c.id).order_by(dead_letters.c.id))]


def test_admins_page_through_the_letters_newest_first_without_bodies(
    client: TestClient, herald: Herald, admin: dict[str, str]
) -> None:
    ids = _park(herald, 3)
    first = client.get(URL, params={"limit": 2}, headers=admin)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    page = first.json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert [i["id"] for i in page["items"]] == [ids[2], ids[1]]
    item = page["items"][0]
    assert set(item) == {"id", "ref", "receivedAt", "tenant", "type", "brokerMessageId", "reason", "size"}
    assert (item["tenant"], item["type"], item["brokerMessageId"]) == (
        "kampala",
        "ClientActivateBusinessEvent",
        "ID:broker-2",
    )
    assert item["receivedAt"] == "2026-11-20T04:00:00Z" and "HERALD_TENANTS" in item["reason"] and item["size"] > 0
    rest = client.get(URL, params={"limit": 2, "offset": 2}, headers=admin).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["total"] == 3
    assert_error(client.get(URL, params={"limit": 0}, headers=admin), 422, "validation_error", "limit")
    assert_error(client.get(URL, params={"offset": -1}, headers=admin), 422, "validation_error", "offset")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_nobody_but_an_admin_lists_retries_or_discards(
    client: TestClient, herald: Herald, users: dict[Role, Caller], role: Role
) -> None:
    [letter] = _park(herald, 1)
    headers = users[role].headers
    for answer in (
        client.get(URL, headers=headers),
        client.post(f"{URL}/{letter}/retry", headers=headers),
        client.delete(f"{URL}/{letter}", params={"reason": "x"}, headers=headers),
    ):
        assert_error(answer, 403, "forbidden")
    assert_error(client.get(URL), 401, "unauthenticated")
    with herald.store.connect() as conn:
        assert conn.execute(select(dead_letters.c.id)).all() == [(letter,)]


def test_a_retry_that_fails_again_answers_the_reason_and_a_discard_is_audited(
    client: TestClient, herald: Herald, admin: dict[str, str]
) -> None:
    [letter] = _park(herald, 1)
    again = client.post(f"{URL}/{letter}/retry", headers=admin)
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["id"], body["wentThrough"], body["created"]) == (letter, False, 0)
    assert "'kampala'" in body["reason"]

    assert_error(client.delete(f"{URL}/{letter}", headers=admin), 422, "validation_error", "reason")
    assert_error(client.delete(f"{URL}/{letter}", params={"reason": "   "}, headers=admin), 422, "validation_error")
    gone = client.delete(f"{URL}/{letter}", params={"reason": "kampala is not ours"}, headers=admin)
    assert gone.status_code == 204
    with herald.store.connect() as conn:
        [entry] = conn.execute(select(audit_log).where(audit_log.c.action == "event.discard")).all()
    assert (entry.actor, entry.via, entry.detail["reason"]) == ("admin", "api", "kampala is not ours")
    assert client.get(URL, headers=admin).json()["total"] == 0


def test_a_letter_that_is_not_there_is_a_404_in_the_one_error_shape(client: TestClient, admin: dict[str, str]) -> None:
    assert_error(client.post(f"{URL}/99/retry", headers=admin), 404, "not_found")
    assert_error(client.delete(f"{URL}/99", params={"reason": "x"}, headers=admin), 404, "not_found")
    assert_error(client.post(f"{URL}/0/retry", headers=admin), 422, "validation_error")
    assert_error(client.post(f"{URL}/{2**63}/retry", headers=admin), 422, "validation_error")


def test_the_routes_are_in_the_openapi_schema_with_the_error_shapes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths[URL]) == {"get"}
    assert set(paths[f"{URL}/{{letter_id}}/retry"]) == {"post"}
    assert set(paths[f"{URL}/{{letter_id}}"]) == {"delete"}
    for status in ("401", "403", "404", "422"):
        assert status in paths[f"{URL}/{{letter_id}}"]["delete"]["responses"]
