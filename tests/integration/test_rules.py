"""Every non-triggered business rule against crafted Fineract rows, on SQLite and PostgreSQL.

A D-number in a comment (D7) names the entry of docs/fineract-differences.md that the row exercises.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from herald.corebank import schema as s
from herald.corebank.runner import AudienceRow, count, run_rule, sample
from herald.errors import CoreBankError, ParameterError
from herald.rules.catalog import get_rule

TODAY = date(2023, 3, 15)
NOW = datetime(2023, 3, 15, 8, 0)
UGX = ("UGX", 0)
KES = ("KES", 2)

# Office tree: 1 head office; 2 Kampala under it; 3 Ntinda under Kampala; 4 Gulu beside Kampala.
# Rules run for office 2 unless said otherwise, so 2 and 3 are inside and 1 and 4 outside.
OFFICES = (
    (1, None, ".", "Head Office"), (2, 1, ".2.", "Kampala"), (3, 2, ".2.3.", "Ntinda"), (4, 1, ".4.", "Gulu"),
)


class Bank:
    """Inserts Fineract rows with just the columns a test cares about; the rest get valid defaults."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        for oid, parent, hierarchy, name in OFFICES:
            self._put(s.m_office, id=oid, parent_id=parent, hierarchy=hierarchy, name=name,
                      opening_date=date(2010, 1, 1))
        self._put(s.m_appuser, id=1, username="mifos", office_id=1)
        for sid in (100, 101):
            self._put(s.m_staff, id=sid, office_id=2, display_name=f"Officer {sid}", is_loan_officer=True)
        self._put(s.m_group_level, id=1, parent_id=None, super_parent=True, level_name="Center",
                  recursable=True, can_have_clients=False)
        self._put(s.m_group_level, id=2, parent_id=1, super_parent=False, level_name="Group",
                  recursable=False, can_have_clients=True)
        self._put(s.m_code, id=13, code_name="GROUPROLE", is_system_defined=True)
        self._put(s.m_code, id=99, code_name="OtherRoles")
        self._put(s.m_code_value, id=1301, code_id=13, code_value="Leader")
        self._put(s.m_code_value, id=1302, code_id=13, code_value="Secretary")
        self._put(s.m_code_value, id=9901, code_id=99, code_value="Leader")

    def _put(self, table: sa.Table, **values: Any) -> None:
        self.conn.execute(table.insert().values(**values))

    def client(self, cid: int, office: int = 2, *, status: int = 300, staff: int | None = None,
               mobile: str | None = "default", first: str = "Amina", middle: str | None = None,
               last: str | None = None, born: date | None = None,
               activated: date | None = date(2020, 1, 1)) -> int:
        last = last or f"Client{cid}"
        self._put(
            s.m_client, id=cid, account_no=f"C{cid:06d}", status_enum=status, office_id=office,
            staff_id=staff, firstname=first, middlename=middle, lastname=last,
            display_name=" ".join(p for p in (first, middle, last) if p),
            mobile_no=f"+25670{cid:07d}" if mobile == "default" else mobile,
            date_of_birth=born, activation_date=activated, created_on_utc=NOW, last_modified_on_utc=NOW,
        )
        return cid

    def group(self, gid: int, name: str, office: int = 2, *, status: int = 300, level: int = 2,
              members: tuple[int, ...] = ()) -> int:
        self._put(s.m_group, id=gid, account_no=f"G{gid:06d}", status_enum=status, office_id=office,
                  level_id=level, display_name=name)
        for cid in members:
            self._put(s.m_group_client, group_id=gid, client_id=cid)
        return gid

    def role(self, client: int, group: int, role: int = 1301) -> None:
        self._put(s.m_group_roles, client_id=client, group_id=group, role_cv_id=role)

    def loan(self, lid: int, client: int | None, *, status: int = 300, officer: int | None = None,
             group: int | None = None, currency: tuple[str, int] = UGX, principal: Any = 100_000,
             outstanding: Any = (60_000, 5_000, 0, 0), disbursed: date | None = date(2023, 1, 1),
             matures: date | None = date(2023, 12, 31), closed: date | None = None,
             overpaid: date | None = None, repaid: Any = 45_000) -> int:
        p, i, f, pen = outstanding
        self._put(
            s.m_loan, id=lid, account_no=f"L{lid:06d}", client_id=client, group_id=group,
            loan_officer_id=officer, loan_status_id=status, loan_type_enum=1 if client else 2,
            currency_code=currency[0], currency_digits=currency[1],
            principal_amount_proposed=principal, approved_principal=principal, principal_amount=principal,
            net_disbursal_amount=principal, number_of_repayments=12, repay_every=1,
            repayment_period_frequency_enum=2, term_frequency=12, term_period_frequency_enum=2,
            disbursedon_date=disbursed, expected_maturedon_date=matures, closedon_date=closed,
            overpaidon_date=overpaid, principal_disbursed_derived=principal,
            principal_outstanding_derived=p, interest_outstanding_derived=i,
            fee_charges_outstanding_derived=f, penalty_charges_outstanding_derived=pen,
            total_outstanding_derived=p + i + f + pen, total_repayment_derived=repaid,
            created_on_utc=NOW, last_modified_on_utc=NOW,
        )
        return lid

    def instalment(self, iid: int, loan: int, due: date, *, number: int = 1, completed: bool = False,
                   **amounts: Any) -> int:
        values = {"principal_amount": 1_000, **amounts}
        self._put(s.m_loan_repayment_schedule, id=iid, loan_id=loan, installment=number, duedate=due,
                  completed_derived=completed, created_on_utc=NOW, last_modified_on_utc=NOW, **values)
        return iid

    def arrears(self, loan: int, since: date, total: Any = 700) -> None:
        self._put(s.m_loan_arrears_aging, loan_id=loan, principal_overdue_derived=total,
                  total_overdue_derived=total, overdue_since_date_derived=since)

    def txn(self, tid: int, loan: int, on: date, *, type_: int = 2, amount: Any = 5_000,
            reversed_: bool = False) -> int:
        self._put(s.m_loan_transaction, id=tid, loan_id=loan, office_id=2, is_reversed=reversed_,
                  transaction_type_enum=type_, transaction_date=on, submitted_on_date=on, amount=amount,
                  created_by=1, created_on_utc=NOW, last_modified_on_utc=NOW)
        return tid

    def guarantor(self, gid: int, loan: int, last: str, *, active: bool = True) -> None:
        self._put(s.m_guarantor, id=gid, loan_id=loan, type_enum=3, lastname=last, is_active=active)


