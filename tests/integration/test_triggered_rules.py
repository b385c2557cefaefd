"""Every triggered business rule (179-187) for one event against crafted Fineract rows, on SQLite and PostgreSQL.

A D-number in a comment (D13) names the entry of docs/fineract-differences.md that the assertion checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from herald.corebank import schema as s
from herald.corebank.event_rules import run_triggered
from herald.corebank.runner import AudienceRow
from herald.rules.catalog import get_rule
from tests.integration.test_rules import KES, NOW, TODAY, Bank

KAMPALA = ZoneInfo("Africa/Kampala")  # UTC+3: NOW (08:00 UTC) is 11:00 there


class EventBank(Bank):
    """The audience tests' bank plus JLG loans, loan fields the decisions name, and savings."""

    def __init__(self, conn: sa.Connection) -> None:
        super().__init__(conn)
        self._put(
            s.m_savings_product,
            id=1,
            name="Savings KES",
            short_name="SKES",
            currency_code="KES",
            currency_digits=2,
            nominal_annual_interest_rate=3,
        )

    def update_loan(self, lid: int, **values: Any) -> None:
        self.conn.execute(sa.update(s.m_loan).where(s.m_loan.c.id == lid).values(**values))

    def savings(
        self,
        sid: int,
        client: int | None,
        *,
        officer: int | None = None,
        group: int | None = None,
        balance: Any = 10_000,
    ) -> int:
        self._put(
            s.m_savings_account,
            id=sid,
            account_no=f"S{sid:06d}",
            client_id=client,
            group_id=group,
            product_id=1,
            field_officer_id=officer,
            submittedon_date=date(2023, 1, 1),
            currency_code="KES",
            currency_digits=2,
            account_balance_derived=balance,
            created_on_utc=NOW,
            last_modified_on_utc=NOW,
        )
        return sid

    def saving(
        self,
        tid: int,
        account: int,
        *,
        type_: int = 1,
        amount: Any = 500,
        running: Any = None,
        reversed_: bool = False,
        reversal: bool = False,
    ) -> int:
        self._put(
            s.m_savings_account_transaction,
            id=tid,
            savings_account_id=account,
            office_id=2,
            transaction_type_enum=type_,
            is_reversed=reversed_,
            is_reversal=reversal,
            transaction_date=TODAY,
            submitted_on_date=TODAY,
            amount=amount,
            running_balance_derived=running,
            created_by=1,
            created_on_utc=NOW,
            last_modified_on_utc=NOW,
        )
        return tid

    def receipt(self, table: sa.Table, tid: int, number: str | None, *, detail: int) -> None:
        """Give transaction `tid` the payment details `detail` (created with `number` as its receipt)."""
        self._put(s.m_payment_detail, id=detail, payment_type_id=1, receipt_number=number)
        self.conn.execute(sa.update(table).where(table.c.id == tid).values(payment_detail_id=detail))


@pytest.fixture
def bank(db_url: str) -> Iterator[EventBank]:
    engine = sa.create_engine(db_url)
    s.metadata.create_all(engine)
    try:
        with engine.connect() as conn:
            yield EventBank(conn)
    finally:
        engine.dispose()


def fire(bank: Bank, rule_id: int, event: dict[str, int], **params: Any) -> dict[str, AudienceRow]:
    """The recipients of one event keyed by fact id; checks that no fact id repeats."""
    rows = list(run_triggered(bank.conn, get_rule(rule_id), params, event, TODAY, zone=KAMPALA))
    keyed = {r.fact_id: r for r in rows}
    assert len(keyed) == len(rows), "a fact id was returned twice"
    return keyed


def group_with_members(bank: Bank) -> None:
    """Group 600 "Alpha" in Ntinda: 20 active, 21 active without a mobile, 22 closed (not messaged)."""
    bank.client(20, 3, first="Grace")
    bank.client(21, 3, mobile=None)
    bank.client(22, 3, status=600)
    bank.group(600, "Alpha", 3, members=(20, 21, 22))


# --- 179 Loan Repayment ------------------------------------------------------------------------


