"""herald's own triggered rules (1001-1005) for one event against crafted Fineract rows, on SQLite and PostgreSQL.

Each event carries the ids an external event (or, for 1003 and 1005, a hook) gives. The recipients
are keyed by fact id; near misses (an instalment already paid, a loan not closed, a disbursal
undone, another office or officer) must select nobody. The last tests pin the dedup keys: those of
the nine Fineract rules byte for byte, and the two of one instalment's due and overdue events apart.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from herald.corebank import schema as s
from herald.corebank.event_rules import run_triggered
from herald.corebank.recent_events import latest_event
from herald.domain.dedup import dedup_key
from herald.errors import ParameterError
from herald.rules.catalog import get_rule
from tests.integration import test_triggered_rules as fineract_rules
from tests.integration.test_rules import KES, TODAY
from tests.integration.test_triggered_rules import EventBank, fire, group_with_members

# The Fineract rules' fixture (SQLite and PostgreSQL), bound by assignment: an imported fixture would be
# flagged as unused and redefined by every test's argument.
bank = fineract_rules.bank


def instalments(bank: EventBank, loan: int, first_id: int) -> None:
    """Loan `loan`'s schedule around TODAY (15 Mar 2023): #1 paid, #2 and #3 overdue, #4 due in 3 days, #5 later."""
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
    bank.instalment(first_id + 4, loan, date(2023, 4, 15), number=5)


NAMES = {
    "id": "10",
    "firstname": "Amina",
    "middlename": "",
    "lastname": "Nakato",
    "FullName": "Amina Nakato",
    "firstName": "Amina",
    "middleName": "",
    "lastName": "Nakato",
    "fullName": "Amina Nakato",
}


# --- 1001 Loan Repayment Due ----------------------------------------------------------------------