@pytest.fixture
def bank(db_url: str) -> Iterator[Bank]:
    engine = sa.create_engine(db_url)
    s.metadata.create_all(engine)
    try:
        with engine.connect() as conn:
            yield Bank(conn)
    finally:
        engine.dispose()


def run(bank: Bank, rule_id: int, today: date = TODAY, **params: Any) -> dict[tuple[int, str], AudienceRow]:
    """The audience keyed by (client id, fact id); checks uniqueness and that count() agrees."""
    rule = get_rule(rule_id)
    params.setdefault("officeId", 2)
    rows = list(run_rule(bank.conn, rule, params, today))
    keyed = {(r.client_id, r.fact_id): r for r in rows}
    assert len(keyed) == len(rows), "a (client, fact) pair was returned twice"
    assert count(bank.conn, rule, params, today) == len(rows)
    return keyed


def keys(audience: dict[tuple[int, str], AudienceRow]) -> set[tuple[int, str]]:
    return set(audience)


def test_166_active_clients_of_the_office_subtree_with_officer_filter(bank: Bank) -> None:
    bank.client(10, 2, staff=100, first="Amina", middle=None, last="Nakato")
    bank.client(11, 3, mobile=None)  # sub-office, no officer, no mobile: still returned
    bank.client(12, 4, staff=100)  # outside the subtree
    bank.client(13, 2, status=100)  # pending
    bank.client(14, 1, staff=100)  # the parent office is not in office 2's subtree
    bank.client(15, 2, status=600)

    audience = run(bank, 166, loanOfficerId=-1)
    assert keys(audience) == {(10, "10"), (11, "11")}
    amina = audience[(10, "10")]
    assert amina.variables == {
        "id": "10", "firstName": "Amina", "middleName": "", "lastName": "Nakato", "fullName": "Amina Nakato",
        "officeName": "Kampala", "officeNumber": "2",
    }
    assert (amina.office_id, amina.mobile_no) == (2, "+256700000010")
    assert audience[(11, "11")].mobile_no is None
    assert "mobileNo" not in audience[(11, "11")].variables  # the number is for the send path, not templates
    assert audience[(11, "11")].variables["officeName"] == "Ntinda"

    assert keys(run(bank, 166, loanOfficerId=100)) == {(10, "10")}
    assert keys(run(bank, 166, loanOfficerId="-10")) == {(11, "11")}
    assert keys(run(bank, 166, loanOfficerId=101)) == set()
    assert keys(run(bank, 166)) == {(10, "10"), (11, "11")}  # loanOfficerId defaults to -1
    head = run(bank, 166, officeId=1)
    assert keys(head) == {(10, "10"), (11, "11"), (12, "12"), (14, "14")}
    assert head[(14, "14")].variables["officeName"] == "Head Office"
    assert head[(12, "12")].variables["officeName"] == "Gulu"


