"""Every non-triggered rule, read-only, against Fineract's full tables with real types on PostgreSQL and MariaDB.

The tables come from tests/fineract_ddl (every column the reference lists, Fineract's own types:
BIT(1) booleans, DATETIME(6) audit columns and DECIMAL(19,6) money on MariaDB; boolean,
timestamp with time zone and numeric(19,6) on PostgreSQL). Rows are written by an admin account
and the rules read them through the connection herald would use: read-only on PostgreSQL
(default_transaction_read_only), a SELECT-only account on MariaDB.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from herald.config import Settings
from herald.corebank.engines import read_only_engine
from herald.corebank.runner import AudienceRow, count, run_rule
from herald.rules.catalog import get_rule
from tests import mariadb, postgres

TODAY = date(2023, 3, 15)
UGX = ("UGX", 0)
KES = ("KES", 2)
PRODUCTS = {"UGX": 1, "KES": 2}
DDL = Path(__file__).parents[1] / "fineract_ddl"

# Office tree: 1 head office; 2 Kampala under it; 3 Ntinda under Kampala; 4 Gulu beside Kampala.
# Rules run for office 2 unless said otherwise, so 2 and 3 are inside and 1 and 4 outside.
OFFICES = (
    (1, None, ".", "Head Office"),
    (2, 1, ".2.", "Kampala"),
    (3, 2, ".2.3.", "Ntinda"),
    (4, 1, ".4.", "Gulu"),
)
ENGINES = [
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
_databases = itertools.count()


def load_ddl(engine: sa.Engine, dialect: str) -> None:
    """Run one of the DDL files statement by statement (drivers differ on multi-statement strings)."""
    text = (DDL / f"{dialect}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    with engine.begin() as conn:
        for statement in body.split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement)


class Bank:
    """Writes Fineract rows as Fineract would: every NOT NULL column filled, booleans as real BIT/boolean."""

    def __init__(self, writer: sa.Engine, reader: sa.Engine) -> None:
        self.writer = writer
        self.reader = reader
        self.mysql = writer.dialect.name == "mysql"
        # *_on_utc: DATETIME(6) holds UTC without a zone on MySQL; timestamptz takes the aware instant.
        stamp = datetime(2023, 3, 15, 5, 30, 12, 345678, tzinfo=UTC)
        self.now = stamp.replace(tzinfo=None) if self.mysql else stamp
        for oid, parent, hierarchy, name in OFFICES:
            self.put(
                "m_office",
                id=oid,
                parent_id=parent,
                hierarchy=hierarchy,
                name=name,
                external_id=f"OFF-{oid}",
                opening_date=date(2010, 1, 1),
            )
        self.put(
            "m_appuser",
            id=1,
            office_id=1,
            username="mifos",
            firstname="App",
            lastname="Administrator",
            password="5787039480429368bf94732aacc771cd0a3ea02bcf504ffe1185ab94213bc63a",
            email="demomfi@mifos.org",
            is_deleted=False,
            enabled=True,
        )
        self.put("m_payment_detail", id=1)
        self.put(
            "m_currency",
            id=1,
            code="UGX",
            decimal_places=0,
            currency_multiplesof=100,
            display_symbol="USh",
            name="Uganda Shilling",
            internationalized_name_code="currency.UGX",
        )
        self.put(
            "m_currency",
            id=2,
            code="KES",
            decimal_places=2,
            currency_multiplesof=1,
            display_symbol="KSh",
            name="Kenyan Shilling",
            internationalized_name_code="currency.KES",
        )
        for (code, digits), pid in ((UGX, 1), (KES, 2)):
            self.put(
                "m_product_loan",
                id=pid,
                short_name=f"BL{pid}",
                name=f"Business Loan {code}",
                currency_code=code,
                currency_digits=digits,
                repay_every=1,
                repayment_period_frequency_enum=2,
                number_of_repayments=12,
                include_in_borrower_cycle=True,
                start_date=date(2015, 1, 1),
            )
        for sid in (100, 101):
            self.put(
                "m_staff",
                id=sid,
                office_id=2,
                firstname="Officer",
                lastname=str(sid),
                display_name=f"{sid}, Officer",
                is_loan_officer=True,
                is_active=True,
                joining_date=date(2015, 1, 1),
            )
        self.put(
            "m_group_level",
            id=1,
            parent_id=None,
            super_parent=True,
            level_name="Center",
            recursable=True,
            can_have_clients=False,
        )
        self.put(
            "m_group_level",
            id=2,
            parent_id=1,
            super_parent=False,
            level_name="Group",
            recursable=False,
            can_have_clients=True,
        )
        self.put("m_code", id=13, code_name="GROUPROLE", is_system_defined=True)
        self.put("m_code", id=99, code_name="OtherRoles", is_system_defined=False)
        for cvid, code_id, value in ((1301, 13, "Leader"), (1302, 13, "Secretary"), (9901, 99, "Leader")):
            self.put(
                "m_code_value",
                id=cvid,
                code_id=code_id,
                code_value=value,
                order_position=cvid % 100,
                is_active=True,
                is_mandatory=False,
            )

    def put(self, table: str, **values: Any) -> None:
        """INSERT one row; booleans go in as literals of the column's real type (b'1' into BIT(1))."""
        columns: list[str] = []
        placeholders: list[str] = []
        binds: dict[str, Any] = {}
        for name, value in values.items():
            columns.append(name)
            if isinstance(value, bool):
                placeholders.append(("b'1'" if value else "b'0'") if self.mysql else ("true" if value else "false"))
            else:
                placeholders.append(f":{name}")
                binds[name] = value
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholders)})"
        with self.writer.begin() as conn:
            conn.execute(sa.text(sql), binds)

    def client(
        self,
        cid: int,
        office: int = 2,
        *,
        status: int = 300,
        staff: int | None = None,
        mobile: str | None = "default",
        first: str = "Amina",
        middle: str | None = None,
        last: str | None = None,
        born: date | None = None,
        activated: date | None = date(2020, 1, 1),
    ) -> int:
        last = last or f"Client{cid}"
        self.put(
            "m_client",
            id=cid,
            account_no=f"{cid:09d}",
            external_id=f"CL-{cid}",
            status_enum=status,
            office_id=office,
            staff_id=staff,
            firstname=first,
            middlename=middle,
            lastname=last,
            display_name=" ".join(p for p in (first, middle, last) if p),
            mobile_no=f"+25670{cid:07d}" if mobile == "default" else mobile,
            date_of_birth=born,
            legal_form_enum=1,
            is_staff=False,
            submittedon_date=activated or date(2019, 12, 1),
            activation_date=activated,
            office_joining_date=activated,
            created_on_utc=self.now,
            last_modified_on_utc=self.now,
        )
        return cid

    def group(
        self, gid: int, name: str, office: int = 2, *, status: int = 300, level: int = 2, members: tuple[int, ...] = ()
    ) -> int:
        self.put(
            "m_group",
            id=gid,
            account_no=f"G{gid:08d}",
            status_enum=status,
            office_id=office,
            level_id=level,
            display_name=name,
            hierarchy=f".{gid}.",
            submittedon_date=date(2019, 1, 1),
            activation_date=date(2019, 1, 1) if status == 300 else None,
        )
        for cid in members:
            self.put("m_group_client", group_id=gid, client_id=cid)
        return gid

    def role(self, client: int, group: int, role: int = 1301) -> None:
        self.put("m_group_roles", client_id=client, group_id=group, role_cv_id=role)

    def loan(
        self,
        lid: int,
        client: int | None,
        *,
        status: int = 300,
        officer: int | None = None,
        group: int | None = None,
        currency: tuple[str, int] = UGX,
        principal: Any = 100_000,
        outstanding: Any = (60_000, 5_000, 0, 0),
        disbursed: date | None = date(2023, 1, 1),
        matures: date | None = date(2023, 12, 31),
        closed: date | None = None,
        overpaid: date | None = None,
        repaid: Any = 45_000,
    ) -> int:
        p, i, f, pen = outstanding
        applied = (disbursed or date(2022, 12, 1)) - timedelta(days=14)
        self.put(
            "m_loan",
            id=lid,
            account_no=f"{lid:09d}",
            external_id=f"LN-{lid}",
            client_id=client,
            group_id=group,
            product_id=PRODUCTS[currency[0]],
            loan_officer_id=officer,
            loan_status_id=status,
            loan_type_enum=1 if client else 2,
            currency_code=currency[0],
            currency_digits=currency[1],
            principal_amount_proposed=principal,
            approved_principal=principal,
            principal_amount=principal,
            net_disbursal_amount=principal,
            annual_nominal_interest_rate=Decimal("24.000000"),
            number_of_repayments=12,
            repay_every=1,
            repayment_period_frequency_enum=2,
            term_frequency=12,
            term_period_frequency_enum=2,
            submittedon_date=applied,
            approvedon_date=applied,
            expected_disbursedon_date=disbursed,
            disbursedon_date=disbursed,
            expected_maturedon_date=matures,
            closedon_date=closed,
            overpaidon_date=overpaid,
            principal_disbursed_derived=principal,
            principal_repaid_derived=0,
            principal_outstanding_derived=p,
            interest_outstanding_derived=i,
            fee_charges_outstanding_derived=f,
            penalty_charges_outstanding_derived=pen,
            total_outstanding_derived=p + i + f + pen,
            total_expected_repayment_derived=principal,
            total_repayment_derived=repaid,
            loan_counter=1,
            loan_product_counter=1,
            is_npa=False,
            is_topup=False,
            is_fraud=False,
            is_charged_off=False,
            last_closed_business_date=TODAY - timedelta(days=1),
            version=1,
            created_on_utc=self.now,
            last_modified_on_utc=self.now,
        )
        return lid

    def instalment(
        self, iid: int, loan: int, due: date, *, number: int = 1, completed: bool = False, **amounts: Any
    ) -> int:
        values = {"principal_amount": 1_000, **amounts}
        self.put(
            "m_loan_repayment_schedule",
            id=iid,
            loan_id=loan,
            installment=number,
            fromdate=due - timedelta(days=30),
            duedate=due,
            completed_derived=completed,
            obligations_met_on_date=due if completed else None,
            is_additional=False,
            is_down_payment=False,
            is_re_aged=False,
            created_on_utc=self.now,
            last_modified_on_utc=self.now,
            **values,
        )
        return iid

    def arrears(self, loan: int, since: date, total: Any = 700) -> None:
        self.put(
            "m_loan_arrears_aging",
            loan_id=loan,
            principal_overdue_derived=total,
            interest_overdue_derived=0,
            fee_charges_overdue_derived=0,
            penalty_charges_overdue_derived=0,
            total_overdue_derived=total,
            overdue_since_date_derived=since,
        )

    def txn(
        self, tid: int, loan: int, on: date, *, type_: int = 2, amount: Any = 5_000, reversed_: bool = False
    ) -> int:
        self.put(
            "m_loan_transaction",
            id=tid,
            loan_id=loan,
            office_id=2,
            payment_detail_id=1,
            is_reversed=reversed_,
            external_id=f"TX-{tid}",
            transaction_type_enum=type_,
            transaction_date=on,
            submitted_on_date=on,
            amount=amount,
            principal_portion_derived=amount,
            outstanding_loan_balance_derived=50_000,
            manually_adjusted_or_reversed=reversed_,
            reversed_on_date=on if reversed_ else None,
            created_by=1,
            created_on_utc=self.now,
            last_modified_on_utc=self.now,
        )
        return tid

    def guarantor(self, gid: int, loan: int, last: str, *, active: bool = True) -> None:
        self.put(
            "m_guarantor",
            id=gid,
            loan_id=loan,
            type_enum=3,
            firstname="Grace",
            lastname=last,
            mobile_number=f"+2567712{gid:05d}",
            is_active=active,
        )