def test_1001_an_instalment_due_reaches_its_borrower_once_with_the_instalments_amount(bank: EventBank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")  # Ntinda, two levels below the head office
    bank.loan(90, 10, officer=100, currency=KES, principal=100_000, outstanding=(Decimal("60000.5"), 5_000, 0, 0))
    instalments(bank, 90, 900)

    recipients = fire(bank, 1001, {"loanId": 90, "installmentNumber": 4}, officeId=-1)
    assert list(recipients) == ["90/4:10"]  # the loan AND the instalment, then the client (group loans)
    amina = recipients["90/4:10"]
    assert (amina.client_id, amina.office_id, amina.mobile_no) == (10, 3, "+256700000010")
    assert amina.variables == {
        **NAMES,
        "loanId": "90",
        "LoanAccountId": "L000090",
        "loanAccountId": "L000090",
        "installmentNumber": "4",
        "dueDate": "18 Mar 2023",
        "paymentDueDate": "18 Mar 2023",
        "totalDue": "KES 1,100.50",  # 800 principal + 250.50 interest + 50 fees + 0 penalty (waived)
        "daysUntilDue": "3",
        "LoanOutstanding": "KES 65,000.50",
        "loanOutstanding": "KES 65,000.50",
        "LoanAmount": "KES 100,000.00",
        "loanAmount": "KES 100,000.00",
        "officename": "Ntinda",
        "officeName": "Ntinda",
        "GroupName": "",
        "groupName": "",
    }
    # Raised on the due date itself the reminder says 0 days, not an empty variable.
    [row] = run_triggered(bank.conn, get_rule(1001), {}, {"loanId": 90, "installmentNumber": 4}, date(2023, 3, 18))
    assert row.variables["daysUntilDue"] == "0"


def test_1001_an_instalment_paid_by_the_time_the_rule_runs_sends_nothing(bank: EventBank) -> None:
    # Fineract raises the due event only for an instalment with an amount outstanding; paid since
    # (the event waited in the broker while herald was down), the client owes nothing on it.
    bank.client(10, 3)
    bank.loan(90, 10)
    instalments(bank, 90, 900)
    bank.loan(91, 10, status=600, closed=date(2023, 3, 10))
    bank.instalment(910, 91, date(2023, 3, 18), number=1)

    assert fire(bank, 1001, {"loanId": 90, "installmentNumber": 1}) == {}  # paid
    assert fire(bank, 1001, {"loanId": 90, "installmentNumber": 9}) == {}  # no such instalment
    assert fire(bank, 1001, {"loanId": 91, "installmentNumber": 1}) == {}  # the loan is closed
    assert fire(bank, 1001, {"loanId": 90, "installmentNumber": 4, "clientId": 11}) == {}
    assert list(fire(bank, 1001, {"loanId": 90, "installmentNumber": 4, "clientId": 10})) == ["90/4:10"]


def test_1001_1002_campaign_filters_office_officer_and_loan_type(bank: EventBank) -> None:
    bank.client(10, 3)
    bank.loan(90, 10, officer=100)
    instalments(bank, 90, 900)
    bank.client(12, 4)
    bank.loan(92, 12)  # Gulu, no officer
    instalments(bank, 92, 920)

    for rule_id, number in ((1001, 4), (1002, 3)):
        event, other = {"loanId": 90, "installmentNumber": number}, {"loanId": 92, "installmentNumber": number}
        key = f"90/{number}:10"
        assert list(fire(bank, rule_id, event, officeId=2)) == [key]  # Ntinda is under Kampala
        assert fire(bank, rule_id, event, officeId=4) == {}
        assert list(fire(bank, rule_id, other, officeId=4)) == [f"92/{number}:12"]
        assert list(fire(bank, rule_id, event, loanOfficerId=100)) == [key]
        assert fire(bank, rule_id, event, loanOfficerId=101) == {}
        assert fire(bank, rule_id, event, loanOfficerId=-10) == {}
        assert list(fire(bank, rule_id, other, loanOfficerId=-10)) == [f"92/{number}:12"]
        assert list(fire(bank, rule_id, event, loanType=1)) == [key]
        assert fire(bank, rule_id, event, loanType=2) == {}


@pytest.mark.parametrize(("rule_id", "number"), [(1001, 4), (1002, 3)])
def test_1001_1002_a_group_loans_instalment_reaches_each_active_member_and_a_jlg_loans_its_borrower(
    bank: EventBank, rule_id: int, number: int
) -> None:
    group_with_members(bank)
    bank.group(601, "Beta", 3, members=(20,))  # membership elsewhere must not multiply rows
    bank.loan(95, None, group=600, currency=KES)
    instalments(bank, 95, 950)
    bank.loan(96, 21, group=600)
    bank.update_loan(96, loan_type_enum=3)
    instalments(bank, 96, 960)

    event = {"loanId": 95, "installmentNumber": number}
    members = fire(bank, rule_id, event, officeId=-1)
    assert sorted(members) == [f"95/{number}:20", f"95/{number}:21"]  # 22 left the group (closed)
    assert members[f"95/{number}:21"].mobile_no is None  # still returned: herald records it INVALID
    assert members[f"95/{number}:20"].variables["GroupName"] == "Alpha"
    assert sorted(fire(bank, rule_id, event, loanType=2)) == [f"95/{number}:20", f"95/{number}:21"]
    assert fire(bank, rule_id, event, loanType=1) == {}
    assert fire(bank, rule_id, {**event, "groupId": 601}) == {}
    assert list(fire(bank, rule_id, {"loanId": 96, "installmentNumber": number})) == [f"96/{number}:21"]


def test_1001_1002_need_the_loan_and_the_instalment_number(bank: EventBank) -> None:
    bank.client(10)
    bank.loan(90, 10)
    for rule_id in (1001, 1002):
        with pytest.raises(ParameterError, match="needs the event's installmentNumber") as refused:
            fire(bank, rule_id, {"loanId": 90})
        assert refused.value.field == "installmentNumber"
        with pytest.raises(ParameterError, match="needs the event's loanId and installmentNumber"):
            fire(bank, rule_id, {"clientId": 10})
        with pytest.raises(ParameterError, match="positive whole number"):
            fire(bank, rule_id, {"loanId": 90, "installmentNumber": 0})


# --- 1002 Loan Repayment Overdue -----------------------------------------------------------------


def test_1002_an_overdue_instalment_names_the_days_and_everything_overdue(bank: EventBank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")
    bank.loan(90, 10, officer=100, currency=KES, principal=100_000, outstanding=(Decimal("60000.5"), 5_000, 0, 0))
    instalments(bank, 90, 900)

    recipients = fire(bank, 1002, {"loanId": 90, "installmentNumber": 3}, officeId=-1)
    assert list(recipients) == ["90/3:10"]
    v = recipients["90/3:10"].variables
    assert (v["dueDate"], v["paymentDueDate"], v["daysOverdue"], v["installmentNumber"]) == (
        "01 Mar 2023",
        "01 Mar 2023",
        "14",
        "3",
    )
    assert v["totalDue"] == "KES 700.00"  # this instalment: 1,000 less 300 paid
    assert v["totalOverdue"] == "KES 1,950.00"  # #2 (1,250) and #3 (700): unpaid and due before today
    assert set(v) == set(get_rule(1002).variables)
    assert fire(bank, 1002, {"loanId": 90, "installmentNumber": 1}) == {}  # paid meanwhile: nothing


# --- 1003 Loan Disbursed --------------------------------------------------------------------------


def test_1003_a_disbursal_names_the_amount_date_and_first_instalment(bank: EventBank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")
    bank.loan(70, 10, officer=100, currency=KES, principal=50_000, disbursed=date(2023, 3, 14))
    bank.update_loan(70, principal_disbursed_derived=Decimal("49500.25"))
    bank.instalment(700, 70, date(2023, 3, 14), number=1, is_down_payment=True, principal_amount=5_000)
    bank.instalment(701, 70, date(2023, 4, 14), number=2, principal_amount=4_000, interest_amount=Decimal("812.5"))
    bank.instalment(702, 70, date(2023, 5, 14), number=3, principal_amount=4_000)

    recipients = fire(bank, 1003, {"loanId": 70, "clientId": 10}, officeId=-1)
    assert list(recipients) == ["70:10"]
    assert recipients["70:10"].variables == {
        **NAMES,
        "GroupName": "",
        "groupName": "",
        "officename": "Ntinda",
        "officeName": "Ntinda",
        "loanId": "70",
        "accountnumber": "L000070",
        "loanAccountId": "L000070",
        "LoanAmount": "KES 50,000.00",
        "loanAmount": "KES 50,000.00",
        "disbursedAmount": "KES 49,500.25",
        "loanDisbursed": "KES 49,500.25",
        "disbursementDate": "14 Mar 2023",
        "firstDueDate": "14 Apr 2023",  # the down payment is no instalment to remind of
        "firstInstalmentAmount": "KES 4,812.50",
    }
    assert list(fire(bank, 1003, {"loanId": 70}, officeId=2, loanOfficerId=100, loanType=1)) == ["70:10"]
    assert fire(bank, 1003, {"loanId": 70}, officeId=4) == {}
    assert fire(bank, 1003, {"loanId": 70}, loanOfficerId=-10) == {}
    assert fire(bank, 1003, {"loanId": 70}, loanType=2) == {}


def test_1003_a_loan_without_schedule_still_announced_and_an_undone_disbursal_not(bank: EventBank) -> None:
    bank.client(10, 3)
    bank.loan(71, 10, disbursed=date(2023, 3, 14))  # no schedule rows (yet)
    bank.loan(72, 10, status=200, disbursed=None)  # disbursal undone: approved again
    group_with_members(bank)
    bank.loan(73, None, group=600)

    [row] = fire(bank, 1003, {"loanId": 71}).values()
    assert (row.variables["firstDueDate"], row.variables["firstInstalmentAmount"]) == ("", "")
    assert row.variables["disbursedAmount"] == "UGX 100,000"
    assert fire(bank, 1003, {"loanId": 72}) == {}
    assert sorted(fire(bank, 1003, {"loanId": 73, "groupId": 600})) == ["73:20", "73:21"]


# --- 1004 Loan Closed -----------------------------------------------------------------------------


def test_1004_only_a_loan_closed_with_obligations_met_is_thanked(bank: EventBank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")
    bank.loan(60, 10, status=600, currency=KES, principal=50_000, outstanding=(0, 0, 0, 0), repaid=Decimal("56000"))
    bank.update_loan(60, closedon_date=date(2023, 3, 14))
    bank.loan(61, 10)  # active: a repayment was reversed, or the event came early
    bank.loan(62, 10, status=601, closed=date(2023, 3, 14))  # written off
    bank.loan(63, 10, status=700, overpaid=date(2023, 3, 14))  # overpaid, not closed
    group_with_members(bank)
    bank.loan(64, None, group=600, status=600, closed=date(2023, 3, 14))

    recipients = fire(bank, 1004, {"loanId": 60, "clientId": 10}, officeId=-1)
    assert list(recipients) == ["60:10"]
    assert recipients["60:10"].variables == {
        **NAMES,
        "GroupName": "",
        "groupName": "",
        "officename": "Ntinda",
        "officeName": "Ntinda",
        "loanId": "60",
        "accountnumber": "L000060",
        "loanAccountId": "L000060",
        "LoanAmount": "KES 50,000.00",
        "loanAmount": "KES 50,000.00",
        "closedOnDate": "14 Mar 2023",
        "totalFullyPaid": "KES 56,000.00",
    }
    assert fire(bank, 1004, {"loanId": 61}) == {}
    assert fire(bank, 1004, {"loanId": 62}) == {}
    assert fire(bank, 1004, {"loanId": 63}) == {}
    assert sorted(fire(bank, 1004, {"loanId": 64})) == ["64:20", "64:21"]
    assert fire(bank, 1004, {"loanId": 60}, officeId=4) == {}
    assert fire(bank, 1004, {"loanId": 60}, loanOfficerId=100) == {}  # the loan has no officer
    assert list(fire(bank, 1004, {"loanId": 60}, loanOfficerId=-10)) == ["60:10"]


# --- 1005 Client Created --------------------------------------------------------------------------


def test_1005_a_new_client_pending_or_active_in_the_office_subtree(bank: EventBank) -> None:
    bank.client(30, 3, status=100, staff=100, first="Amina", last="Nakato", activated=None)
    bank.client(31, 3, mobile=None)
    bank.client(32, 4)

    recipients = fire(bank, 1005, {"clientId": 30}, officeId=2)
    assert list(recipients) == ["30"]
    assert recipients["30"].variables == {
        "id": "30",
        "firstName": "Amina",
        "middleName": "",
        "lastName": "Nakato",
        "fullName": "Amina Nakato",
        "officeName": "Ntinda",
        "officeNumber": "3",
    }
    assert fire(bank, 1005, {"clientId": 32}, officeId=2) == {}
    assert list(fire(bank, 1005, {"clientId": 32}, officeId=1)) == ["32"]
    assert fire(bank, 1005, {"clientId": 30}, officeId=2, loanOfficerId=101) == {}
    assert list(fire(bank, 1005, {"clientId": 31}, officeId=2, loanOfficerId=-10)) == ["31"]
    assert fire(bank, 1005, {"clientId": 33}, officeId=1) == {}


# --- dedup keys ------------------------------------------------------------------------------------


def keys(bank: EventBank, rule_id: int, event: dict[str, int], **params: object) -> list[str]:
    rule = get_rule(rule_id)
    params.setdefault("officeId", 1)
    rows = run_triggered(bank.conn, rule, params, event, TODAY)
    return sorted(dedup_key(rule.fact, r.fact_id, rule.dedup_scope, None) for r in rows)


def test_the_nine_fineract_rules_keep_their_dedup_keys_byte_for_byte(bank: EventBank) -> None:
    # Messages already stored under these keys must keep blocking their duplicates after an upgrade.
    bank.client(10, 3)
    bank.client(30, 3)
    bank.loan(90, 10)
    bank.txn(900, 90, TODAY)
    group_with_members(bank)
    bank.loan(95, None, group=600)
    bank.txn(950, 95, TODAY)
    bank.savings(40, 30)
    bank.saving(400, 40)
    bank.saving(401, 40, type_=2)

    assert {
        179: keys(bank, 179, {"loanTransactionId": 900, "loanId": 90}) + keys(bank, 179, {"loanTransactionId": 950}),
        180: keys(bank, 180, {"loanId": 95}),
        181: keys(bank, 181, {"loanId": 90}),
        182: keys(bank, 182, {"clientId": 30}),
        183: keys(bank, 183, {"clientId": 30}),
        184: keys(bank, 184, {"savingsId": 40}),
        185: keys(bank, 185, {"savingsId": 40, "clientId": 30}),
        186: keys(bank, 186, {"savingsTransactionId": 400}),
        187: keys(bank, 187, {"savingsTransactionId": 401, "savingsId": 40}),
    } == {
        179: ["loan_transaction:900:10", "loan_transaction:950:20", "loan_transaction:950:21"],
        180: ["loan_approval:95:20", "loan_approval:95:21"],
        181: ["loan_rejection:90:10"],
        182: ["client_rejection:30"],
        183: ["client_activation:30"],
        184: ["savings_rejection:40"],
        185: ["savings_activation:40"],
        186: ["savings_transaction:400"],
        187: ["savings_transaction:401"],
    }


def test_a_repeated_event_gives_the_same_keys_and_due_and_overdue_of_one_instalment_two(bank: EventBank) -> None:
    bank.client(10, 3)
    bank.loan(90, 10)
    instalments(bank, 90, 900)
    bank.client(30, 3)
    event = {"loanId": 90, "installmentNumber": 3}

    due = keys(bank, 1001, event)
    assert due == keys(bank, 1001, dict(event)) == ["loan_repayment_due:90/3:10"]
    assert keys(bank, 1002, event) == ["loan_repayment_overdue:90/3:10"]  # a second message, on purpose
    assert keys(bank, 1001, {"loanId": 90, "installmentNumber": 4}) == ["loan_repayment_due:90/4:10"]
    assert keys(bank, 1003, {"loanId": 90}) == keys(bank, 1003, {"loanId": 90, "clientId": 10})
    assert keys(bank, 1003, {"loanId": 90}) == ["loan_disbursement:90:10"]
    assert keys(bank, 1005, {"clientId": 30}) == ["client_creation:30"]
    assert keys(bank, 183, {"clientId": 30}) == ["client_activation:30"]  # created, then activated: two


# --- the campaign page's sample event -------------------------------------------------------------


def test_the_sample_events_are_the_soonest_due_the_most_overdue_the_last_disbursed_closed_and_created(
    bank: EventBank,
) -> None:
    bank.client(10, 3, activated=None)
    bank.loan(90, 10, disbursed=date(2023, 1, 1))
    instalments(bank, 90, 900)
    bank.client(11, 3)
    bank.loan(91, 11, disbursed=date(2023, 3, 10))
    bank.loan(92, 11, status=600, closed=date(2023, 3, 1))
    bank.loan(93, 11, status=600, closed=date(2023, 3, 12))
    bank.conn.execute(s.m_client.update().values(submittedon_date=date(2023, 3, 13)).where(s.m_client.c.id == 11))

    def sample(rule_id: int) -> tuple[dict[str, int], str, str]:
        found = latest_event(bank.conn, get_rule(rule_id), {"officeId": -1 if rule_id < 1005 else 1}, TODAY)
        assert found is not None
        return found.event, found.on, found.row.fact_id

    assert sample(1001) == ({"loanId": 90, "installmentNumber": 4}, "2023-03-18", "90/4:10")
    assert sample(1002) == ({"loanId": 90, "installmentNumber": 2}, "2023-02-15", "90/2:10")
    assert sample(1003) == ({"loanId": 91}, "2023-03-10", "91:11")
    assert sample(1004) == ({"loanId": 93}, "2023-03-12", "93:11")
    assert sample(1005) == ({"clientId": 11}, "2023-03-13", "11")
