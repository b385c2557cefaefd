"""The dead letters' and the stream's store functions on SQLite and PostgreSQL: one letter, its removal and new
reason, the ids a batch at a time, every tenant's arrivals, and the events acted on per hour in one pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from herald.store import external_events as store
from herald.store.database import make_engine, upgrade

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def test_a_letter_is_read_whole_reasoned_again_and_removed(engine: Engine) -> None:
    raw = bytes(range(256))
    with engine.begin() as conn:
        for n in range(5):
            store.park(conn, ref=f"k{n}", at=AT, broker_message_id=f"ID:{n}", reason="old", body=raw, tenant="t")
    with engine.connect() as conn:
        ids = store.dead_ids(conn, limit=2)
        assert store.dead_ids(conn, after=ids[-1], limit=10) == [ids[-1] + n for n in (1, 2, 3)]
        found = store.dead_letter(conn, ids[0])
        assert store.dead_letter(conn, 10**12) is None
    assert found is not None
    letter, body = found
    assert (letter.ref, letter.received_at, letter.tenant, letter.size, body) == ("k0", AT, "t", 256, raw)
    with engine.begin() as conn:
        assert store.repark(conn, "k0", "new") and not store.repark(conn, "nope", "new")
        assert store.unpark(conn, ids[1]) and not store.unpark(conn, ids[1])
    with engine.connect() as conn:
        assert [d.reason for d in store.dead(conn)][-1] == "new"
        assert store.dead_count(conn) == 4


def test_arrivals_for_every_tenant_and_events_acted_on_per_hour(engine: Engine) -> None:
    acted = [store.ActedOn(f"e{n}", "default", "ClientActivateBusinessEvent", n + 1, None, 1) for n in range(6)]
    with engine.begin() as conn:
        store.arrived(conn, tenant="kampala", entity="LOAN", action="REPAYMENT", at=AT, count=4)
        store.arrived(conn, tenant="default", entity="CLIENT", action="ACTIVATE", at=AT)
        store.remember(conn, acted[:1], AT - timedelta(minutes=1))  # before the window
        store.remember(conn, acted[1:3], AT)  # the first hour, its start included
        store.remember(conn, acted[3:5], AT + timedelta(hours=2, minutes=59))
        store.remember(conn, acted[5:], AT + timedelta(hours=3))  # the end is not included
    with engine.connect() as conn:
        arrivals = store.all_arrivals(conn)
        per_hour = store.acted_per_hour(conn, AT, 3)
    assert [(a.tenant, a.entity, a.received, a.last_at) for a in arrivals] == [
        ("default", "CLIENT", 1, AT),
        ("kampala", "LOAN", 4, AT),
    ]
    assert per_hour == [2, 0, 2]


def test_an_id_is_never_given_again_after_its_letter_is_discarded(engine: Engine) -> None:
    """`herald events discard 2` typed from an old listing must not reach a letter that came after 2 went."""
    with engine.begin() as conn:
        for n in range(2):
            store.park(conn, ref=f"k{n}", at=AT, broker_message_id=f"ID:{n}", reason="bad", body=b"x", tenant="t")
    with engine.connect() as conn:
        newest = store.dead_ids(conn, limit=10)[-1]
    with engine.begin() as conn:
        assert store.unpark(conn, newest)
        store.park(conn, ref="k2", at=AT, broker_message_id="ID:2", reason="bad", body=b"y", tenant="t")
    with engine.connect() as conn:
        assert store.dead_ids(conn, limit=10)[-1] > newest