@pytest.fixture(params=ENGINES)
def bank(request: pytest.FixtureRequest) -> Iterator[Bank]:
    """A fresh database with Fineract's real-type tables: an admin writes, herald's read-only engine reads."""
    name = f"fineract{next(_databases)}"
    if request.param == "postgresql":
        admin_url = postgres.create_database(request.getfixturevalue("pg_server"), name)
        reader_url = admin_url  # read_only_engine makes PostgreSQL sessions read-only
    else:
        server = request.getfixturevalue("mariadb_server")
        admin_url = mariadb.create_database(server, name)
        reader_url = mariadb.create_reader(server, name)
    writer = sa.create_engine(admin_url)
    load_ddl(writer, request.param)
    reader = read_only_engine(reader_url)
    try:
        yield Bank(writer, reader)
    finally:
        reader.dispose()
        writer.dispose()


def run(bank: Bank, rule_id: int, today: date = TODAY, **params: Any) -> dict[tuple[int, str], AudienceRow]:
    """The audience keyed by (client id, fact id), read read-only; checks uniqueness and that count() agrees."""
    rule = get_rule(rule_id)
    params.setdefault("officeId", 2)
    with bank.reader.connect() as conn:
        rows = list(run_rule(conn, rule, params, today))
    with bank.reader.connect() as conn:
        counted = count(conn, rule, params, today)
    keyed = {(r.client_id, r.fact_id): r for r in rows}
    assert len(keyed) == len(rows), "a (client, fact) pair was returned twice"
    assert counted == len(rows)
    return keyed


