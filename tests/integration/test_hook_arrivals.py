"""When Fineract's hook last called, per tenant and event, on SQLite and PostgreSQL: counted, latest time kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from herald.store import hook_arrivals
from herald.store.database import make_engine, upgrade

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
REPAYMENT = ("LOAN", "REPAYMENT")


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def test_each_call_is_counted_and_the_latest_time_wins(engine: Engine) -> None:
    with engine.begin() as conn:
        hook_arrivals.record(conn, tenant="default", entity="LOAN", action="REPAYMENT", at=AT, succeeded=True)
        later = AT + timedelta(minutes=5)
        hook_arrivals.record(conn, tenant="default", entity="LOAN", action="REPAYMENT", at=later, succeeded=False)
        # A hook delivered late, out of order, counts but does not move the time back.
        hook_arrivals.record(conn, tenant="default", entity="LOAN", action="REPAYMENT", at=AT, succeeded=True)
        hook_arrivals.record(conn, tenant="kampala", entity="LOAN", action="REPAYMENT", at=AT, succeeded=True)
        hook_arrivals.record(conn, tenant="default", entity="CLIENT", action="ACTIVATE", at=AT, succeeded=True)
    with engine.connect() as conn:
        (found,) = hook_arrivals.latest(conn, tenant="default", events=(REPAYMENT,))
        both = hook_arrivals.latest(conn, tenant="default", events=(REPAYMENT, ("CLIENT", "ACTIVATE")))
        none = hook_arrivals.latest(conn, tenant="default", events=(("SAVINGSACCOUNT", "DEPOSIT"),))
    assert (found.received, found.last_at, found.last_succeeded) == (3, later, False)
    assert [(a.entity, a.action) for a in both] == [REPAYMENT, ("CLIENT", "ACTIVATE")]  # newest first
    assert none == []