def test_167_prospects_are_active_clients_without_a_real_loan(bank: Bank) -> None:
    for cid in range(20, 27):
        bank.client(cid)
    bank.loan(210, 21, status=300)
    bank.loan(220, 22, status=500)  # rejected application: still a prospect (D16)
    bank.loan(230, 23, status=400)  # withdrawn application: still a prospect
    bank.loan(240, 24, status=100)  # application in progress
    bank.loan(250, 25, status=600)  # repaid loan: had a loan
    bank.group(600, "Alpha", members=(26,))
    bank.loan(260, None, group=600)  # a group loan is not the member's own loan
    bank.client(27, 4)  # outside the subtree
    assert keys(run(bank, 167)) == {(20, "20"), (22, "22"), (23, "23"), (26, "26")}


def test_168_active_loans_disbursed_in_the_cycle_window(bank: Bank) -> None:
    bank.client(10, staff=101)
    bank.client(11, 3)
    bank.client(12, 4)
    bank.group(600, "Zeta", members=(11,))
    bank.group(601, "Alpha", members=(11,))
    # cycleX 10 .. cycleY 20 days since disbursement: 23 Feb .. 5 Mar 2023 inclusive.
    bank.loan(30, 10, officer=100, principal=12_500, disbursed=date(2023, 3, 5))
    bank.loan(31, 11, officer=101, disbursed=date(2023, 2, 23))
    bank.loan(32, 10, disbursed=date(2023, 3, 6))  # 9 days
    bank.loan(33, 10, disbursed=date(2023, 2, 22))  # 21 days
    bank.loan(34, 10, status=600, disbursed=date(2023, 3, 1))
    bank.loan(35, 12, disbursed=date(2023, 3, 1))  # other office
    bank.loan(36, None, group=600, disbursed=date(2023, 3, 1))  # pure group loan
    bank.loan(37, 10, currency=KES, principal=Decimal("1234.5"), outstanding=(Decimal("1000.25"), 0, 0, 0),
              disbursed=date(2023, 3, 1))
    for gid, last, active in ((1, "Okello", True), (2, "Achieng", True), (3, "Aaron", False)):
        bank.guarantor(gid, 31, last, active=active)

    audience = run(bank, 168, cycleX=10, cycleY=20)
    assert keys(audience) == {(10, "30"), (11, "31"), (10, "37")}
    ugx = audience[(10, "30")].variables
    assert (ugx["loanAmount"], ugx["loanOutstanding"], ugx["loanDisbursed"]) == (
        "UGX 12,500", "UGX 65,000", "UGX 12,500",
    )
    assert (ugx["loanAccountId"], ugx["numberOfGuarantors"], ugx["guarantorLastName"]) == ("L000030", "0", "")
    assert ugx["groupName"] == ""
    kes = audience[(10, "37")].variables
    assert (kes["loanAmount"], kes["loanOutstanding"]) == ("KES 1,234.50", "KES 1,000.25")
    withg = audience[(11, "31")].variables
    assert (withg["numberOfGuarantors"], withg["guarantorLastName"]) == ("2", "Achieng")
    assert withg["groupName"] == "Alpha"
    assert withg["officeNumber"] == "3"

    assert keys(run(bank, 168, cycleX=10, cycleY=20, loanOfficerId=100)) == {(10, "30")}
    assert keys(run(bank, 168, cycleX=10, cycleY=20, loanOfficerId=-10)) == {(10, "37")}
    assert keys(run(bank, 168, cycleX=10, cycleY=20, loanOfficerId=101)) == {(11, "31")}


