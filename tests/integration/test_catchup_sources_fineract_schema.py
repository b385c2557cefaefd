"""The catch-up job's reads of Fineract, read-only against Fineract's full real-type tables (PostgreSQL, MariaDB).

Transactions come by id above a mark with the ids their hook carries and the instant Fineract
wrote them (created_on_utc: timestamptz on PostgreSQL, a zoneless DATETIME(6) in UTC on MariaDB);
reversals, other types and other rules' rows never come. Status changes come by date, in (date,
id) order, from a day on, and a day can be resumed after an id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from herald.corebank import catchup_sources as sources
from tests.integration import test_rules_fineract_schema as full
from tests.integration.test_rules_fineract_schema import TODAY, Bank
from tests.integration.test_triggered_rules_fineract_schema import saving, savings, savings_product, update_loan

bank = full.bank  # the parametrised real-type database (see test_triggered_rules_fineract_schema)
WRITTEN = datetime(2023, 3, 15, 5, 30, 12, 345678, tzinfo=UTC)  # the rows' created_on_utc


def test_money_received_on_loans_comes_by_id_with_its_hooks_ids_and_instant(bank: Bank) -> None:
    bank.client(10, 3)
    bank.loan(90, 10)
    bank.txn(900, 90, TODAY)
    bank.txn(901, 90, TODAY, reversed_=True)
    bank.txn(902, 90, TODAY, type_=1)  # a disbursement
    bank.txn(903, 90, TODAY, type_=8)  # a recovery payment: its hook is LOAN/RECOVERYPAYMENT
    bank.txn(904, 90, TODAY)
    with bank.reader.connect() as conn:
        assert sources.newest_id(conn, 179) == 904
        found = sources.events_after_id(conn, 179, 0, 10)
        assert [(e.id, e.action, e.ids) for e in found] == [
            (900, "REPAYMENT", {"loanTransactionId": 900, "loanId": 90}),
            (903, "RECOVERYPAYMENT", {"loanTransactionId": 903, "loanId": 90}),
            (904, "REPAYMENT", {"loanTransactionId": 904, "loanId": 90}),
        ]
        assert found[0].created == WRITTEN and found[0].on == TODAY
        assert [e.id for e in sources.events_after_id(conn, 179, 900, 1)] == [903]  # a batch of one
        assert sources.events_after_id(conn, 179, 904, 10) == []


def test_deposits_and_withdrawals_come_by_id_never_a_reversal(bank: Bank) -> None:
    bank.client(10, 3)
    savings_product(bank)
    savings(bank, 70, 10)
    saving(bank, 700, 70)
    saving(bank, 701, 70, type_=2)
    saving(bank, 702, 70, reversed_=True)
    saving(bank, 703, 70, reversal=True)
    with bank.reader.connect() as conn:
        deposits = sources.events_after_id(conn, 186, 0, 10)
        withdrawals = sources.events_after_id(conn, 187, 0, 10)
    assert [(e.id, e.action, e.ids) for e in deposits] == [
        (700, "DEPOSIT", {"savingsTransactionId": 700, "savingsId": 70})
    ]
    assert [(e.id, e.action) for e in withdrawals] == [(701, "WITHDRAWAL")]
    assert deposits[0].created == WRITTEN


def test_loan_approvals_come_by_date_in_date_then_id_order_and_resume_after_an_id(bank: Bank) -> None:
    for cid, lid in ((10, 80), (11, 81), (12, 82), (13, 83)):
        bank.client(cid, 3)
        bank.loan(lid, cid)
    yesterday, tomorrow = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
    update_loan(bank, 83, approvedon_date=yesterday)
    update_loan(bank, 82, approvedon_date=TODAY)
    update_loan(bank, 80, approvedon_date=TODAY)
    update_loan(bank, 81, approvedon_date=tomorrow)  # a business date ahead of herald's today: not yet
    with bank.reader.connect() as conn:
        found = sources.events_from_date(conn, 180, yesterday, TODAY, None, 10)
        assert [(e.id, e.on, e.action, e.ids, e.created) for e in found] == [
            (83, yesterday, "APPROVE", {"loanId": 83}, None),
            (80, TODAY, "APPROVE", {"loanId": 80}, None),
            (82, TODAY, "APPROVE", {"loanId": 82}, None),
        ]
        assert [e.id for e in sources.events_from_date(conn, 180, TODAY, TODAY, None, 10)] == [80, 82]
        assert [e.id for e in sources.events_from_date(conn, 180, yesterday, TODAY, (TODAY, 80), 10)] == [82]
        assert sources.events_from_date(conn, 181, yesterday, TODAY, None, 10) == []  # no rejection