def keys(audience: dict[tuple[int, str], AudienceRow]) -> set[tuple[int, str]]:
    return set(audience)


def test_tables_carry_fineract_types_and_herald_reads_through_a_connection_that_cannot_write(bank: Bank) -> None:
    columns = (
        ("m_loan_transaction", "is_reversed"),
        ("m_loan_transaction", "created_on_utc"),
        ("m_loan", "principal_amount"),
        ("m_loan", "loan_status_id"),
    )
    # The declared type with its length or precision, as each engine spells it.
    shown = (
        "SELECT column_type FROM information_schema.columns"
        " WHERE table_schema = DATABASE() AND table_name = :t AND column_name = :c"
        if bank.mysql
        else "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = CAST(:t AS regclass) AND attname = :c"
    )
    with bank.writer.connect() as conn:
        types = [conn.execute(sa.text(shown), {"t": t, "c": c}).scalar_one() for t, c in columns]
    assert types == (
        ["bit(1)", "datetime(6)", "decimal(19,6)", "smallint(6)"]
        if bank.mysql
        else ["boolean", "timestamp with time zone", "numeric(19,6)", "smallint"]
    )
    bank.client(10)
    with bank.reader.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM m_client")).scalar_one() == 1
        with pytest.raises(sa.exc.DBAPIError, match=r"read-only|command denied"):
            conn.execute(sa.text("UPDATE m_client SET mobile_no = NULL"))