def test_179_a_repayment_reaches_its_borrower_once_with_fineracts_variables(bank: EventBank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")  # Ntinda, two levels below the head office
    bank.client(11)
    bank.loan(90, 10, officer=100, currency=KES, principal=100_000, outstanding=(Decimal("60000.5"), 5_000, 0, 0))
    bank.txn(900, 90, TODAY, amount=Decimal("2500.456"))
    bank.loan(91, 11)
    bank.txn(910, 91, TODAY)  # another loan's transaction

    recipients = fire(bank, 179, {"loanTransactionId": 900, "loanId": 90, "clientId": 10}, officeId=-1)
    assert list(recipients) == ["900:10"]  # one row, not one per office level (D13)
    amina = recipients["900:10"]
    assert (amina.client_id, amina.office_id, amina.mobile_no) == (10, 3, "+256700000010")
    assert amina.variables == {
        "id": "10",
        "firstname": "Amina",
        "middlename": "",
        "lastname": "Nakato",
        "FullName": "Amina Nakato",
        "LoanAmount": "KES 100,000.00",
        "LoanOutstanding": "KES 65,000.50",
        "loanId": "90",
        "LoanAccountId": "L000090",
        "officeId": "3",
        "loanOfficerId": "100",
        "repaymentAmount": "KES 2,500.46",
        "RepaymentDate": "15 Mar 2023",
        "RepaymentTime": "11:00",
        "receiptNumber": "",
        "GroupName": "",
        "firstName": "Amina",
        "middleName": "",
        "lastName": "Nakato",
        "fullName": "Amina Nakato",
        "groupName": "",
        "loanAmount": "KES 100,000.00",
        "loanOutstanding": "KES 65,000.50",
        "loanAccountId": "L000090",
        "repaymentDate": "15 Mar 2023",
    }
    assert list(fire(bank, 179, {"loanTransactionId": 910})) == ["910:11"]


def test_179_picks_only_the_events_own_live_repayment(bank: EventBank) -> None:
    bank.client(10)
    bank.loan(90, 10)
    bank.loan(91, 10)
    bank.txn(900, 90, TODAY)
    bank.txn(901, 90, TODAY, reversed_=True)
    bank.txn(902, 90, TODAY, type_=1)  # a disbursement is not money received
    bank.txn(903, 90, TODAY, type_=8)  # a recovery repayment is

    assert fire(bank, 179, {"loanTransactionId": 900, "loanId": 91}) == {}  # the loan must match the event's
    assert fire(bank, 179, {"loanTransactionId": 900, "clientId": 11}) == {}
    assert fire(bank, 179, {"loanTransactionId": 901}) == {}
    assert fire(bank, 179, {"loanTransactionId": 902}) == {}
    assert fire(bank, 179, {"loanTransactionId": 999}) == {}
    assert list(fire(bank, 179, {"loanTransactionId": 903})) == ["903:10"]


def test_179_campaign_filters_office_officer_and_loan_type(bank: EventBank) -> None:
    bank.client(10, 3)
    bank.loan(90, 10, officer=100)
    bank.txn(900, 90, TODAY)
    bank.client(12, 4)
    bank.loan(92, 12)  # no officer
    bank.txn(920, 92, TODAY)
    event = {"loanTransactionId": 900}

    assert list(fire(bank, 179, event, officeId=2)) == ["900:10"]  # Ntinda is under Kampala
    assert list(fire(bank, 179, event, officeId=3)) == ["900:10"]
    assert fire(bank, 179, event, officeId=4) == {}
    assert list(fire(bank, 179, event, loanOfficerId=100)) == ["900:10"]
    assert fire(bank, 179, event, loanOfficerId=101) == {}
    assert fire(bank, 179, event, loanOfficerId=-10) == {}
    assert list(fire(bank, 179, {"loanTransactionId": 920}, loanOfficerId=-10)) == ["920:12"]
    assert list(fire(bank, 179, event, loanType=1)) == ["900:10"]
    assert fire(bank, 179, event, loanType=2) == {}


def test_179_a_group_repayment_reaches_each_active_member_once(bank: EventBank) -> None:
    group_with_members(bank)
    bank.group(601, "Beta", 3, members=(20,))  # membership elsewhere must not multiply rows
    bank.loan(95, None, group=600, currency=KES)
    bank.txn(950, 95, TODAY)

    recipients = fire(bank, 179, {"loanTransactionId": 950, "loanId": 95}, officeId=-1)
    assert sorted(recipients) == ["950:20", "950:21"]
    assert recipients["950:21"].mobile_no is None  # still returned: herald records it INVALID
    assert recipients["950:20"].variables["GroupName"] == "Alpha"
    assert recipients["950:20"].variables["loanId"] == "95"
    assert sorted(fire(bank, 179, {"loanTransactionId": 950}, loanType=2)) == ["950:20", "950:21"]
    assert fire(bank, 179, {"loanTransactionId": 950}, loanType=1) == {}
    assert sorted(fire(bank, 179, {"loanTransactionId": 950, "groupId": 600})) == ["950:20", "950:21"]
    assert fire(bank, 179, {"loanTransactionId": 950, "groupId": 601}) == {}


def test_179_a_jlg_repayment_reaches_only_its_borrower(bank: EventBank) -> None:
    group_with_members(bank)
    bank.loan(96, 20, group=600)
    bank.update_loan(96, loan_type_enum=3)
    bank.txn(960, 96, TODAY)

    recipients = fire(bank, 179, {"loanTransactionId": 960})
    assert list(recipients) == ["960:20"]  # not every member of the group (D15)
    assert recipients["960:20"].variables["GroupName"] == "Alpha"
    assert list(fire(bank, 179, {"loanTransactionId": 960}, loanType=3)) == ["960:20"]


def test_179_repayment_time_needs_a_time_zone(bank: EventBank) -> None:
    bank.client(10)
    bank.loan(90, 10)
    bank.txn(900, 90, TODAY)
    rule = get_rule(179)
    utc_less = list(run_triggered(bank.conn, rule, {}, {"loanTransactionId": 900}, TODAY, date_format="%d/%m/%Y"))
    assert (utc_less[0].variables["RepaymentTime"], utc_less[0].variables["RepaymentDate"]) == ("", "15/03/2023")
    only = list(run_triggered(bank.conn, rule, {}, {"loanTransactionId": 900}, TODAY, only={"FullName"}))
    assert only[0].variables == {"FullName": "Amina Client10"}


# --- 180 Loan Approved / 181 Loan Rejected ------------------------------------------------------


def test_180_an_approval_names_the_approved_amount_and_the_borrowers_office(bank: EventBank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")
    bank.loan(80, 10, officer=100, principal=100_000)
    bank.update_loan(80, principal_amount_proposed=120_000, annual_nominal_interest_rate=Decimal("18.5"))

    recipients = fire(bank, 180, {"loanId": 80, "clientId": 10}, officeId=-1)
    assert list(recipients) == ["80:10"]  # one row with officeId -1 (D13)
    assert recipients["80:10"].variables == {
        "id": "10",
        "firstname": "Amina",
        "middlename": "",
        "lastname": "Nakato",
        "FullName": "Amina Nakato",
        "GroupName": "",
        "officename": "Ntinda",
        "loanId": "80",
        "accountnumber": "L000080",
        "loanamount": "UGX 100,000",
        "annualinterestrate": "18.5",
        "firstName": "Amina",
        "middleName": "",
        "lastName": "Nakato",
        "fullName": "Amina Nakato",
        "groupName": "",
        "officeName": "Ntinda",
        "loanAmount": "UGX 100,000",
    }
    assert fire(bank, 180, {"loanId": 81}) == {}
    assert fire(bank, 180, {"loanId": 80, "clientId": 11}) == {}
    assert fire(bank, 180, {"loanId": 80}, officeId=4) == {}
    assert list(fire(bank, 180, {"loanId": 80}, officeId=2, loanOfficerId=100, loanType=1)) == ["80:10"]
    assert fire(bank, 180, {"loanId": 80}, loanOfficerId=-10) == {}
    assert fire(bank, 180, {"loanId": 80}, loanType=3) == {}

    rejected = fire(bank, 181, {"loanId": 80})
    assert rejected["80:10"].variables["loanamount"] == "UGX 120,000"  # the amount applied for


@pytest.mark.parametrize("rule_id", [180, 181])
def test_180_181_group_loans_reach_each_active_member_and_jlg_loans_the_borrower(bank: EventBank, rule_id: int) -> None:
    group_with_members(bank)
    bank.loan(81, None, group=600)
    bank.loan(82, 21, group=600)
    bank.update_loan(82, loan_type_enum=3)

    group = fire(bank, rule_id, {"loanId": 81, "groupId": 600}, officeId=-1)
    assert sorted(group) == ["81:20", "81:21"]
    assert group["81:20"].variables["GroupName"] == "Alpha"
    # Fineract runs the rule once per member with clientId set: that narrows to the member.
    assert list(fire(bank, rule_id, {"loanId": 81, "clientId": 20})) == ["81:20"]
    assert fire(bank, rule_id, {"loanId": 81, "clientId": 22}) == {}  # closed member
    assert list(fire(bank, rule_id, {"loanId": 82})) == ["82:21"]  # JLG: the borrower only (D15)


# --- 182 Client Rejected / 183 Client Activated -------------------------------------------------


@pytest.mark.parametrize(("rule_id", "status"), [(182, 700), (183, 300)])
def test_182_183_the_events_client_in_the_office_subtree(bank: EventBank, rule_id: int, status: int) -> None:
    bank.client(30, 3, status=status, staff=100, first="Amina", last="Nakato")
    bank.client(31, 3, mobile=None)
    bank.client(32, 4)

    recipients = fire(bank, rule_id, {"clientId": 30}, officeId=2)
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
    assert fire(bank, rule_id, {"clientId": 32}, officeId=2) == {}
    assert list(fire(bank, rule_id, {"clientId": 32}, officeId=1)) == ["32"]
    assert fire(bank, rule_id, {"clientId": 30}, officeId=2, loanOfficerId=101) == {}
    assert list(fire(bank, rule_id, {"clientId": 31}, officeId=2, loanOfficerId=-10)) == ["31"]
    assert fire(bank, rule_id, {"clientId": 30}, officeId=2, loanOfficerId=-10) == {}
    assert fire(bank, rule_id, {"clientId": 33}, officeId=1) == {}


# --- 184 Savings Rejected / 185 Savings Activated -----------------------------------------------


@pytest.mark.parametrize("rule_id", [184, 185])
def test_184_185_the_events_client_savings_account(bank: EventBank, rule_id: int) -> None:
    bank.client(30, 3, first="Amina", last="Nakato")
    bank.savings(40, 30, officer=101)
    bank.group(600, "Alpha", 3, members=(30,))
    bank.savings(41, None, group=600)  # group accounts have no client to message, as in Fineract

    recipients = fire(bank, rule_id, {"savingsId": 40, "clientId": 30}, officeId=2)
    assert list(recipients) == ["40"]
    assert recipients["40"].variables == {
        "id": "30",
        "firstName": "Amina",
        "middleName": "",
        "lastName": "Nakato",
        "fullName": "Amina Nakato",
        "savingsAccountNo": "S000040",
        "officeNumber": "3",
        "officeName": "Ntinda",
    }
    assert fire(bank, rule_id, {"savingsId": 41}, officeId=1) == {}
    assert fire(bank, rule_id, {"savingsId": 40}, officeId=4) == {}
    assert fire(bank, rule_id, {"savingsId": 40, "clientId": 31}, officeId=2) == {}
    assert list(fire(bank, rule_id, {"savingsId": 40}, officeId=2, loanOfficerId=101)) == ["40"]
    assert fire(bank, rule_id, {"savingsId": 40}, officeId=2, loanOfficerId=100) == {}
    assert fire(bank, rule_id, {"savingsId": 40}, officeId=2, loanOfficerId=-10) == {}


# --- 186 Savings Deposit / 187 Savings Withdrawal -----------------------------------------------


def test_186_187_the_events_own_transaction_of_the_right_type(bank: EventBank) -> None:
    bank.client(30, 3, staff=100, first="Amina", last="Nakato")
    bank.savings(40, 30, balance=Decimal("9000"))
    bank.savings(42, 30)
    bank.saving(400, 40, amount=Decimal("2500.5"), running=Decimal("10000"))
    bank.saving(401, 40, type_=2, amount=1_000)  # no running balance: the account balance
    bank.saving(402, 40, reversed_=True)
    bank.saving(403, 40, reversal=True)

    deposit = fire(bank, 186, {"savingsTransactionId": 400, "savingsId": 40, "clientId": 30}, officeId=-1)
    assert list(deposit) == ["400"]
    assert deposit["400"].variables == {
        "clientId": "30",
        "firstname": "Amina",
        "middlename": "",
        "lastname": "Nakato",
        "FullName": "Amina Nakato",
        "savingsId": "40",
        "savingsAccountNo": "S000040",
        "depositAmount": "KES 2,500.50",
        "withdrawAmount": "KES 2,500.50",
        "balance": "KES 10,000.00",
        "officeId": "3",
        "transactionDate": "15 Mar 2023",
        "savingsTransactionId": "400",
        "loanOfficerId": "100",
        "receiptNumber": "",
        "id": "30",
        "firstName": "Amina",
        "middleName": "",
        "lastName": "Nakato",
        "fullName": "Amina Nakato",
    }
    withdrawal = fire(bank, 187, {"savingsTransactionId": 401})
    assert list(withdrawal) == ["401"]
    assert (withdrawal["401"].variables["withdrawAmount"], withdrawal["401"].variables["balance"]) == (
        "KES 1,000.00",
        "KES 9,000.00",
    )
    assert fire(bank, 186, {"savingsTransactionId": 401}) == {}  # a withdrawal is no deposit
    assert fire(bank, 187, {"savingsTransactionId": 400}) == {}
    assert fire(bank, 186, {"savingsTransactionId": 402}) == {}
    assert fire(bank, 186, {"savingsTransactionId": 403}) == {}
    assert fire(bank, 186, {"savingsTransactionId": 400, "savingsId": 42}) == {}
    assert fire(bank, 186, {"savingsTransactionId": 400}, officeId=4) == {}
    assert list(fire(bank, 186, {"savingsTransactionId": 400}, officeId=2)) == ["400"]
    assert list(fire(bank, 186, {"savingsTransactionId": 400}, loanOfficerId=100)) == ["400"]
    assert fire(bank, 186, {"savingsTransactionId": 400}, loanOfficerId=-10) == {}


# --- receiptNumber (179, 186, 187) ---------------------------------------------------------------


def test_179_186_187_name_the_receipt_number_of_the_transaction_s_payment_details(bank: EventBank) -> None:
    bank.client(10, 3)
    bank.loan(90, 10)
    bank.txn(900, 90, TODAY)
    bank.receipt(s.m_loan_transaction, 900, "QJK4H7T2LM", detail=1)
    bank.txn(901, 90, TODAY)
    bank.receipt(s.m_loan_transaction, 901, None, detail=2)  # a cheque: details without a receipt number
    bank.txn(902, 90, TODAY)  # cash, recorded without payment details
    bank.savings(40, 10)
    bank.saving(400, 40)
    bank.receipt(s.m_savings_account_transaction, 400, "SD-20230315-0042", detail=3)
    bank.saving(401, 40, type_=2)
    bank.receipt(s.m_savings_account_transaction, 401, "WD-77", detail=4)
    bank.saving(402, 40)

    def receipt(rule_id: int, event: dict[str, int]) -> str:
        [row] = fire(bank, rule_id, event, officeId=-1).values()
        return row.variables["receiptNumber"]

    assert receipt(179, {"loanTransactionId": 900}) == "QJK4H7T2LM"
    assert receipt(179, {"loanTransactionId": 901}) == ""
    assert receipt(179, {"loanTransactionId": 902}) == ""
    assert receipt(186, {"savingsTransactionId": 400}) == "SD-20230315-0042"
    assert receipt(187, {"savingsTransactionId": 401}) == "WD-77"
    assert receipt(186, {"savingsTransactionId": 402}) == ""
