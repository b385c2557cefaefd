"""herald's own triggered rules (1001-1005), read-only against Fineract's full real-type tables.

The databases of the Fineract rules' real-schema test (tests/fineract_ddl on PostgreSQL and MariaDB,
an admin writes, herald's read-only engine or a SELECT-only account reads): BIT(1) and boolean
`completed_derived` / `is_down_payment`, DECIMAL(19,6) amounts, DATE due dates compared with the
bound business date. Each event carries the ids Fineract's external event (or hook) gives.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from herald.corebank.recent_events import latest_event
from herald.domain.dedup import dedup_key
from herald.rules.catalog import get_rule
from tests.integration import test_rules_fineract_schema as full
from tests.integration.test_rules_fineract_schema import KES, TODAY, Bank
from tests.integration.test_triggered_rules_fineract_schema import fire, group_with_members, update_loan

# The parametrised fixture (PostgreSQL and MariaDB), bound by assignment as the Fineract rules' test does.
bank = full.bank


def schedule(bank: Bank, loan: int, first_id: int) -> None:
    """Around TODAY (15 Mar 2023): #1 paid, #2 and #3 overdue, #4 due in 3 days."""
    bank.instalment(first_id, loan, date(2023, 1, 15), number=1, completed=True, principal_completed_derived=1_000)
    bank.instalment(first_id + 1, loan, date(2023, 2, 15), number=2, interest_amount=250)
    bank.instalment(first_id + 2, loan, date(2023, 3, 1), number=3, principal_completed_derived=300)
    bank.instalment(
        first_id + 3,
        loan,
        date(2023, 3, 18),
        number=4,
        interest_amount=Decimal("250.5"),
        fee_charges_amount=50,
        penalty_charges_amount=20,
        principal_completed_derived=200,
        penalty_charges_waived_derived=20,
    )