def test_166_active_clients_of_the_office_subtree_with_officer_filter(bank: Bank) -> None:
    bank.client(10, 2, staff=100, first="Amina", middle=None, last="Nakato")
    bank.client(11, 3, mobile=None)  # sub-office, no officer, no mobile: still returned
    bank.client(12, 4, staff=100)  # outside the subtree
    bank.client(13, 2, status=100)  # pending
    bank.client(14, 1, staff=100)  # the parent office is not in office 2's subtree
    bank.client(15, 2, status=600)

    audience = run(bank, 166, loanOfficerId=-1)
    assert keys(audience) == {(10, "10"), (11, "11")}
    assert audience[(10, "10")].variables == {
        "id": "10",
        "firstName": "Amina",
        "middleName": "",
        "lastName": "Nakato",
        "fullName": "Amina Nakato",
        "officeName": "Kampala",
        "officeNumber": "2",
    }
    assert audience[(11, "11")].variables["officeName"] == "Ntinda"
    assert keys(run(bank, 166, loanOfficerId=100)) == {(10, "10")}
    assert keys(run(bank, 166, loanOfficerId=-10)) == {(11, "11")}
    assert keys(run(bank, 166, officeId=1)) == {(10, "10"), (11, "11"), (12, "12"), (14, "14")}