def test_169_loans_in_arrears_within_the_window_without_fan_out(bank: Bank) -> None:
    bank.client(10)
    bank.client(12, 4)
    bank.group(600, "Beta", members=(10,))
    bank.group(601, "Alpha", members=(10,))
    # fromX 1 .. toY 30 days in arrears: overdue since 13 Feb .. 14 Mar 2023.
    bank.loan(40, 10, officer=100)
    bank.arrears(40, date(2023, 3, 14), total=5_000)
    bank.loan(41, 10, currency=KES)
    bank.arrears(41, date(2023, 2, 13), total=Decimal("250.5"))
    bank.loan(42, 10)
    bank.arrears(42, date(2023, 3, 15))  # 0 days
    bank.loan(43, 10)
    bank.arrears(43, date(2023, 2, 12))  # 31 days
    bank.loan(44, 10)  # no arrears row
    bank.loan(45, 10, status=600)
    bank.arrears(45, date(2023, 3, 1))
    bank.loan(46, 12)
    bank.arrears(46, date(2023, 3, 1))
    for gid, last in ((1, "Okello"), (2, "Achieng"), (3, "Mugisha")):
        bank.guarantor(gid, 40, last)

    audience = run(bank, 169, fromX=1, toY=30)
    assert keys(audience) == {(10, "40"), (10, "41")}
    v = audience[(10, "40")].variables
    assert (v["paymentDueDate"], v["totalDue"], v["numberOfGuarantors"]) == ("14 Mar 2023", "UGX 5,000", "3")
    assert (v["guarantorLastName"], v["groupName"]) == ("Achieng", "Alpha")
    assert audience[(10, "41")].variables["totalDue"] == "KES 250.50"
    assert keys(run(bank, 169, fromX=1, toY=30, loanOfficerId=100)) == {(10, "40")}