def test_1001_1002_an_instalments_due_and_overdue_events_on_the_real_schema(bank: Bank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")
    bank.loan(90, 10, officer=100, currency=KES, principal=100_000, outstanding=(Decimal("60000.5"), 5_000, 0, 0))
    schedule(bank, 90, 900)
    group_with_members(bank)
    bank.loan(95, None, group=600)
    schedule(bank, 95, 950)
    bank.loan(91, 10, status=600, closed=date(2023, 3, 10))
    bank.instalment(910, 91, date(2023, 3, 18), number=1)

    due = fire(bank, 1001, {"loanId": 90, "installmentNumber": 4}, officeId=-1)
    assert set(due) == {(10, "90/4:10")}
    v = due[(10, "90/4:10")].variables
    assert (v["dueDate"], v["totalDue"], v["daysUntilDue"], v["LoanOutstanding"], v["officename"]) == (
        "18 Mar 2023",
        "KES 1,100.50",
        "3",
        "KES 65,000.50",
        "Ntinda",
    )
    overdue = fire(bank, 1002, {"loanId": 90, "installmentNumber": 3}, officeId=-1)
    assert set(overdue) == {(10, "90/3:10")}
    o = overdue[(10, "90/3:10")].variables
    assert (o["daysOverdue"], o["totalDue"], o["totalOverdue"], o["installmentNumber"]) == (
        "14",
        "KES 700.00",
        "KES 1,950.00",
        "3",
    )
    # Paid (completed_derived b'1' / true), or a loan no longer active: nothing to remind of.
    assert fire(bank, 1001, {"loanId": 90, "installmentNumber": 1}) == {}
    assert fire(bank, 1002, {"loanId": 90, "installmentNumber": 1}) == {}
    assert fire(bank, 1001, {"loanId": 91, "installmentNumber": 1}) == {}
    assert fire(bank, 1001, {"loanId": 90, "installmentNumber": 4}, officeId=4) == {}
    assert fire(bank, 1001, {"loanId": 90, "installmentNumber": 4}, loanOfficerId=101) == {}
    assert fire(bank, 1002, {"loanId": 90, "installmentNumber": 3}, loanType=2) == {}
    members = fire(bank, 1001, {"loanId": 95, "installmentNumber": 4})
    assert set(members) == {(20, "95/4:20"), (21, "95/4:21")}  # the closed member 22 is not messaged

    def keys(rule_id: int, event: dict[str, int]) -> list[str]:
        rule = get_rule(rule_id)
        return [dedup_key(rule.fact, fact_id, rule.dedup_scope, None) for _, fact_id in fire(bank, rule_id, event)]

    instalment_3 = {"loanId": 90, "installmentNumber": 3}
    assert keys(1001, instalment_3) + keys(1002, instalment_3) == [
        "loan_repayment_due:90/3:10",
        "loan_repayment_overdue:90/3:10",
    ]


def test_1003_1004_a_disbursal_and_a_closing_on_the_real_schema(bank: Bank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")
    bank.loan(70, 10, currency=KES, principal=50_000, disbursed=date(2023, 3, 14))
    bank.instalment(700, 70, date(2023, 3, 14), number=1, principal_amount=5_000)
    update_bit = "UPDATE m_loan_repayment_schedule SET is_down_payment = {} WHERE id = 700"
    with bank.writer.begin() as conn:
        conn.exec_driver_sql(update_bit.format("b'1'" if bank.mysql else "true"))
    bank.instalment(701, 70, date(2023, 4, 14), number=2, principal_amount=4_000, interest_amount=Decimal("812.5"))
    bank.loan(72, 10, status=200, disbursed=None)
    bank.loan(60, 10, status=600, currency=KES, closed=date(2023, 3, 14), repaid=Decimal("56000"))
    bank.loan(61, 10)
    bank.loan(62, 10, status=601, closed=date(2023, 3, 14))
    group_with_members(bank)
    bank.loan(64, None, group=600, status=600, closed=date(2023, 3, 14))
    bank.loan(65, 20, group=600, status=600, closed=date(2023, 3, 14))
    update_loan(bank, 65, loan_type_enum=3)

    disbursed = fire(bank, 1003, {"loanId": 70, "clientId": 10}, officeId=-1)
    assert set(disbursed) == {(10, "70:10")}
    d = disbursed[(10, "70:10")].variables
    assert (d["disbursedAmount"], d["disbursementDate"], d["firstDueDate"], d["firstInstalmentAmount"]) == (
        "KES 50,000.00",
        "14 Mar 2023",
        "14 Apr 2023",
        "KES 4,812.50",
    )
    assert d["accountnumber"] == "000000070"
    assert fire(bank, 1003, {"loanId": 72}) == {}

    closed = fire(bank, 1004, {"loanId": 60, "clientId": 10}, officeId=-1)
    assert set(closed) == {(10, "60:10")}
    c = closed[(10, "60:10")].variables
    assert (c["closedOnDate"], c["totalFullyPaid"], c["LoanAmount"], c["FullName"]) == (
        "14 Mar 2023",
        "KES 56,000.00",
        "KES 100,000.00",
        "Amina Nakato",
    )
    assert fire(bank, 1004, {"loanId": 61}) == {}  # not closed
    assert fire(bank, 1004, {"loanId": 62}) == {}  # written off
    assert set(fire(bank, 1004, {"loanId": 64, "groupId": 600})) == {(20, "64:20"), (21, "64:21")}
    assert set(fire(bank, 1004, {"loanId": 65})) == {(20, "65:20")}  # JLG: the borrower only


def test_1005_a_new_client_and_the_sample_events_on_the_real_schema(bank: Bank) -> None:
    bank.client(30, 3, status=100, staff=100, first="Amina", last="Nakato", activated=None)
    bank.client(32, 4)
    bank.loan(90, 32)
    schedule(bank, 90, 900)

    created = fire(bank, 1005, {"clientId": 30})
    assert set(created) == {(30, "30")}
    assert created[(30, "30")].variables["officeName"] == "Ntinda"
    assert fire(bank, 1005, {"clientId": 32}) == {}  # Gulu
    assert fire(bank, 1005, {"clientId": 30}, loanOfficerId=101) == {}

    with bank.reader.connect() as conn:  # the campaign page's samples, with the business date bound
        due = latest_event(conn, get_rule(1001), {"officeId": -1}, TODAY)
        overdue = latest_event(conn, get_rule(1002), {"officeId": -1}, TODAY)
    assert due is not None and (due.event, due.on) == ({"loanId": 90, "installmentNumber": 4}, "2023-03-18")
    assert overdue is not None and (overdue.event, overdue.on) == ({"loanId": 90, "installmentNumber": 2}, "2023-02-15")