def test_167_prospects_are_active_clients_without_a_real_loan(bank: Bank) -> None:
    for cid in range(20, 27):
        bank.client(cid)
    bank.loan(210, 21, status=300)
    bank.loan(220, 22, status=500)  # rejected application: still a prospect
    bank.loan(230, 23, status=400)  # withdrawn application: still a prospect
    bank.loan(240, 24, status=100)  # application in progress
    bank.loan(250, 25, status=600)  # repaid loan: had a loan
    bank.group(600, "Alpha", members=(26,))
    bank.loan(260, None, group=600)  # a group loan is not the member's own loan
    bank.client(27, 4)  # outside the subtree
    assert keys(run(bank, 167)) == {(20, "20"), (22, "22"), (23, "23"), (26, "26")}


def test_168_active_loans_disbursed_in_the_cycle_window_with_decimal_money(bank: Bank) -> None:
    bank.client(10, staff=101)
    bank.client(11, 3)
    bank.group(600, "Zeta", members=(11,))
    bank.group(601, "Alpha", members=(11,))
    # cycleX 10 .. cycleY 20 days since disbursement: 23 Feb .. 5 Mar 2023 inclusive.
    bank.loan(30, 10, officer=100, principal=12_500, disbursed=date(2023, 3, 5))
    bank.loan(31, 11, officer=101, disbursed=date(2023, 2, 23))
    bank.loan(32, 10, disbursed=date(2023, 3, 6))  # 9 days
    bank.loan(33, 10, disbursed=date(2023, 2, 22))  # 21 days
    bank.loan(34, 10, status=600, disbursed=date(2023, 3, 1))
    bank.loan(
        37,
        10,
        currency=KES,
        principal=Decimal("1234.5"),
        outstanding=(Decimal("1000.255"), 0, 0, 0),
        disbursed=date(2023, 3, 1),
    )
    for gid, last, active in ((1, "Okello", True), (2, "Achieng", True), (3, "Aaron", False)):
        bank.guarantor(gid, 31, last, active=active)  # the inactive one (is_active b'0') is not counted

    audience = run(bank, 168, cycleX=10, cycleY=20)
    assert keys(audience) == {(10, "30"), (11, "31"), (10, "37")}
    ugx = audience[(10, "30")].variables
    assert (ugx["loanAmount"], ugx["loanOutstanding"], ugx["loanDisbursed"]) == (
        "UGX 12,500", "UGX 65,000", "UGX 12,500",
    )
    kes = audience[(10, "37")].variables
    assert (kes["loanAmount"], kes["loanOutstanding"]) == ("KES 1,234.50", "KES 1,000.26")
    withg = audience[(11, "31")].variables
    assert (withg["numberOfGuarantors"], withg["guarantorLastName"], withg["groupName"]) == ("2", "Achieng", "Alpha")
    assert keys(run(bank, 168, cycleX=10, cycleY=20, loanOfficerId=-10)) == {(10, "37")}


def test_169_loans_in_arrears_within_the_window(bank: Bank) -> None:
    bank.client(10)
    bank.client(12, 4)
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

    audience = run(bank, 169, fromX=1, toY=30)
    assert keys(audience) == {(10, "40"), (10, "41")}
    v = audience[(10, "40")].variables
    assert (v["paymentDueDate"], v["totalDue"]) == ("14 Mar 2023", "UGX 5,000")
    assert audience[(10, "41")].variables["totalDue"] == "KES 250.50"
    assert keys(run(bank, 169, fromX=1, toY=30, loanOfficerId=100)) == {(10, "40")}


