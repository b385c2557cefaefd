"""The demo core-banking database: deterministic, consistent, and with something for every business rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from sqlalchemy import Engine, create_engine, text

from herald.corebank import schema
from herald.corebank.codes import ClientStatus, LoanStatus, LoanTransactionType, LoanType
from herald.corebank.demo import CHUNK_SIZE, DemoSummary, create_demo_database

TODAY = date(2026, 11, 25)
CLIENTS = CHUNK_SIZE + 500  # crosses a chunk boundary


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    path = tmp_path_factory.mktemp("demo") / "corebank.sqlite"
    calls: list[tuple[int, int]] = []
    summary = create_demo_database(f"sqlite:///{path}", clients=CLIENTS, seed=1, today=TODAY,
                                   progress=lambda done, total: calls.append((done, total)))
    assert calls == [(CHUNK_SIZE, CLIENTS), (CLIENTS, CLIENTS)]
    engine = create_engine(f"sqlite:///{path}")
    yield engine, summary
    engine.dispose()


def iso(params: dict[str, Any]) -> dict[str, Any]:
    """Dates as the ISO text SQLite stores them as."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), iso(params)).scalar()


def column(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), iso(params)).scalars())


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        result = {
            table.name: [tuple(row) for row in conn.execute(table.select().order_by(*table.primary_key))]
            for table in schema.metadata.sorted_tables
        }
    engine.dispose()
    return result


def test_same_seed_and_day_give_identical_rows_and_another_seed_does_not(tmp_path: Path) -> None:
    first, second, other = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db", "c.db"))
    create_demo_database(first, clients=CHUNK_SIZE + 50, seed=7, today=TODAY)
    create_demo_database(second, clients=CHUNK_SIZE + 50, seed=7, today=TODAY)
    create_demo_database(other, clients=CHUNK_SIZE + 50, seed=8, today=TODAY)
    assert dump(first) == dump(second)
    assert (tmp_path / "a.db").read_bytes() == (tmp_path / "b.db").read_bytes()
    assert dump(first)["m_client"] != dump(other)["m_client"]


def test_recreating_over_an_existing_file_starts_from_scratch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    create_demo_database(url, clients=300, seed=1, today=TODAY)
    summary = create_demo_database(url, clients=40, seed=1, today=TODAY)
    engine = create_engine(url)
    assert scalar(engine, "SELECT COUNT(*) FROM m_client") == summary.clients == 40
    engine.dispose()


