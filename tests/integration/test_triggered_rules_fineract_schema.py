"""Every triggered rule (179-187), one hook event each, read-only against Fineract's full real-type tables.

The same databases as the non-triggered rules' test (tests/fineract_ddl on PostgreSQL and MariaDB,
written by an admin, read through herald's read-only engine or a SELECT-only account), plus savings
rows. Each event carries the ids a Fineract hook gives; the recipients are keyed by (client id,
fact id) and the near misses (a reversed transaction, another office, another officer, a group
member who left) must select nobody.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from herald.corebank.event_rules import TriggeredQuery, run_triggered
from herald.corebank.runner import AudienceRow
from herald.errors import ParameterError
from herald.rules.catalog import get_rule
from tests.integration import test_rules_fineract_schema as full
from tests.integration.test_rules_fineract_schema import KES, TODAY, Bank

# The same parametrised fixture (a fresh real-type database per test, PostgreSQL and MariaDB), bound by
# assignment: a `from ... import bank` would be flagged as unused and redefined by every test's argument.
bank = full.bank
KAMPALA = ZoneInfo("Africa/Kampala")  # UTC+3: the rows' created_on_utc 05:30 UTC is 08:30 there

Recipients = dict[tuple[int, str], AudienceRow]


def fire(bank: Bank, rule_id: int, event: dict[str, int], **params: Any) -> Recipients:
    """The recipients of one event keyed by (client id, fact id), read read-only; no key may repeat."""
    params.setdefault("officeId", 2)
    with bank.reader.connect() as conn:
        rows = list(run_triggered(conn, get_rule(rule_id), params, event, TODAY, zone=KAMPALA))
    keyed = {(r.client_id, r.fact_id): r for r in rows}
    assert len(keyed) == len(rows), "a (client, fact) pair was returned twice"
    return keyed


def update_loan(bank: Bank, lid: int, **values: Any) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    with bank.writer.begin() as conn:
        conn.execute(sa.text(f"UPDATE m_loan SET {sets} WHERE id = :lid"), {**values, "lid": lid})


def group_with_members(bank: Bank) -> None:
    """Group 600 "Alpha" in Ntinda: 20 active, 21 active without a mobile, 22 closed (not messaged)."""
    bank.client(20, 3, first="Grace")
    bank.client(21, 3, mobile=None)
    bank.client(22, 3, status=600)
    bank.group(600, "Alpha", 3, members=(20, 21, 22))


def savings_product(bank: Bank) -> None:
    bank.put(
        "m_savings_product",
        id=1,
        name="Savings KES",
        short_name="SKES",
        deposit_type_enum=100,
        currency_code="KES",
        currency_digits=2,
        nominal_annual_interest_rate=Decimal("3.000000"),
        is_dormancy_tracking_active=False,
    )


def savings(
    bank: Bank,
    sid: int,
    client: int | None,
    *,
    officer: int | None = None,
    group: int | None = None,
    status: int = 300,
    balance: Any = 10_000,
) -> int:
    """A KES account of product 1 (savings_product first); 500 REJECTED or 300 ACTIVE as the event says."""
    bank.put(
        "m_savings_account",
        id=sid,
        account_no=f"S{sid:06d}",
        external_id=f"SA-{sid}",
        client_id=client,
        group_id=group,
        product_id=1,
        field_officer_id=officer,
        status_enum=status,
        sub_status_enum=0,
        account_type_enum=1 if client else 2,
        deposit_type_enum=100,
        submittedon_date=date(2023, 1, 1),
        rejectedon_date=TODAY if status == 500 else None,
        activatedon_date=TODAY if status == 300 else None,
        currency_code="KES",
        currency_digits=2,
        account_balance_derived=balance,
        version=1,
        created_on_utc=bank.now,
        last_modified_on_utc=bank.now,
    )
    return sid


def saving(
    bank: Bank,
    tid: int,
    account: int,
    *,
    type_: int = 1,
    amount: Any = 500,
    running: Any = None,
    reversed_: bool = False,
    reversal: bool = False,
) -> int:
    bank.put(
        "m_savings_account_transaction",
        id=tid,
        savings_account_id=account,
        office_id=2,
        payment_detail_id=1,
        transaction_type_enum=type_,
        is_reversed=reversed_,
        is_reversal=reversal,
        transaction_date=TODAY,
        submitted_on_date=TODAY,
        amount=amount,
        running_balance_derived=running,
        is_manual=False,
        is_loan_disbursement=False,
        is_lien_transaction=False,
        created_by=1,
        created_on_utc=bank.now,
        last_modified_on_utc=bank.now,
    )
    return tid


def test_179_a_repayment_reaches_its_borrower_group_members_or_jlg_borrower_never_a_reversal(bank: Bank) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")  # Ntinda, under Kampala
    bank.loan(90, 10, officer=100, currency=KES, principal=100_000, outstanding=(Decimal("60000.5"), 5_000, 0, 0))
    bank.txn(900, 90, TODAY, amount=Decimal("2500.456"))
    bank.txn(901, 90, TODAY, reversed_=True)  # is_reversed b'1' / true
    bank.txn(902, 90, TODAY, type_=1)  # a disbursement is not money received
    bank.client(12, 4)
    bank.loan(92, 12)
    bank.txn(920, 92, TODAY)
    group_with_members(bank)
    bank.loan(95, None, group=600)
    bank.txn(950, 95, TODAY)
    bank.loan(96, 20, group=600)
    update_loan(bank, 96, loan_type_enum=3)
    bank.txn(960, 96, TODAY)

    amina = fire(bank, 179, {"loanTransactionId": 900, "loanId": 90, "clientId": 10}, officeId=-1)
    assert set(amina) == {(10, "900:10")}  # one row with officeId -1, not one per office level
    v = amina[(10, "900:10")].variables
    assert (v["FullName"], v["LoanAmount"], v["LoanOutstanding"], v["LoanAccountId"]) == (
        "Amina Nakato",
        "KES 100,000.00",
        "KES 65,000.50",
        "000000090",
    )
    assert (v["repaymentAmount"], v["RepaymentDate"], v["RepaymentTime"], v["GroupName"]) == (
        "KES 2,500.46",
        "15 Mar 2023",
        "08:30",
        "",
    )
    assert set(fire(bank, 179, {"loanTransactionId": 900, "loanId": 90, "clientId": 10})) == {(10, "900:10")}
    assert fire(bank, 179, {"loanTransactionId": 900, "loanId": 90}, officeId=4) == {}
    assert fire(bank, 179, {"loanTransactionId": 900, "loanId": 90}, loanOfficerId=101) == {}
    assert fire(bank, 179, {"loanTransactionId": 901, "loanId": 90, "clientId": 10}) == {}
    assert fire(bank, 179, {"loanTransactionId": 902, "loanId": 90, "clientId": 10}) == {}
    assert fire(bank, 179, {"loanTransactionId": 920, "loanId": 92, "clientId": 12}) == {}  # Gulu
    assert set(fire(bank, 179, {"loanTransactionId": 920, "loanId": 92, "clientId": 12}, officeId=4)) == {
        (12, "920:12")
    }

    members = fire(bank, 179, {"loanTransactionId": 950, "loanId": 95, "groupId": 600})
    assert set(members) == {(20, "950:20"), (21, "950:21")}  # the closed member 22 is not messaged
    assert members[(20, "950:20")].variables["GroupName"] == "Alpha"
    assert members[(21, "950:21")].mobile_no is None
    jlg = fire(bank, 179, {"loanTransactionId": 960, "loanId": 96, "clientId": 20})
    assert set(jlg) == {(20, "960:20")}  # the borrower only, not the whole group
    assert set(fire(bank, 179, {"loanTransactionId": 960, "loanId": 96})) == {(20, "960:20")}


def test_a_burst_of_events_asked_together_gets_each_event_exactly_its_own_recipients(bank: Bank) -> None:
    """run_many asks the core bank up to 64 events to a statement: no row may reach another event, none be
    lost, and an event whose ids the rule cannot use is refused in its place while the others go on."""
    bank.client(10, 3, first="Amina")
    bank.loan(90, 10, officer=100)
    bank.client(12, 4)
    bank.loan(92, 12)
    group_with_members(bank)
    bank.loan(95, None, group=600)
    events: list[dict[str, int]] = []
    for n in range(30):  # 30 repayments of Amina's, 15 reversed, 10 of the Gulu client (another office)
        bank.txn(3000 + n, 90, TODAY, amount=1000 + n, reversed_=n % 2 == 1)
        events.append({"loanTransactionId": 3000 + n, "loanId": 90})
    for n in range(10):
        bank.txn(4000 + n, 92, TODAY, amount=2000 + n)
        events.append({"loanTransactionId": 4000 + n, "loanId": 92})
    for n in range(25):  # group repayments: two recipients each
        bank.txn(5000 + n, 95, TODAY, amount=3000 + n)
        events.append({"loanTransactionId": 5000 + n, "loanId": 95})
    events += [{"loanId": 90}, events[0], events[-1], {"loanTransactionId": 999_999}]  # refused; twice; none
    assert len(events) == 69  # 64 + 4 + 1 arms

    rule = get_rule(179)
    with bank.reader.connect() as conn:
        query = TriggeredQuery(conn, rule, {"officeId": 2}, zone=KAMPALA)
        together = query.run_many([(event, TODAY) for event in events])
        alone: list[Any] = []
        for event in events:
            try:
                alone.append(query.run(event, TODAY))
            except ParameterError as e:
                alone.append(e)
    assert isinstance(together[65], ParameterError) and isinstance(alone[65], ParameterError)
    assert str(together[65]) == str(alone[65])
    for n, (mine, its_own) in enumerate(zip(together, alone, strict=True)):
        if n != 65:
            assert mine == its_own, f"event {n} {events[n]}"
    reached = [{(r.client_id, r.fact_id, r.variables["repaymentAmount"]) for r in rows} for rows in together[:65]]
    assert reached[0] == {(10, "3000:10", "UGX 1,000")} and reached[1] == set()  # a reversal reaches nobody
    assert all(r == set() for r in reached[30:40])  # Gulu is outside office 2's subtree
    assert reached[40] == {(20, "5000:20", "UGX 3,000"), (21, "5000:21", "UGX 3,000")}
    assert sum(len(r) for r in reached) == 15 + 2 * 25
    assert together[66] == together[0] and together[67] == together[64] and together[68] == []


@pytest.mark.parametrize(("rule_id", "amount"), [(180, "UGX 100,000"), (181, "UGX 120,000")])
def test_180_181_a_loan_decision_reaches_its_borrower_group_members_or_jlg_borrower(
    bank: Bank, rule_id: int, amount: str
) -> None:
    bank.client(10, 3, first="Amina", last="Nakato")
    bank.loan(80, 10, officer=100, principal=100_000)
    update_loan(bank, 80, principal_amount_proposed=120_000, annual_nominal_interest_rate=Decimal("18.5"))
    group_with_members(bank)
    bank.loan(81, None, group=600)
    bank.loan(82, 21, group=600)
    update_loan(bank, 82, loan_type_enum=3)

    borrower = fire(bank, rule_id, {"loanId": 80, "clientId": 10}, officeId=-1)
    assert set(borrower) == {(10, "80:10")}
    v = borrower[(10, "80:10")].variables
    assert (v["loanamount"], v["annualinterestrate"], v["officename"], v["accountnumber"]) == (
        amount,  # 180 the approved principal, 181 the amount applied for
        "18.5",
        "Ntinda",
        "000000080",
    )
    assert set(fire(bank, rule_id, {"loanId": 80, "clientId": 10}, officeId=2, loanOfficerId=100)) == {(10, "80:10")}
    assert fire(bank, rule_id, {"loanId": 80, "clientId": 10}, officeId=4) == {}
    assert fire(bank, rule_id, {"loanId": 80, "clientId": 10}, loanOfficerId=-10) == {}

    members = fire(bank, rule_id, {"loanId": 81, "groupId": 600})
    assert set(members) == {(20, "81:20"), (21, "81:21")}
    assert members[(20, "81:20")].variables["GroupName"] == "Alpha"
    assert set(fire(bank, rule_id, {"loanId": 82, "clientId": 21})) == {(21, "82:21")}  # JLG: the borrower only


@pytest.mark.parametrize(("rule_id", "status"), [(182, 700), (183, 300)])
def test_182_183_the_events_client_in_the_office_subtree(bank: Bank, rule_id: int, status: int) -> None:
    bank.client(30, 3, status=status, staff=100, first="Amina", last="Nakato")
    bank.client(32, 4, status=status)

    recipients = fire(bank, rule_id, {"clientId": 30})
    assert set(recipients) == {(30, "30")}
    v = recipients[(30, "30")].variables
    assert (v["fullName"], v["officeName"], v["officeNumber"]) == ("Amina Nakato", "Ntinda", "3")
    assert recipients[(30, "30")].mobile_no == "+256700000030" and "mobileNo" not in v
    assert fire(bank, rule_id, {"clientId": 32}) == {}  # Gulu is not under Kampala
    assert set(fire(bank, rule_id, {"clientId": 32}, officeId=1)) == {(32, "32")}
    assert fire(bank, rule_id, {"clientId": 30}, loanOfficerId=101) == {}


@pytest.mark.parametrize(("rule_id", "status"), [(184, 500), (185, 300)])
def test_184_185_the_events_client_savings_account(bank: Bank, rule_id: int, status: int) -> None:
    bank.client(30, 3, first="Amina", last="Nakato")
    bank.client(32, 4)
    savings_product(bank)
    savings(bank, 40, 30, officer=101, status=status)
    savings(bank, 42, 32, status=status)
    bank.group(600, "Alpha", 3, members=(30,))
    savings(bank, 41, None, group=600, status=status)  # a group account has no client to message

    recipients = fire(bank, rule_id, {"savingsId": 40, "clientId": 30})
    assert set(recipients) == {(30, "40")}
    v = recipients[(30, "40")].variables
    assert (v["fullName"], v["savingsAccountNo"], v["officeName"], v["officeNumber"]) == (
        "Amina Nakato",
        "S000040",
        "Ntinda",
        "3",
    )
    assert fire(bank, rule_id, {"savingsId": 42, "clientId": 32}) == {}  # Gulu
    assert set(fire(bank, rule_id, {"savingsId": 42, "clientId": 32}, officeId=4)) == {(32, "42")}
    assert fire(bank, rule_id, {"savingsId": 41, "groupId": 600}, officeId=1) == {}
    assert set(fire(bank, rule_id, {"savingsId": 40}, loanOfficerId=101)) == {(30, "40")}
    assert fire(bank, rule_id, {"savingsId": 40}, loanOfficerId=100) == {}


def test_186_187_the_events_own_live_transaction_of_the_right_type(bank: Bank) -> None:
    bank.client(30, 3, staff=100, first="Amina", last="Nakato")
    bank.client(32, 4)
    savings_product(bank)
    savings(bank, 40, 30, balance=Decimal("9000"))
    savings(bank, 42, 32)
    saving(bank, 400, 40, amount=Decimal("2500.5"), running=Decimal("10000"))
    saving(bank, 401, 40, type_=2, amount=1_000)  # no running balance: the account's balance
    saving(bank, 402, 40, reversed_=True)  # is_reversed b'1' / true
    saving(bank, 403, 40, type_=2, reversed_=True)
    saving(bank, 404, 40, reversal=True)  # the reversal entry itself
    saving(bank, 420, 42)

    deposit = fire(bank, 186, {"savingsTransactionId": 400, "savingsId": 40, "clientId": 30})
    assert set(deposit) == {(30, "400")}
    v = deposit[(30, "400")].variables
    assert (v["FullName"], v["depositAmount"], v["balance"], v["transactionDate"], v["loanOfficerId"]) == (
        "Amina Nakato",
        "KES 2,500.50",
        "KES 10,000.00",
        "15 Mar 2023",
        "100",
    )
    withdrawal = fire(bank, 187, {"savingsTransactionId": 401, "savingsId": 40, "clientId": 30})
    assert set(withdrawal) == {(30, "401")}
    w = withdrawal[(30, "401")].variables
    assert (w["withdrawAmount"], w["balance"], w["savingsAccountNo"]) == ("KES 1,000.00", "KES 9,000.00", "S000040")

    assert fire(bank, 186, {"savingsTransactionId": 401, "savingsId": 40}) == {}  # a withdrawal is no deposit
    assert fire(bank, 187, {"savingsTransactionId": 400, "savingsId": 40}) == {}
    assert fire(bank, 186, {"savingsTransactionId": 402, "savingsId": 40}) == {}
    assert fire(bank, 187, {"savingsTransactionId": 403, "savingsId": 40}) == {}
    assert fire(bank, 186, {"savingsTransactionId": 404, "savingsId": 40}) == {}
    assert fire(bank, 186, {"savingsTransactionId": 420, "savingsId": 42}) == {}  # Gulu
    assert set(fire(bank, 186, {"savingsTransactionId": 420, "savingsId": 42}, officeId=-1)) == {(32, "420")}
    assert fire(bank, 186, {"savingsTransactionId": 400, "savingsId": 40}, loanOfficerId=-10) == {}


def test_179_186_187_read_the_receipt_number_from_fineract_s_payment_details(bank: Bank) -> None:
    bank.client(10, 3)
    bank.loan(90, 10)
    bank.put("m_payment_detail", id=2, payment_type_id=1, receipt_number="QJK4H7T2LM", account_number="0712")
    bank.put("m_payment_detail", id=3, payment_type_id=2, check_number="000123")  # a cheque: no receipt
    for tid, detail in ((900, 2), (901, 3), (902, None)):
        bank.txn(tid, 90, TODAY)
        with bank.writer.begin() as conn:
            conn.execute(
                sa.text("UPDATE m_loan_transaction SET payment_detail_id = :d WHERE id = :t"), {"d": detail, "t": tid}
            )
    savings_product(bank)
    savings(bank, 40, 10)
    bank.put("m_payment_detail", id=4, payment_type_id=1, receipt_number="SD-20230315-0042")
    saving(bank, 400, 40)
    saving(bank, 401, 40, type_=2)
    with bank.writer.begin() as conn:
        conn.execute(sa.text("UPDATE m_savings_account_transaction SET payment_detail_id = 4 WHERE id = 400"))
        conn.execute(sa.text("UPDATE m_savings_account_transaction SET payment_detail_id = NULL WHERE id = 401"))

    def receipt(rule_id: int, event: dict[str, int]) -> str:
        [row] = fire(bank, rule_id, event, officeId=-1).values()
        return row.variables["receiptNumber"]

    assert receipt(179, {"loanTransactionId": 900}) == "QJK4H7T2LM"
    assert receipt(179, {"loanTransactionId": 901}) == ""
    assert receipt(179, {"loanTransactionId": 902}) == ""
    assert receipt(186, {"savingsTransactionId": 400}) == "SD-20230315-0042"
    assert receipt(187, {"savingsTransactionId": 401}) == ""