def test_170_unpaid_instalments_due_in_the_window_completed_ones_excluded(bank: Bank) -> None:
    bank.client(10)
    bank.client(11)
    bank.client(13, status=100)  # not an active client
    bank.client(14, 3)  # sub-office: included
    bank.client(15, 4)
    # fromX -3 .. toY -1: due in 1 to 3 days, 16 .. 18 Mar 2023.
    bank.loan(50, 10, officer=100)
    bank.instalment(
        500,
        50,
        date(2023, 3, 16),
        principal_amount=1_000,
        interest_amount=200,
        fee_charges_amount=50,
        principal_completed_derived=300,
        interest_waived_derived=20,
        fee_charges_writtenoff_derived=10,
    )
    bank.instalment(502, 50, date(2023, 3, 19), number=2)  # in 4 days
    bank.loan(51, 11)
    bank.arrears(51, date(2023, 2, 1), total=700)
    bank.instalment(504, 51, date(2023, 3, 17))
    bank.instalment(505, 51, date(2023, 3, 17), number=2, completed=True)  # completed_derived b'1'
    bank.loan(53, 13)
    bank.instalment(507, 53, date(2023, 3, 17))
    bank.loan(54, 14, officer=101, currency=KES)
    bank.instalment(508, 54, date(2023, 3, 16), principal_amount=Decimal("1234.5"))
    bank.loan(55, 15)
    bank.instalment(509, 55, date(2023, 3, 16))

    audience = run(bank, 170, fromX=-3, toY=-1)
    assert keys(audience) == {(10, "500"), (11, "504"), (14, "508")}
    first = audience[(10, "500")].variables
    assert (first["paymentDueDate"], first["totalDue"], first["totalOverdue"]) == ("16 Mar 2023", "UGX 920", "UGX 0")
    assert audience[(11, "504")].variables["totalOverdue"] == "UGX 700"
    assert audience[(14, "508")].variables["totalDue"] == "KES 1,234.50"
    assert keys(run(bank, 170, fromX=-3, toY=-1, officeId=3)) == {(14, "508")}


def test_171_dormant_prospects_activated_four_or_more_whole_months_ago(bank: Bank) -> None:
    bank.client(60, activated=date(2022, 11, 15))  # exactly 4 whole months
    bank.client(61, activated=date(2022, 11, 16))  # 3 months 30 days
    bank.client(62, activated=date(2021, 2, 10))  # 25 months
    bank.client(63, activated=None)
    bank.client(64, activated=date(2020, 1, 1))
    bank.loan(640, 64)
    bank.client(65, activated=date(2020, 1, 1))
    bank.loan(650, 65, status=500)

    audience = run(bank, 171)
    assert keys(audience) == {(60, "60"), (62, "62"), (65, "65")}
    assert (audience[(60, "60")].variables["dormant"], audience[(62, "62")].variables["dormant"]) == ("4", "25")


def test_172_active_leaders_of_active_groups_once_each(bank: Bank) -> None:
    for cid in (70, 71, 72, 73, 74, 76):
        bank.client(cid, staff=100 if cid == 70 else None)
    bank.client(75, status=600)
    bank.group(700, "Beta")
    bank.group(701, "Alpha", office=4)
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

    audience = run(bank, 172)
    assert keys(audience) == {(70, "70"), (71, "71")}
    assert audience[(70, "70")].variables["groupName"] == "Alpha"
    assert keys(run(bank, 172, loanOfficerId=-10)) == {(71, "71")}