def test_summary_counts_match_the_tables(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    for table, count in summary.table_counts().items():
        assert scalar(engine, f"SELECT COUNT(*) FROM {table}") == count, table
    assert summary.clients == CLIENTS


def test_offices_form_a_tree_with_regions_and_time_zones(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    hierarchies = column(engine, "SELECT hierarchy FROM m_office ORDER BY id")
    assert hierarchies[0] == "."
    assert ".2.5." in hierarchies
    profiles = {p.name: (p.region, p.timezone) for p in summary.office_profiles}
    assert profiles["Kampala"] == ("UG", "Africa/Kampala")
    assert {region for region, _ in profiles.values()} == {"KE", "UG", "TZ", "RW"}
    assert len(profiles) == scalar(engine, "SELECT COUNT(*) FROM m_office")


def test_every_client_status_is_present(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    present = set(column(engine, "SELECT DISTINCT status_enum FROM m_client"))
    assert present == {s.value for s in ClientStatus if s is not ClientStatus.INVALID}
    statuses = column(engine, "SELECT status_enum FROM m_client")
    assert statuses.count(300) > len(statuses) / 2


def test_every_loan_status_and_type_is_present(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    present = set(column(engine, "SELECT DISTINCT loan_status_id FROM m_loan"))
    expected = {100, 200, 300, 303, 304, 400, 500, 600, 601, 700}
    assert expected <= present
    assert all(LoanStatus(code) for code in present)
    types = set(column(engine, "SELECT DISTINCT loan_type_enum FROM m_loan"))
    assert {LoanType.INDIVIDUAL, LoanType.GROUP, LoanType.JLG} <= types
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan WHERE loan_type_enum = 2 AND client_id IS NOT NULL") == 0
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan WHERE client_id IS NULL AND group_id IS NOT NULL") > 0


def test_mobile_numbers_mix_formats_and_include_missing_and_malformed(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    regions = {p.office_id: p.region for p in summary.office_profiles}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT office_id, mobile_no FROM m_client")).all()
    missing = [m for _, m in rows if m is None]
    present = [(office, m) for office, m in rows if m is not None]
    assert 0.01 < len(missing) / len(rows) < 0.06
    assert len({m for _, m in present}) == len(present)  # unique when present

    def valid(office: int, number: str) -> bool:
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse(number, regions[office]))
        except phonenumbers.NumberParseException:
            return False

    invalid = [m for office, m in present if not valid(office, m)]
    assert 0.005 < len(invalid) / len(rows) < 0.04
    numbers = [m for _, m in present]
    assert any(m.startswith("+254") for m in numbers)
    assert any(m.startswith("0") and " " in m for m in numbers)
    assert any("-" in m for m in numbers)
    assert any(m.startswith("(0") for m in numbers)


def test_references_point_at_existing_rows(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    orphans = {
        "loan client": "SELECT COUNT(*) FROM m_loan l WHERE l.client_id IS NOT NULL"
                       " AND NOT EXISTS (SELECT 1 FROM m_client c WHERE c.id = l.client_id)",
        "loan group": "SELECT COUNT(*) FROM m_loan l WHERE l.group_id IS NOT NULL"
                      " AND NOT EXISTS (SELECT 1 FROM m_group g WHERE g.id = l.group_id)",
        "instalment loan": "SELECT COUNT(*) FROM m_loan_repayment_schedule s"
                           " WHERE NOT EXISTS (SELECT 1 FROM m_loan l WHERE l.id = s.loan_id)",
        "transaction loan": "SELECT COUNT(*) FROM m_loan_transaction t"
                            " WHERE NOT EXISTS (SELECT 1 FROM m_loan l WHERE l.id = t.loan_id)",
        "member": "SELECT COUNT(*) FROM m_group_client m"
                  " WHERE NOT EXISTS (SELECT 1 FROM m_client c WHERE c.id = m.client_id)",
        "officer": "SELECT COUNT(*) FROM m_client c WHERE c.staff_id IS NOT NULL"
                   " AND NOT EXISTS (SELECT 1 FROM m_staff s WHERE s.id = c.staff_id)",
        "savings": "SELECT COUNT(*) FROM m_savings_account_transaction t"
                   " WHERE NOT EXISTS (SELECT 1 FROM m_savings_account a WHERE a.id = t.savings_account_id)",
        "creator": "SELECT COUNT(*) FROM m_loan_transaction t"
                   " WHERE NOT EXISTS (SELECT 1 FROM m_appuser u WHERE u.id = t.created_by)",
        "currency": "SELECT COUNT(*) FROM m_loan l"
                    " WHERE NOT EXISTS (SELECT 1 FROM m_currency c WHERE c.code = l.currency_code)",
    }
    assert {name: scalar(engine, sql) for name, sql in orphans.items()} == dict.fromkeys(orphans, 0)


def test_currency_digits_follow_the_currency(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        digits = dict(conn.execute(text("SELECT code, decimal_places FROM m_currency")).all())
        loans = set(conn.execute(text("SELECT DISTINCT currency_code, currency_digits FROM m_loan")).all())
    assert digits == {"KES": 2, "UGX": 0, "TZS": 2, "RWF": 0}
    assert loans == set(digits.items())


def test_outstanding_is_the_sum_of_its_four_parts(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    assert scalar(engine, """
        SELECT COUNT(*) FROM m_loan WHERE ABS(total_outstanding_derived - (principal_outstanding_derived
            + interest_outstanding_derived + fee_charges_outstanding_derived
            + penalty_charges_outstanding_derived)) > 0.000001""") == 0
    assert scalar(engine, """
        SELECT COUNT(*) FROM m_loan l WHERE l.loan_status_id = 300 AND ABS(l.total_repayment_derived
            - (SELECT COALESCE(SUM(t.amount), 0) FROM m_loan_transaction t WHERE t.loan_id = l.id
               AND t.transaction_type_enum = 2 AND t.is_reversed = 0)) > 0.000001""") == 0


def test_arrears_rows_match_unpaid_past_due_instalments(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    owed = """(s.principal_amount - COALESCE(s.principal_completed_derived, 0)
               - COALESCE(s.principal_writtenoff_derived, 0) + s.interest_amount
               - COALESCE(s.interest_completed_derived, 0) - COALESCE(s.interest_writtenoff_derived, 0)
               + s.fee_charges_amount - COALESCE(s.fee_charges_completed_derived, 0)
               + s.penalty_charges_amount - COALESCE(s.penalty_charges_completed_derived, 0))"""
    with engine.connect() as conn:
        rows = conn.execute(text(f"""
            SELECT a.loan_id, a.overdue_since_date_derived, a.total_overdue_derived, l.loan_status_id,
                   (SELECT MIN(s.duedate) FROM m_loan_repayment_schedule s WHERE s.loan_id = a.loan_id
                    AND s.completed_derived = 0 AND s.duedate < :today),
                   (SELECT SUM({owed}) FROM m_loan_repayment_schedule s WHERE s.loan_id = a.loan_id
                    AND s.completed_derived = 0 AND s.duedate < :today)
            FROM m_loan_arrears_aging a JOIN m_loan l ON l.id = a.loan_id"""), {"today": TODAY.isoformat()}).all()
        missing = conn.execute(text("""
            SELECT COUNT(DISTINCT s.loan_id) FROM m_loan_repayment_schedule s JOIN m_loan l ON l.id = s.loan_id
            WHERE l.loan_status_id = 300 AND s.completed_derived = 0 AND s.duedate < :today
            AND NOT EXISTS (SELECT 1 FROM m_loan_arrears_aging a WHERE a.loan_id = l.id)"""),
            {"today": TODAY.isoformat()}).scalar()
    assert rows
    for loan_id, since, total, status, oldest_unpaid, owed_sum in rows:
        assert status in (300, 303, 304), loan_id
        assert str(since) == str(oldest_unpaid), loan_id
        assert abs(float(total) - float(owed_sum)) < 1e-6, loan_id
    assert missing == 0


def test_birthdays_today_including_a_leap_day_baby(demo: tuple[Engine, DemoSummary], tmp_path: Path) -> None:
    engine, _ = demo
    assert scalar(engine, "SELECT COUNT(*) FROM m_client WHERE status_enum = 300"
                          " AND strftime('%m-%d', date_of_birth) = :md", md=TODAY.strftime("%m-%d")) >= 1
    assert scalar(engine, "SELECT COUNT(*) FROM m_client WHERE strftime('%m-%d', date_of_birth) = '02-29'") >= 1
    leap_url = f"sqlite:///{tmp_path / 'leap.db'}"
    create_demo_database(leap_url, clients=20, seed=3, today=date(2028, 2, 29))
    leap = create_engine(leap_url)
    assert scalar(leap, "SELECT COUNT(*) FROM m_client WHERE status_enum = 300"
                        " AND strftime('%m-%d', date_of_birth) = '02-29'") >= 2
    leap.dispose()


def test_instalments_fall_due_in_the_next_days_and_just_fell_due(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    sql = """SELECT COUNT(*) FROM m_loan_repayment_schedule s JOIN m_loan l ON l.id = s.loan_id
             WHERE l.loan_status_id = 300 AND s.completed_derived = 0 AND s.duedate BETWEEN :a AND :b"""
    assert scalar(engine, sql, a=TODAY + timedelta(days=1), b=TODAY + timedelta(days=3)) > 0
    assert scalar(engine, sql, a=TODAY - timedelta(days=3), b=TODAY - timedelta(days=1)) > 0


def test_recent_repayments_on_loans_with_and_without_arrears(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    sql = """SELECT COUNT(*) FROM m_loan_transaction t JOIN m_loan l ON l.id = t.loan_id
             WHERE l.loan_status_id = 300 AND t.transaction_type_enum = :repayment AND t.is_reversed = 0
             AND t.transaction_date BETWEEN :a AND :b
             AND {} EXISTS (SELECT 1 FROM m_loan_arrears_aging a WHERE a.loan_id = l.id)"""
    window = {"a": TODAY - timedelta(days=3), "b": TODAY - timedelta(days=1),
              "repayment": int(LoanTransactionType.REPAYMENT)}
    assert scalar(engine, sql.format("NOT"), **window) > 0
    assert scalar(engine, sql.format(""), **window) > 0
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan_transaction WHERE is_reversed = 1") > 0
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan_transaction WHERE transaction_type_enum = 8") > 0
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan_transaction WHERE transaction_date > :t", t=TODAY) == 0


def test_most_repayments_and_deposits_carry_a_receipt_number_and_nothing_else_does(
    demo: tuple[Engine, DemoSummary],
) -> None:
    engine, _ = demo
    share = """SELECT AVG(CASE WHEN p.receipt_number IS NOT NULL THEN 1.0 ELSE 0.0 END) FROM {} t
               LEFT JOIN m_payment_detail p ON p.id = t.payment_detail_id WHERE t.transaction_type_enum = {}"""
    assert 0.6 < scalar(engine, share.format("m_loan_transaction", int(LoanTransactionType.REPAYMENT))) < 0.9
    assert 0.6 < scalar(engine, share.format("m_savings_account_transaction", 1)) < 0.9  # deposits
    assert scalar(engine, share.format("m_loan_transaction", int(LoanTransactionType.DISBURSEMENT))) == 0
    assert scalar(engine, share.format("m_savings_account_transaction", 2)) == 0  # withdrawals
    for table in ("m_loan_transaction", "m_savings_account_transaction"):
        orphans = (f"SELECT COUNT(*) FROM {table} t WHERE t.payment_detail_id IS NOT NULL"
                   " AND NOT EXISTS (SELECT 1 FROM m_payment_detail p WHERE p.id = t.payment_detail_id)")
        assert scalar(engine, orphans) == 0
    numbers = column(engine, "SELECT receipt_number FROM m_payment_detail")
    assert len(set(numbers)) == len(numbers) and all(n and len(n) == 10 for n in numbers)


def test_other_rules_find_rows(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    week_ago = TODAY - timedelta(days=7)
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan WHERE loan_status_id IN (600, 700)"
                          " AND closedon_date BETWEEN :a AND :t", a=week_ago, t=TODAY) > 0
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan WHERE loan_status_id = 300"
                          " AND expected_maturedon_date < :t", t=TODAY) > 0
    assert scalar(engine, """
        SELECT COUNT(*) FROM m_group_roles r JOIN m_code_value v ON v.id = r.role_cv_id
        JOIN m_code c ON c.id = v.code_id JOIN m_group g ON g.id = r.group_id
        JOIN m_client m ON m.id = r.client_id
        WHERE c.code_name = 'GROUPROLE' AND v.code_value = 'Leader' AND g.status_enum = 300
        AND m.status_enum = 300 AND g.office_id = m.office_id""") > 0
    assert scalar(engine, """
        SELECT COUNT(*) FROM m_client c WHERE c.status_enum = 300 AND c.activation_date < :t
        AND NOT EXISTS (SELECT 1 FROM m_loan l WHERE l.client_id = c.id)""",
        t=TODAY - timedelta(days=120)) > 0
    assert scalar(engine, "SELECT COUNT(*) FROM m_guarantor") > 0
    assert scalar(engine, "SELECT COUNT(DISTINCT transaction_type_enum) FROM m_savings_account_transaction") == 2
    assert scalar(engine, "SELECT COUNT(DISTINCT status_enum) FROM m_savings_account") >= 5


@pytest.mark.parametrize("clients", [60])
def test_builds_on_every_backend(db_url: str, clients: int) -> None:
    summary = create_demo_database(db_url, clients=clients, seed=2, today=TODAY)
    create_demo_database(db_url, clients=clients, seed=2, today=TODAY)  # drops and recreates
    engine = create_engine(db_url)
    assert scalar(engine, "SELECT COUNT(*) FROM m_loan") == summary.loans > 0
    assert scalar(engine, "SELECT COUNT(*) FROM m_client WHERE status_enum = 300") > 0
    with engine.begin() as conn:  # the sequences were moved past the generated ids
        conn.execute(schema.m_appuser.insert().values(username="teller"))
    engine.dispose()


def test_the_simulated_teller_s_repayments_carry_their_receipt_into_rule_179(tmp_path: Path) -> None:
    from herald.corebank.event_rules import run_triggered
    from herald.fakes.fineract_hooks import FineractHookSimulator
    from herald.rules.catalog import get_rule

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    create_demo_database(url, clients=60, seed=3, today=TODAY)
    teller = FineractHookSimulator(url, "http://127.0.0.1:9/fineract/hooks", today=TODAY)
    bodies = [teller.book_repayment(1000) for _ in range(4)]  # one in four is paid without a receipt
    engine = create_engine(url)
    receipts = []
    with engine.connect() as conn:
        for body in bodies:
            event = {"loanTransactionId": body["response"]["resourceId"], "loanId": body["response"]["loanId"]}
            [row] = run_triggered(conn, get_rule(179), {"officeId": -1}, event, TODAY, zone=None)
            assert row.variables["receiptNumber"] == body["request"].get("receiptNumber", "")
            receipts.append(row.variables["receiptNumber"])
    engine.dispose()
    teller.engine.dispose()
    assert sum(1 for r in receipts if r) == 3