def test_170_unpaid_instalments_due_in_the_window_each_its_own_fact(bank: Bank) -> None:
    bank.client(10)
    bank.client(11)
    bank.client(13, status=100)  # not an active client
    bank.client(14, 3)  # sub-office: included (D7)
    bank.client(15, 4)
    # fromX -3 .. toY -1: due in 1 to 3 days, 16 .. 18 Mar 2023.
    bank.loan(50, 10, officer=100)  # up to date: no arrears row (D8)
    bank.instalment(500, 50, date(2023, 3, 16), principal_amount=1_000, interest_amount=200,
                    fee_charges_amount=50, principal_completed_derived=300, interest_waived_derived=20,
                    fee_charges_writtenoff_derived=10)
    bank.instalment(501, 50, date(2023, 3, 18), number=2, principal_amount=1_000)
    bank.instalment(502, 50, date(2023, 3, 19), number=3)  # in 4 days
    bank.instalment(503, 50, date(2023, 3, 15), number=4)  # due today
    bank.loan(51, 11)
    bank.arrears(51, date(2023, 2, 1), total=700)
    bank.instalment(504, 51, date(2023, 3, 17))
    bank.instalment(505, 51, date(2023, 3, 17), number=2, completed=True)  # paid
    bank.loan(52, 10, status=600)
    bank.instalment(506, 52, date(2023, 3, 17))
    bank.loan(53, 13)
    bank.instalment(507, 53, date(2023, 3, 17))
    bank.loan(54, 14, officer=101, currency=KES)
    bank.instalment(508, 54, date(2023, 3, 16), principal_amount=Decimal("1234.5"))
    bank.loan(55, 15)
    bank.instalment(509, 55, date(2023, 3, 16))
    bank.group(600, "Alpha", members=(10,))
    bank.loan(56, None, group=600)
    bank.instalment(510, 56, date(2023, 3, 16))

    audience = run(bank, 170, fromX=-3, toY=-1)
    assert keys(audience) == {(10, "500"), (10, "501"), (11, "504"), (14, "508")}
    first = audience[(10, "500")].variables
    assert (first["paymentDueDate"], first["totalDue"], first["totalOverdue"]) == ("16 Mar 2023", "UGX 920", "UGX 0")
    assert audience[(10, "501")].variables["paymentDueDate"] == "18 Mar 2023"
    assert audience[(11, "504")].variables["totalOverdue"] == "UGX 700"
    assert audience[(14, "508")].variables["totalDue"] == "KES 1,234.50"
    assert audience[(14, "508")].office_id == 3

    assert keys(run(bank, 170, fromX=-3, toY=-1, loanOfficerId=100)) == {(10, "500"), (10, "501")}
    assert keys(run(bank, 170, fromX=-3, toY=-1, loanOfficerId=-10)) == {(11, "504")}
    assert keys(run(bank, 170, fromX=-3, toY=-1, officeId=3)) == {(14, "508")}
    assert keys(run(bank, 170, fromX=0, toY=0)) == {(10, "503")}


def test_171_dormant_prospects_activated_four_or_more_whole_months_ago(bank: Bank) -> None:
    bank.client(60, activated=date(2022, 11, 15))  # exactly 4 whole months
    bank.client(61, activated=date(2022, 11, 16))  # 3 months 30 days
    bank.client(62, activated=date(2021, 2, 10))  # 25 months (PostgreSQL's shipped rule says 1, D5)
    bank.client(63, activated=None)
    bank.client(64, activated=date(2020, 1, 1))
    bank.loan(640, 64)
    bank.client(65, activated=date(2020, 1, 1))
    bank.loan(650, 65, status=500)
    bank.client(66, 4, activated=date(2020, 1, 1))

    audience = run(bank, 171)
    assert keys(audience) == {(60, "60"), (62, "62"), (65, "65")}
    assert audience[(60, "60")].variables["dormant"] == "4"
    assert audience[(62, "62")].variables["dormant"] == "25"
    assert audience[(62, "62")].variables["officeName"] == "Kampala"


def test_172_active_leaders_of_active_groups_once_each(bank: Bank) -> None:
    for cid in (70, 71, 72, 73, 74, 76, 78):
        bank.client(cid, staff=100 if cid == 70 else None)
    bank.client(75, status=600)
    bank.client(77, 4)
    bank.group(700, "Beta")
    bank.group(701, "Alpha", office=4)  # the group sits in another office than its leader (D17)
    bank.group(702, "Closed", status=600)
    bank.group(703, "Centre", level=1)
    bank.role(70, 700)
    bank.role(70, 701)  # leader of two groups: one row
    bank.role(71, 701)
    bank.role(72, 700, role=1302)  # secretary
    bank.role(73, 702)
    bank.role(74, 703)  # centers hold no clients
    bank.role(75, 700)
    bank.role(76, 700, role=9901)  # "Leader" of another code
    bank.role(77, 700)

    audience = run(bank, 172)
    assert keys(audience) == {(70, "70"), (71, "71")}
    assert audience[(70, "70")].variables["groupName"] == "Alpha"
    assert keys(run(bank, 172, loanOfficerId=100)) == {(70, "70")}
    assert keys(run(bank, 172, loanOfficerId=-10)) == {(71, "71")}