def test_173_due_instalments_on_loans_overdue_in_the_window(bank: Bank) -> None:
    bank.client(10)
    # Due window fromX -3 .. toY 3: 12 .. 18 Mar; arrears overdueX 5 .. overdueY 10: since 5 .. 10 Mar.
    bank.loan(80, 10)
    bank.arrears(80, date(2023, 3, 10), total=1_500)
    bank.instalment(800, 80, date(2023, 3, 10))  # outside the due window
    bank.instalment(801, 80, date(2023, 3, 17), number=2, principal_amount=2_000, principal_completed_derived=500)
    bank.instalment(802, 80, date(2023, 3, 12), number=3, completed=True)
    bank.loan(81, 10)
    bank.arrears(81, date(2023, 3, 5))
    bank.instalment(810, 81, date(2023, 3, 12))
    bank.loan(82, 10)
    bank.arrears(82, date(2023, 3, 11))  # 4 days in arrears
    bank.instalment(820, 82, date(2023, 3, 14))
    bank.loan(84, 10)  # not in arrears
    bank.instalment(840, 84, date(2023, 3, 14))

    audience = run(bank, 173, fromX=-3, toY=3, overdueX=5, overdueY=10)
    assert keys(audience) == {(10, "801"), (10, "810")}
    v = audience[(10, "801")].variables
    assert (v["paymentDueDate"], v["totalDue"], v["totalOverdue"]) == ("17 Mar 2023", "UGX 1,500", "UGX 1,500")


def test_174_payments_received_on_loans_not_in_arrears_reversed_ones_excluded(bank: Bank) -> None:
    bank.client(10)
    bank.client(12, 4)
    # fromX 0 .. toY 7: 8 .. 15 Mar 2023.
    bank.loan(90, 10, currency=KES)
    bank.txn(900, 90, date(2023, 3, 15), amount=Decimal("5000"))
    bank.txn(901, 90, date(2023, 3, 8), type_=8, amount=Decimal("12.346"))  # recovery repayment
    bank.txn(902, 90, date(2023, 3, 10), type_=28)  # down payment
    bank.txn(904, 90, date(2023, 3, 10), reversed_=True)  # is_reversed b'1' / true
    bank.txn(905, 90, date(2023, 3, 10), type_=1)  # disbursement
    bank.txn(906, 90, date(2023, 3, 7))
    bank.txn(907, 90, date(2023, 3, 16))
    bank.loan(91, 10)
    bank.arrears(91, date(2023, 3, 1))
    bank.txn(910, 91, date(2023, 3, 10))
    bank.loan(93, 12)
    bank.txn(930, 93, date(2023, 3, 10))

    audience = run(bank, 174, fromX=0, toY=7)
    assert keys(audience) == {(10, "900"), (10, "901"), (10, "902")}
    v = audience[(10, "900")].variables
    assert (v["repaymentAmount"], v["repaymentDate"], v["loanId"]) == ("KES 5,000.00", "15 Mar 2023", "90")
    assert v["loanAccountNumber"] == v["loanAccountId"] == "000000090"
    assert audience[(10, "901")].variables["repaymentAmount"] == "KES 12.35"


def test_175_payments_received_on_loans_overdue_in_the_window_reversed_ones_excluded(bank: Bank) -> None:
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
    assert audience[(10, "912")].variables["repaymentDate"] == "12 Mar 2023"


def test_176_birthdays_on_the_business_date_with_age_from_a_date_column(bank: Bank) -> None:
    bank.client(80, staff=100, born=date(1990, 3, 15))
    bank.client(81, born=date(2000, 3, 14))
    bank.client(82, born=date(1985, 3, 16))
    bank.client(83, born=None)
    bank.client(84, status=100, born=date(1990, 3, 15))
    bank.client(86, born=date(2000, 2, 29))
    bank.client(87, born=date(1999, 2, 28))

    audience = run(bank, 176)
    assert keys(audience) == {(80, "80")}
    assert (audience[(80, "80")].variables["age"], audience[(80, "80")].variables["dateOfBirth"]) == (
        "33",
        "15 Mar 1990",
    )
    assert keys(run(bank, 176, loanOfficerId=101)) == set()
    assert keys(run(bank, 176, date(2023, 2, 28))) == {(86, "86"), (87, "87")}
    assert keys(run(bank, 176, date(2024, 2, 29))) == {(86, "86")}


