"""Dead letters retried once their cause is fixed, kept again with a fresh reason, or discarded with an audit entry.

Two Heralds share one database, as an installation before and after its admin changed the
settings: the first does not serve tenant "kampala" (or "mombasa"), the second does. The events are
written as Fineract writes them and handled by the consumer each Herald builds for its worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.errors import NotFoundError, ValidationError
from herald.events.transport import Delivery
from herald.services import campaigns, dead_letters
from herald.services.audit import Actor
from herald.services.campaigns import CampaignRequest
from herald.store.tables import audit_log, messages
from herald.store.tables import dead_letters as dead_table
from tests.campaign_parts import activating, validating
from tests.e2e.conftest import START
from tests.fineract_builder import FineractBuilder
from tests.fineract_events import EventWriter

WRITER = EventWriter()
ADMIN = Actor.ui("admin")


def _settings(tmp_path: Path, fineract: FineractBuilder, **tenants: str) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        simulator_failure_ratio=0.0,
        tenants=json.dumps(tenants) if tenants else None,
    )


@pytest.fixture
def kampala(tmp_path: Path) -> FineractBuilder:
    return FineractBuilder(f"sqlite:///{tmp_path / 'kampala.sqlite'}")


@pytest.fixture
def before(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> Iterator[Herald]:
    """herald as installed first: only the default tenant."""
    h = Herald.build(_settings(tmp_path, fineract), clock)
    yield h
    h.close()


@pytest.fixture
def after(
    tmp_path: Path, fineract: FineractBuilder, kampala: FineractBuilder, clock: ManualClock, before: Herald
) -> Iterator[Herald]:
    """The same installation once the admin added kampala and mombasa to HERALD_TENANTS."""
    h = Herald.build(_settings(tmp_path, fineract, kampala=kampala.url, mombasa=kampala.url), clock)
    yield h
    h.close()


def _welcome(herald: Herald, tenant: str) -> int:
    """An active Client Activated campaign for one tenant."""
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": f"welcome {tenant}",
                "triggerType": "triggered",
                "runReportId": 183,
                "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
                "message": "Karibu {{firstName}}",
                "tenantId": tenant,
            }
        ),
        **validating(herald),
    )
    return campaigns.activate(c.id, **activating(herald)).id


def _bodies(herald: Herald) -> list[str]:
    with herald.store.connect() as conn:
        return [r.body for r in conn.execute(select(messages).order_by(messages.c.id))]


def _letters(herald: Herald) -> list[tuple[int, str, str]]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(dead_table.c.id, dead_table.c.ref, dead_table.c.reason).order_by(dead_table.c.id))
        return [(r.id, r.ref, r.reason) for r in rows]


def test_a_letter_for_a_tenant_herald_did_not_serve_goes_through_once_the_tenant_is_added(
    before: Herald, after: Herald, kampala: FineractBuilder
) -> None:
    nakato = kampala.client("Nakato", "+254712000201")
    body = WRITER.event("ClientActivateBusinessEvent", {"id": nakato}, tenant="kampala", created_at=START)
    assert before.event_consumer().handle([Delivery(body, "ID:broker-1")]).parked == 1
    [(letter, _, reason)] = _letters(before)
    assert "'kampala'" in reason and "HERALD_TENANTS" in reason

    _welcome(after, "kampala")
    result = dead_letters.retry(letter, after.event_consumer(), ADMIN, store=after.store, clock=after.clock)
    assert (result.went_through, result.created, result.reason) == (True, 1, None)
    assert _letters(after) == []
    assert _bodies(after) == ["Karibu Nakato"]

    with pytest.raises(NotFoundError, match=f"no dead letter {letter}"):  # a second retry finds nothing
        dead_letters.retry(letter, after.event_consumer(), ADMIN, store=after.store, clock=after.clock)
    assert dead_letters.retry_all(after.event_consumer(), ADMIN, store=after.store, clock=after.clock).tried == 0
    # The broker delivering it once more (at least once) changes nothing either.
    assert after.event_consumer().handle([Delivery(body, "ID:broker-1", redelivered=True)]).duplicates == 1
    assert _bodies(after) == ["Karibu Nakato"]


def test_a_letter_whose_event_the_worker_acted_on_meanwhile_is_removed_without_a_second_message(
    before: Herald, after: Herald, kampala: FineractBuilder
) -> None:
    nakato = kampala.client("Nakato", "+254712000201")
    body = WRITER.event("ClientActivateBusinessEvent", {"id": nakato}, tenant="kampala", created_at=START)
    before.event_consumer().handle([Delivery(body, "ID:broker-1")])
    [(letter, _, _)] = _letters(before)
    _welcome(after, "kampala")
    assert after.event_consumer().handle([Delivery(body, "ID:broker-1", redelivered=True)]).created == 1
    result = dead_letters.retry(letter, after.event_consumer(), ADMIN, store=after.store, clock=after.clock)
    assert (result.went_through, result.created, result.duplicates) == (True, 0, 1)
    assert _letters(after) == [] and _bodies(after) == ["Karibu Nakato"]


def test_a_retry_that_fails_again_keeps_the_letter_with_its_new_reason(before: Herald, after: Herald) -> None:
    body = WRITER.event("ClientActivateBusinessEvent", {}, tenant="mombasa", created_at=START)  # no client id
    before.event_consumer().handle([Delivery(body, "ID:broker-7")])
    [(letter, ref, reason)] = _letters(before)
    assert "'mombasa'" in reason

    result = dead_letters.retry(letter, after.event_consumer(), ADMIN, store=after.store, clock=after.clock)
    assert not result.went_through and result.created == 0
    assert result.reason is not None and "has no clientId" in result.reason
    assert _letters(after) == [(letter, ref, result.reason)]  # the same letter, its reason the new one
    assert dead_letters.get(letter, store=after.store).reason == result.reason
    with after.store.connect() as conn:
        [(action, detail)] = conn.execute(select(audit_log.c.action, audit_log.c.detail)).all()
    assert action == "event.retry" and detail["keptAside"] == 1


def test_a_bulk_event_that_now_half_goes_through_keeps_the_other_half_with_the_same_body(
    before: Herald, after: Herald, kampala: FineractBuilder
) -> None:
    nakato = kampala.client("Nakato", "+254712000201")
    body = WRITER.bulk(
        [("ClientActivateBusinessEvent", {"id": nakato}), ("ClientActivateBusinessEvent", {})],
        tenant="kampala",
        created_at=START,
    )
    before.event_consumer().handle([Delivery(body, "ID:broker-9")])
    [(letter, first_ref, _)] = _letters(before)  # the whole message, under its first event's key

    _welcome(after, "kampala")
    result = dead_letters.retry(letter, after.event_consumer(), ADMIN, store=after.store, clock=after.clock)
    assert (result.went_through, result.created) == (False, 1)
    [(kept, ref, reason)] = _letters(after)
    assert ref != first_ref and "has no clientId" in reason
    assert dead_letters.body(kept, store=after.store) == body  # nothing of the message is lost
    assert _bodies(after) == ["Karibu Nakato"]


def test_discard_removes_the_letter_and_the_audit_log_keeps_who_and_why(before: Herald) -> None:
    before.event_consumer().handle([Delivery(b"not avro at all", "ID:broker-3")])
    [(letter, ref, _)] = _letters(before)
    with pytest.raises(ValidationError, match="Say why"):
        dead_letters.discard(letter, "  ", ADMIN, store=before.store, clock=before.clock)
    assert len(_letters(before)) == 1

    dead_letters.discard(
        letter, "a test message from the broker's console", ADMIN, store=before.store, clock=before.clock
    )
    assert _letters(before) == []
    with before.store.connect() as conn:
        [entry] = conn.execute(select(audit_log)).all()
    assert (entry.action, entry.actor, entry.via, entry.target) == (
        "event.discard",
        "admin",
        "ui",
        f"dead letter {letter}",
    )
    assert entry.detail["reason"] == "a test message from the broker's console" and entry.detail["ref"] == ref
    assert "not Avro" in entry.detail["keptBecause"]
    with pytest.raises(NotFoundError):
        dead_letters.discard(letter, "again", ADMIN, store=before.store, clock=before.clock)


def test_retry_all_goes_through_what_it_can_and_keeps_the_rest(
    before: Herald, after: Herald, kampala: FineractBuilder
) -> None:
    clients = [kampala.client(name, f"+25471200030{n}") for n, name in enumerate(["Nakato", "Okello", "Apio"])]
    batch = [
        Delivery(WRITER.event("ClientActivateBusinessEvent", {"id": c}, tenant="kampala", created_at=START), f"ID:{n}")
        for n, c in enumerate(clients)
    ]
    batch.append(Delivery(b"garbage", "ID:garbage"))
    assert before.event_consumer().handle(batch).parked == 4
    _welcome(after, "kampala")
    done = dead_letters.retry_all(after.event_consumer(), ADMIN, store=after.store, clock=after.clock, batch=2)
    assert (done.tried, done.went_through, done.kept, done.created) == (4, 3, 1, 3)
    assert sorted(_bodies(after)) == ["Karibu Apio", "Karibu Nakato", "Karibu Okello"]
    [(_, ref, _)] = _letters(after)
    assert ref == "broker:ID:garbage"


def test_a_reason_quoting_a_phone_number_is_masked(before: Herald) -> None:
    # A reason herald writes never holds one today; one written by an older herald, or a decoder's
    # message quoting a body's bytes, is masked on the way out all the same.
    with before.store.begin() as conn:
        from herald.store import external_events

        external_events.park(
            conn, ref="x", at=START, broker_message_id="ID:x", reason="bad mobileNo +254712345678", body=b"x"
        )
    [letter] = dead_letters.page(store=before.store).letters
    assert "+254712345678" not in letter.reason and "+2547" in letter.reason
