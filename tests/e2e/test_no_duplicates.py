"""The seed's duplicate problem, fixed: a daily "payments received" campaign messages each repayment once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.services import campaigns, reports, send
from herald.services.campaigns import CampaignRequest
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns as campaigns_table
from herald.store.tables import messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

DAY1 = date(2026, 11, 20)


def _request(**overrides: object) -> CampaignRequest:
    values: dict[str, object] = {
        "campaignName": "Loan payments received (Active Loans)",
        "triggerType": "schedule",
        "runReportId": 174,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1", "fromX": "0", "toY": "5"},
        "message": "Dear {{firstName}}, we received {{repaymentAmount}} for loan {{loanAccountNumber}}.",
        "recurrence": "FREQ=DAILY;BYHOUR=8;BYMINUTE=0",
        "recurrenceStartDate": "2026-11-01T08:00",
        "timezone": "Africa/Nairobi",
    }
    values.update(overrides)
    return CampaignRequest.model_validate(values)


def _messages(herald: Herald) -> list[tuple[str, int, str]]:
    with herald.store.connect() as conn:
        return [(r.dedup_key, r.status, r.body) for r in conn.execute(select(messages).order_by(messages.c.id))]


def _to_next_tick(clock: ManualClock) -> None:
    """Move to the next 08:00:30 Nairobi time (05:00:30 UTC)."""
    now = clock.now()
    target = now.replace(hour=5, minute=0, second=30, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    clock.set(target)


def _deliver_everything(herald: Herald, clock: ManualClock) -> None:
    send.run(sender_for(herald))
    clock.advance(seconds=5)
    reports.run(puller_for(herald))


def _setup(fineract: FineractBuilder) -> tuple[int, int]:
    client = fineract.client("Amina", "+254712000001")
    loan = fineract.loan(client)
    first = fineract.repayment(loan, DAY1 - timedelta(days=1), "1500")
    fineract.repayment(loan, DAY1 - timedelta(days=2), "900", reversed_=True)
    return loan, first


@pytest.fixture
def herald_any_store(db_url: str, settings: Settings, clock: ManualClock) -> Iterator[Herald]:
    """A herald whose own database is SQLite or PostgreSQL (migrated as an operator would)."""
    upgrade(make_engine(db_url))
    h = Herald.build(settings.model_copy(update={"database_url": db_url}), clock)
    yield h
    h.close()


def test_each_repayment_is_messaged_once_over_consecutive_days(
    herald_any_store: Herald, clock: ManualClock, fineract: FineractBuilder
) -> None:
    herald = herald_any_store
    loan, first = _setup(fineract)
    c = campaigns.activate(campaigns.create(_request(), **validating(herald)).id, **activating(herald))

    _to_next_tick(clock)  # day 1, 08:00:30
    assert outbound_for(herald).run()["created"] == 1
    _deliver_everything(herald, clock)
    assert _messages(herald) == [
        (
            f"loan_transaction:{first}",
            MessageStatus.DELIVERED,
            f"Dear Amina, we received KES 1,500.00 for loan L{loan:08d}.",
        )
    ]

    second = fineract.repayment(loan, DAY1 + timedelta(days=1), "2000")
    _to_next_tick(clock)  # day 2: the day-1 repayment is still inside the 0..5 window
    assert outbound_for(herald).run()["created"] == 1
    _deliver_everything(herald, clock)
    keys = [k for k, _, _ in _messages(herald)]
    assert keys == [f"loan_transaction:{first}", f"loan_transaction:{second}"]

    assert outbound_for(herald).run()["created"] == 0  # run again by hand: not due, nothing new
    campaigns.close(c.id, store=herald.store, clock=herald.clock)
    campaigns.reactivate(c.id, **activating(herald))
    for _ in range(3):  # days 3..5, windows still overlap both repayments
        _to_next_tick(clock)
        result = outbound_for(herald).run()
        assert result["created"] == 0 and result["already"] == 2
    assert len(_messages(herald)) == 2
    assert all(status == MessageStatus.DELIVERED for _, status, _ in _messages(herald))


def test_a_job_rerun_after_a_crash_between_materializing_and_sending_sends_once(
    settings: Settings, clock: ManualClock, fineract: FineractBuilder
) -> None:
    _setup(fineract)
    herald = Herald.build(settings, clock)
    c = campaigns.activate(campaigns.create(_request(), **validating(herald)).id, **activating(herald))
    _to_next_tick(clock)
    assert outbound_for(herald).run()["created"] == 1
    # The process dies before its trigger dates were saved and before sending: roll them back.
    with herald.store.begin() as conn:
        conn.execute(
            update(campaigns_table)
            .where(campaigns_table.c.id == c.id)
            .values(last_trigger_at=clock.now() - timedelta(hours=2))
        )
    herald.close()

    restarted = Herald.build(settings, clock)
    result = outbound_for(restarted).run()
    assert (result["created"], result["already"]) == (0, 1)
    assert send.run(sender_for(restarted))["accepted"] == 1
    assert send.run(sender_for(restarted))["accepted"] == 0
    clock.advance(seconds=5)
    reports.run(puller_for(restarted))
    assert [s for _, s, _ in _messages(restarted)] == [MessageStatus.DELIVERED]
    restarted.close()


def test_missed_days_run_once_when_the_worker_comes_back(
    herald: Herald, clock: ManualClock, fineract: FineractBuilder
) -> None:
    _setup(fineract)
    c = campaigns.activate(campaigns.create(_request(), **validating(herald)).id, **activating(herald))
    clock.advance(days=3, hours=2)  # down for three daily occurrences
    assert outbound_for(herald).run()["campaigns"] == 1
    assert outbound_for(herald).run()["campaigns"] == 0
    after = campaigns.get(c.id, store=herald.store)
    assert after.next_trigger_at is not None and after.next_trigger_at > clock.now()
    assert after.last_trigger_at is not None and clock.now() - after.last_trigger_at < timedelta(days=1)