def test_173_due_instalments_on_loans_overdue_in_the_window(bank: Bank) -> None:
    bank.client(10)
    # Due window fromX -3 .. toY 3: 12 .. 18 Mar; arrears overdueX 5 .. overdueY 10: since 5 .. 10 Mar.
    bank.loan(80, 10)
    bank.arrears(80, date(2023, 3, 10), total=1_500)
    bank.instalment(800, 80, date(2023, 3, 10))  # outside the due window
    bank.instalment(801, 80, date(2023, 3, 17), number=2, principal_amount=2_000,
                    principal_completed_derived=500)
    bank.instalment(802, 80, date(2023, 3, 12), number=3, completed=True)
    bank.loan(81, 10)
    bank.arrears(81, date(2023, 3, 5))
    bank.instalment(810, 81, date(2023, 3, 12))
    bank.loan(82, 10)
    bank.arrears(82, date(2023, 3, 11))  # 4 days in arrears
    bank.instalment(820, 82, date(2023, 3, 14))
    bank.loan(83, 10)
    bank.arrears(83, date(2023, 3, 4))  # 11 days
    bank.instalment(830, 83, date(2023, 3, 14))
    bank.loan(84, 10)  # not in arrears
    bank.instalment(840, 84, date(2023, 3, 14))

    audience = run(bank, 173, fromX=-3, toY=3, overdueX=5, overdueY=10)
    assert keys(audience) == {(10, "801"), (10, "810")}
    v = audience[(10, "801")].variables
    assert (v["paymentDueDate"], v["totalDue"], v["totalOverdue"]) == ("17 Mar 2023", "UGX 1,500", "UGX 1,500")


def test_174_each_payment_received_on_loans_not_in_arrears(bank: Bank) -> None:
    bank.client(10)
    bank.client(12, 4)
    # fromX 0 .. toY 7: 8 .. 15 Mar 2023.
    bank.loan(90, 10, currency=KES)
    bank.txn(900, 90, date(2023, 3, 15), amount=Decimal("5000"))
    bank.txn(901, 90, date(2023, 3, 8), type_=8, amount=Decimal("12.346"))  # recovery repayment
    bank.txn(902, 90, date(2023, 3, 10), type_=28)  # down payment
    bank.txn(903, 90, date(2023, 3, 10), type_=5)  # repayment at disbursement
    bank.txn(904, 90, date(2023, 3, 10), reversed_=True)
    bank.txn(905, 90, date(2023, 3, 10), type_=1)  # disbursement
    bank.txn(906, 90, date(2023, 3, 7))
    bank.txn(907, 90, date(2023, 3, 16))
    bank.loan(91, 10)
    bank.arrears(91, date(2023, 3, 1))
    bank.txn(910, 91, date(2023, 3, 10))
    bank.loan(92, 10, status=600)
    bank.txn(920, 92, date(2023, 3, 10))
    bank.loan(93, 12)
    bank.txn(930, 93, date(2023, 3, 10))

    audience = run(bank, 174, fromX=0, toY=7)
    assert keys(audience) == {(10, "900"), (10, "901"), (10, "902"), (10, "903")}
    v = audience[(10, "900")].variables
    assert (v["repaymentAmount"], v["repaymentDate"], v["loanId"]) == ("KES 5,000.00", "15 Mar 2023", "90")
    assert v["loanAccountNumber"] == v["loanAccountId"] == "L000090"
    assert audience[(10, "901")].variables["repaymentAmount"] == "KES 12.35"
    assert keys(run(bank, 174, fromX=1, toY=7)) == {(10, "901"), (10, "902"), (10, "903")}


