"""Fineract's external events through herald's consumer: every triggered rule, duplicates, hooks too, bad events.

The consumer is handed broker messages as the transport hands them (tests/events/test_stomp_transport.py
drives the real broker); the events are written as Fineract writes them (tests/fineract_events.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.events.avro import shipped_book
from herald.events.transport import Delivery
from herald.services.external_events import EventConsumer
from herald.store.tables import dead_letters, messages
from tests.e2e.conftest import START
from tests.e2e.test_fineract_hooks import URL, _campaign, _hook, _scenario, _statuses
from tests.fineract_builder import FineractBuilder
from tests.fineract_events import EventWriter

WRITER = EventWriter()
_broker_ids = iter(range(1, 10**6))


def _consumer(herald: Herald) -> EventConsumer:
    return EventConsumer(
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        date_format=herald.settings.date_format,
        default_region=herald.settings.default_region,
        book=shipped_book(),
        alphabets=herald.providers.alphabets,
    )


def _delivery(body: bytes) -> Delivery:
    return Delivery(body, f"ID:broker-{next(_broker_ids)}")


def _event_of(rule: int, response: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The external event Fineract publishes for the fact the hook response describes."""
    resource, client = response["resourceId"], response.get("clientId")
    return {
        179: ("LoanTransactionMakeRepaymentPostBusinessEvent", {"id": resource, "loanId": response.get("loanId")}),
        180: ("LoanApprovedBusinessEvent", {"id": resource, "clientId": client}),
        181: ("LoanRejectedBusinessEvent", {"id": resource, "clientId": client}),
        182: ("ClientRejectBusinessEvent", {"id": resource}),
        183: ("ClientActivateBusinessEvent", {"id": resource}),
        184: ("SavingsRejectBusinessEvent", {"id": resource, "clientId": client}),
        185: ("SavingsActivateBusinessEvent", {"id": resource, "clientId": client}),
        186: ("SavingsDepositBusinessEvent", {"id": resource, "accountId": response.get("savingsId")}),
        187: ("SavingsWithdrawalBusinessEvent", {"id": resource, "accountId": response.get("savingsId")}),
    }[rule]


@pytest.fixture
def consumer(hooked: tuple[TestClient, Herald]) -> Iterator[EventConsumer]:
    yield _consumer(hooked[1])


@pytest.mark.parametrize("rule", [179, 180, 181, 182, 183, 184, 185, 186, 187])
def test_every_triggered_rule_fires_from_its_event_once_and_a_hook_of_the_same_fact_adds_nothing(
    hooked: tuple[TestClient, Herald], consumer: EventConsumer, fineract: FineractBuilder, rule: int
) -> None:
    client, herald = hooked
    entity, action, response, template, expected = _scenario(rule, fineract)
    extra = {"loanOfficerId": "-1"} if rule in (182, 183, 184, 185) else {}
    _campaign(herald, rule, template, **extra)
    type_, payload = _event_of(rule, response)
    body = WRITER.event(type_, payload, created_at=START)
    done = consumer.handle([_delivery(body)])
    assert (done.created, done.parked, len(done.pending_ids)) == (1, 0, 1)
    assert consumer.handle([_delivery(body)]).duplicates == 1  # the broker delivered it again
    again = WRITER.event(type_, payload, created_at=START)  # Fineract published it twice, under a new key
    assert consumer.handle([_delivery(again)]).created == 0
    assert client.post(URL, **_hook(entity, action, response)).json()["created"] == 0  # the hook of the same fact
    assert [body for body, _ in _statuses(herald)] == [expected]


def test_a_hook_first_then_the_event_sends_once(
    hooked: tuple[TestClient, Herald], consumer: EventConsumer, fineract: FineractBuilder
) -> None:
    client, herald = hooked
    entity, action, response, template, _ = _scenario(179, fineract)
    _campaign(herald, 179, template)
    assert client.post(URL, **_hook(entity, action, response)).json()["created"] == 1
    type_, payload = _event_of(179, response)
    assert consumer.handle([_delivery(WRITER.event(type_, payload, created_at=START))]).created == 0
    assert len(_statuses(herald)) == 1


def test_a_bulk_event_reaches_every_client_it_names(
    hooked: tuple[TestClient, Herald], consumer: EventConsumer, fineract: FineractBuilder
) -> None:
    _, herald = hooked
    _campaign(herald, 183, "Karibu {{firstName}}", loanOfficerId="-1")
    clients = [fineract.client(name, f"+25471200010{n}") for n, name in enumerate(["Amina", "Baraka", "Chebet"])]
    body = WRITER.bulk([("ClientActivateBusinessEvent", {"id": c}) for c in clients], created_at=START)
    assert consumer.handle([_delivery(body)]).created == 3
    assert consumer.handle([_delivery(body)]).duplicates == 3
    assert sorted(b for b, _ in _statuses(herald)) == ["Karibu Amina", "Karibu Baraka", "Karibu Chebet"]


def test_what_herald_cannot_read_is_kept_aside_with_the_reason_and_the_events_behind_it_go_on(
    hooked: tuple[TestClient, Herald], consumer: EventConsumer, fineract: FineractBuilder
) -> None:
    _, herald = hooked
    _campaign(herald, 183, "Karibu {{firstName}}", loanOfficerId="-1")
    amina, baraka = fineract.client("Amina", "+254712000101"), fineract.client("Baraka", "+254712000102")
    batch = [
        _delivery(b"not avro at all"),
        _delivery(WRITER.event("ClientActivateBusinessEvent", {"id": amina}, created_at=START)),
        _delivery(WRITER.event("ClientActivateBusinessEvent", {"id": baraka}, tenant="mombasa", created_at=START)),
        _delivery(WRITER.event("ClientActivateBusinessEvent", {}, created_at=START)),  # no client id
    ]
    done = consumer.handle(batch)
    assert (done.created, done.parked) == (1, 3)
    assert _statuses(herald) == [("Karibu Amina", MessageStatus.PENDING)]
    with herald.store.connect() as conn:
        kept = conn.execute(select(dead_letters.c.reason, dead_letters.c.body).order_by(dead_letters.c.id)).all()
    assert "not Avro single-object encoding" in kept[0].reason and kept[0].body == b"not avro at all"
    assert "'mombasa'" in kept[1].reason and "HERALD_TENANTS" in kept[1].reason
    assert "has no clientId" in kept[2].reason
    assert consumer.handle(batch[:1]).parked == 1  # the broker delivered the bad one again: still kept once
    with herald.store.connect() as conn:
        assert len(conn.execute(select(dead_letters.c.id)).all()) == 3


def test_events_no_campaign_listens_to_are_dropped_without_a_trace(
    hooked: tuple[TestClient, Herald], consumer: EventConsumer, fineract: FineractBuilder
) -> None:
    _, herald = hooked
    client = fineract.client("Amina", "+254712000101")
    charge_off = WRITER.envelope("LoanChargeOffPostBusinessEvent", "Loan", "org.example.X", b"\xc3\x01" + bytes(9))
    done = consumer.handle(
        [_delivery(charge_off), _delivery(WRITER.event("ClientActivateBusinessEvent", {"id": client}))]
    )
    assert (done.dropped, done.created, done.parked) == (1, 0, 0)
    with herald.store.connect() as conn:
        assert conn.execute(select(messages.c.id)).all() == []