def test_177_loans_fully_repaid_in_the_window(bank: Bank) -> None:
    bank.client(10)
    # fromX 0 .. toY 30: closed 13 Feb .. 15 Mar 2023.
    bank.loan(110, 10, status=600, closed=date(2023, 3, 15), outstanding=(0, 0, 0, 0), repaid=118_000)
    bank.instalment(1100, 110, date(2023, 1, 31), completed=True)
    bank.instalment(1101, 110, date(2023, 2, 28), number=2, completed=True)
    bank.loan(111, 10, status=700, overpaid=date(2023, 2, 13), outstanding=(0, 0, 0, 0))
    bank.loan(112, 10, status=601, closed=date(2023, 3, 1))  # written off
    bank.loan(113, 10, status=600, closed=date(2023, 2, 12))

    audience = run(bank, 177, fromX=0, toY=30)
    assert keys(audience) == {(10, "110"), (10, "111")}
    v = audience[(10, "110")].variables
    assert (v["totalDue"], v["dueDate"], v["totalFullyPaid"]) == ("UGX 0", "28 Feb 2023", "UGX 118,000")


def test_178_active_loans_with_a_balance_after_the_final_instalment(bank: Bank) -> None:
    bank.client(10)
    # fromX 1 .. toY 30: matured 13 Feb .. 14 Mar 2023, and before today.
    bank.loan(120, 10, matures=date(2023, 3, 14), outstanding=(400, 100, 0, 0))
    bank.arrears(120, date(2023, 2, 14), total=500)
    bank.instalment(
        1200, 120, date(2023, 2, 14), principal_amount=1_000, principal_completed_derived=600, interest_amount=100
    )
    bank.instalment(1201, 120, date(2023, 3, 14), number=2, completed=True)
    bank.loan(121, 10, matures=date(2023, 3, 14), outstanding=(0, 0, 0, 0))  # nothing owed
    bank.loan(122, 10, matures=date(2023, 3, 15))  # matures today
    bank.loan(124, 10, status=600, matures=date(2023, 3, 1))

    audience = run(bank, 178, fromX=1, toY=30)
    assert keys(audience) == {(10, "120")}
    v = audience[(10, "120")].variables
    assert (v["paymentDueDate"], v["totalDue"], v["totalOverdue"], v["loanOutstanding"]) == (
        "14 Mar 2023",
        "UGX 500",
        "UGX 500",
        "UGX 500",
    )


def test_170_177_178_group_name_is_the_loan_s_own_group_empty_for_an_individual_loan(bank: Bank) -> None:
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


def test_the_business_date_setting_decides_who_matches_not_the_database_clock(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    with bank.reader.connect() as conn:
        real = conn.execute(sa.text("SELECT CURRENT_DATE")).scalar_one()  # the database server's clock
    assert isinstance(real, date)
    # Years away from the server's clock, in another month so no birthday or due date can coincide.
    business = date(real.year - 7, 1 if real.month > 6 else 12, 10)
    monkeypatch.setenv("HERALD_BUSINESS_DATE", business.isoformat())
    today = Settings().business_date  # what herald's entry points pass to run_rule as "today"
    assert today is not None
    assert today == business

    bank.client(10, born=date(1980, business.month, business.day))
    bank.client(11, born=date(1980, real.month, real.day))  # 1980 was a leap year: any day exists
    bank.loan(50, 10, disbursed=business - timedelta(days=60))
    bank.instalment(500, 50, business + timedelta(days=2))
    bank.txn(501, 50, business)
    bank.loan(51, 11, disbursed=real - timedelta(days=60))
    bank.instalment(510, 51, real + timedelta(days=2))
    bank.txn(511, 51, real)

    assert keys(run(bank, 176, today)) == {(10, "10")}
    assert keys(run(bank, 170, today, fromX=-2, toY=-2)) == {(10, "500")}
    assert keys(run(bank, 174, today, fromX=0, toY=0)) == {(10, "501")}
    assert keys(run(bank, 168, today, cycleX=60, cycleY=60)) == {(10, "50")}
    # The same data on the server's own date matches the other client: "today" comes from herald.
    assert keys(run(bank, 176, real)) == {(11, "11")}
    assert keys(run(bank, 170, real, fromX=-2, toY=-2)) == {(11, "510")}
    assert keys(run(bank, 174, real, fromX=0, toY=0)) == {(11, "511")}