def test_175_each_payment_received_on_loans_overdue_in_the_window(bank: Bank) -> None:
    bank.client(10)
    bank.loan(90, 10)  # not in arrears
    bank.txn(900, 90, date(2023, 3, 10))
    bank.loan(91, 10)
    bank.arrears(91, date(2023, 3, 1))  # 14 days
    bank.txn(910, 91, date(2023, 3, 10), amount=7_250)
    bank.txn(911, 91, date(2023, 3, 11), reversed_=True)
    bank.txn(912, 91, date(2023, 3, 12), type_=8)
    bank.loan(93, 10)
    bank.arrears(93, date(2023, 1, 1))  # 73 days
    bank.txn(930, 93, date(2023, 3, 10))

    audience = run(bank, 175, fromX=0, toY=7, overdueX=1, overdueY=30)
    assert keys(audience) == {(10, "910"), (10, "912")}
    assert audience[(10, "910")].variables["repaymentAmount"] == "UGX 7,250"


def test_176_birthdays_today_with_age_and_officer_filter(bank: Bank) -> None:
    bank.client(80, staff=100, born=date(1990, 3, 15))
    bank.client(81, born=date(2000, 3, 14))
    bank.client(82, born=date(1985, 3, 16))
    bank.client(83, born=None)
    bank.client(84, status=100, born=date(1990, 3, 15))
    bank.client(85, 4, born=date(1990, 3, 15))
    bank.client(86, born=date(2000, 2, 29))
    bank.client(87, born=date(1999, 2, 28))
    bank.client(88, born=date(2000, 3, 1))

    audience = run(bank, 176)
    assert keys(audience) == {(80, "80")}
    v = audience[(80, "80")].variables
    assert (v["age"], v["dateOfBirth"]) == ("33", "15 Mar 1990")
    assert keys(run(bank, 176, loanOfficerId=101)) == set()  # the officer filter is honoured (D6)

    feb28 = run(bank, 176, date(2023, 2, 28))  # not a leap year: leap-day clients celebrate today
    assert keys(feb28) == {(86, "86"), (87, "87")}
    assert (feb28[(86, "86")].variables["age"], feb28[(87, "87")].variables["age"]) == ("23", "24")
    assert keys(run(bank, 176, date(2024, 2, 28))) == {(87, "87")}
    leap = run(bank, 176, date(2024, 2, 29))
    assert keys(leap) == {(86, "86")}
    assert leap[(86, "86")].variables["age"] == "24"
    assert keys(run(bank, 176, date(2023, 3, 1))) == {(88, "88")}


def test_177_loans_fully_repaid_in_the_window(bank: Bank) -> None:
    bank.client(10)
    # fromX 0 .. toY 30: closed 13 Feb .. 15 Mar 2023.
    bank.loan(110, 10, status=600, closed=date(2023, 3, 15), outstanding=(0, 0, 0, 0), repaid=118_000)
    bank.instalment(1100, 110, date(2023, 1, 31))
    bank.instalment(1101, 110, date(2023, 2, 28), number=2, completed=True)
    bank.loan(111, 10, status=700, overpaid=date(2023, 2, 13), outstanding=(0, 0, 0, 0))
    bank.loan(112, 10, status=601, closed=date(2023, 3, 1))  # written off
    bank.loan(113, 10, status=600, closed=date(2023, 2, 12))
    bank.loan(114, 10, status=300, closed=None)

    audience = run(bank, 177, fromX=0, toY=30)
    assert keys(audience) == {(10, "110"), (10, "111")}
    v = audience[(10, "110")].variables
    assert (v["totalDue"], v["dueDate"], v["totalFullyPaid"]) == ("UGX 0", "28 Feb 2023", "UGX 118,000")
    assert audience[(10, "111")].variables["dueDate"] == ""


def test_178_active_loans_with_a_balance_after_the_final_instalment(bank: Bank) -> None:
    bank.client(10)
    # fromX 1 .. toY 30: matured 13 Feb .. 14 Mar 2023, and before today.
    bank.loan(120, 10, matures=date(2023, 3, 14), outstanding=(400, 100, 0, 0))
    bank.arrears(120, date(2023, 2, 14), total=500)
    bank.instalment(1200, 120, date(2023, 2, 14), principal_amount=1_000, principal_completed_derived=600,
                    interest_amount=100)
    bank.instalment(1201, 120, date(2023, 3, 14), number=2, completed=True)
    bank.loan(121, 10, matures=date(2023, 3, 14), outstanding=(0, 0, 0, 0))  # nothing owed (D20)
    bank.loan(122, 10, matures=date(2023, 3, 15))  # matures today
    bank.loan(123, 10, matures=date(2023, 2, 12))
    bank.loan(124, 10, status=600, matures=date(2023, 3, 1))
    bank.loan(125, 10, matures=date(2023, 3, 17))

    audience = run(bank, 178, fromX=1, toY=30)
    assert keys(audience) == {(10, "120")}
    v = audience[(10, "120")].variables
    assert (v["paymentDueDate"], v["totalDue"], v["totalOverdue"], v["loanOutstanding"]) == (
        "14 Mar 2023", "UGX 500", "UGX 500", "UGX 500",
    )
    # A window reaching into the future still leaves out loans maturing today (122) or later (125).
    assert keys(run(bank, 178, fromX=-5, toY=30)) == {(10, "120")}


def test_170_177_178_group_name_is_the_loan_s_own_group_empty_for_an_individual_loan(bank: Bank) -> None:
    """Fineract names the loan's group (m_loan.group_id); a borrower's memberships do not make a loan a group's."""
    bank.client(10)
    bank.client(11)
    bank.group(600, "Alpha", members=(10, 11))
    bank.group(601, "Beta", members=(11,))
    for lid, client, group in ((50, 10, None), (51, 11, 601)):  # individual loan; JLG loan of group Beta
        bank.loan(lid, client, group=group, matures=date(2023, 3, 14))
        bank.instalment(lid * 10, lid, date(2023, 3, 16))
        bank.loan(lid + 100, client, group=group, status=600, closed=date(2023, 3, 10), outstanding=(0, 0, 0, 0))

    def group_names(rule_id: int, **window: int) -> dict[int, str]:
        return {client: row.variables["groupName"] for (client, _), row in run(bank, rule_id, **window).items()}

    assert group_names(170, fromX=-3, toY=-1) == {10: "", 11: "Beta"}
    assert group_names(177, fromX=0, toY=30) == {10: "", 11: "Beta"}
    assert group_names(178, fromX=1, toY=30) == {10: "", 11: "Beta"}


def test_date_format_sample_and_unknown_office(bank: Bank) -> None:
    bank.client(10)
    bank.client(11)
    bank.loan(50, 10)
    bank.instalment(500, 50, date(2023, 3, 16))
    rule = get_rule(170)
    params = {"officeId": 2, "fromX": -1, "toY": -1}
    rows = list(run_rule(bank.conn, rule, params, TODAY, date_format="%d/%m/%Y"))
    assert rows[0].variables["paymentDueDate"] == "16/03/2023"
    assert len(sample(bank.conn, get_rule(166), {"officeId": 1}, TODAY, 1)) == 1
    only = list(run_rule(bank.conn, rule, params, TODAY, only={"firstName", "totalDue", "notAVariable"}))
    assert only[0].variables == {"firstName": "Amina", "totalDue": "UGX 1,000"}
    everyone = {"officeId": 1}
    ranged = list(run_rule(bank.conn, get_rule(166), everyone, TODAY, client_range=(11, 12)))
    assert [r.client_id for r in ranged] == [11]
    assert count(bank.conn, get_rule(166), everyone, TODAY, client_range=(10, 12)) == 2
    assert count(bank.conn, get_rule(166), everyone, TODAY, client_range=(12, 99)) == 0
    with pytest.raises(ParameterError) as refused:
        run_rule(bank.conn, get_rule(166), {"officeId": 42}, TODAY)
    assert refused.value.field == "officeId"


def test_a_database_without_fineract_tables_is_reported_clearly(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn, pytest.raises(CoreBankError, match=r"no table m_office.*HERALD_COREBANK_URL"):
            run_rule(conn, get_rule(166), {"officeId": 1}, TODAY)
    finally:
        engine.dispose()
