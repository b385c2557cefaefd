"""Creates the synthetic demo core-banking database: Fineract's tables filled with realistic, seeded data."""

from __future__ import annotations

import functools
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Numeric,
    Table,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.schema import CreateTable

from herald.corebank import schema
from herald.corebank.codes import CodeId
from herald.corebank.demo_catalog import (
    COUNTRIES,
    CURRENCIES,
    FEMALE_NAMES,
    LOAN_PRODUCTS,
    MALE_NAMES,
    OFFICES,
    SAVINGS_PRODUCTS,
    format_phone,
    subscriber_digits,
)
from herald.corebank.demo_loans import exact_money, float_money
from herald.corebank.demo_people import TABLE_ORDER, PeopleGenerator, Reference
from herald.private_files import create_private

CHUNK_SIZE = 2_000
"""Clients generated, inserted and committed at a time; part of the data's identity, like the seed."""

_CODES = (
    (CodeId.LOAN_PURPOSE, "LoanPurpose",
     ("Agriculture", "Retail trade", "School fees", "Livestock", "Transport", "Housing improvement")),
    (CodeId.GENDER, "Gender", ("Female", "Male")),
    (CodeId.GROUP_ROLE, "GROUPROLE", ("Leader", "Secretary", "Treasurer")),
    (CodeId.CLIENT_TYPE, "ClientType", ("Individual", "Business")),
    (CodeId.CLIENT_CLASSIFICATION, "ClientClassification", ("Farmer", "Trader", "Salaried", "Artisan")),
    (CodeId.WRITE_OFF_REASONS, "WriteOffReasons", ("Bad debt", "Deceased", "Fraud")),
)


@dataclass(frozen=True)
class OfficeProfile:
    """Where an office is: Fineract stores neither its region nor its time zone, herald does."""

    office_id: int
    name: str
    region: str
    timezone: str


@dataclass(frozen=True)
class DemoSummary:
    """How many rows the demo database got, per table, and the offices' profiles."""

    offices: int
    staff: int
    clients: int
    groups: int
    group_members: int
    group_roles: int
    loans: int
    repayment_instalments: int
    loans_in_arrears: int
    loan_transactions: int
    guarantors: int
    savings_accounts: int
    savings_transactions: int
    payment_details: int
    office_profiles: tuple[OfficeProfile, ...]

    def table_counts(self) -> dict[str, int]:
        """Row counts keyed by Fineract table name."""
        return {
            "m_office": self.offices, "m_staff": self.staff, "m_client": self.clients,
            "m_group": self.groups, "m_group_client": self.group_members, "m_group_roles": self.group_roles,
            "m_loan": self.loans, "m_loan_repayment_schedule": self.repayment_instalments,
            "m_loan_arrears_aging": self.loans_in_arrears, "m_loan_transaction": self.loan_transactions,
            "m_guarantor": self.guarantors, "m_savings_account": self.savings_accounts,
            "m_savings_account_transaction": self.savings_transactions,
            "m_payment_detail": self.payment_details,
        }


def create_demo_database(
    url: str,
    *,
    clients: int = 10_000,
    seed: int = 1,
    today: date,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Drop and recreate Fineract's tables at `url` and fill them; the same seed and today give the same data.

    Rows are generated and committed `CHUNK_SIZE` clients at a time, so memory stays bounded
    whatever the number of clients; secondary indexes are built after the load.
    """
    if clients < 0:
        raise ValueError(f"clients must be zero or more, got {clients}")
    engine = _engine(url)
    counts: dict[str, int] = dict.fromkeys(TABLE_ORDER, 0)
    try:
        with engine.connect() as conn:
            _recreate_tables(conn)
            reference = _reference_data(conn)
            conn.commit()
            money = float_money if engine.dialect.name == "sqlite" else exact_money
            generator = PeopleGenerator(random.Random(seed), today, reference, money)
            done = 0
            while done < clients:
                size = min(CHUNK_SIZE, clients - done)
                rows = generator.chunk(size)
                for table_name in TABLE_ORDER:
                    batch: list[dict[str, Any]] = getattr(rows, table_name)
                    if batch:
                        _insert(conn, schema.metadata.tables[table_name], batch)
                        counts[table_name] += len(batch)
                conn.commit()
                del rows
                done += size
                if progress is not None:
                    progress(done, clients)
            for index in schema.INDEXES:
                index.create(conn)
            _finish(conn)
            conn.commit()
    finally:
        engine.dispose()
    if engine.dialect.name == "sqlite":
        _compact_sqlite(url)
    return DemoSummary(
        offices=len(OFFICES),
        staff=sum(len(ids) for ids in reference.officers.values()) + len(OFFICES),
        clients=counts["m_client"], groups=counts["m_group"], group_members=counts["m_group_client"],
        group_roles=counts["m_group_roles"], loans=counts["m_loan"],
        repayment_instalments=counts["m_loan_repayment_schedule"],
        loans_in_arrears=counts["m_loan_arrears_aging"], loan_transactions=counts["m_loan_transaction"],
        guarantors=counts["m_guarantor"], savings_accounts=counts["m_savings_account"],
        savings_transactions=counts["m_savings_account_transaction"], payment_details=counts["m_payment_detail"],
        office_profiles=tuple(OfficeProfile(o.id, o.name, o.region, o.timezone) for o in OFFICES),
    )


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    if parsed.database and parsed.database != ":memory:":
        # A demo database is disposable: start from an empty file rather than dropping table by table.
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        create_private(Path(parsed.database))  # demo clients' numbers look real: private like herald's own file
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _fast_load(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    return engine


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows; on SQLite straight through the driver's executemany, about twice as fast.

    SQLAlchemy's per-row parameter processing dominated the load time on SQLite; there the values
    are converted here to exactly what SQLAlchemy itself would store (ISO dates, floats for
    NUMERIC). Every other backend takes the plain Core path.
    """
    dialect = conn.dialect
    if dialect.name != "sqlite":
        conn.execute(table.insert(), rows)
        return
    keys = tuple(rows[0])
    columns = [table.c[key] for key in keys]
    prepare = dialect.identifier_preparer
    sql = (f"INSERT INTO {prepare.format_table(table)} ({', '.join(prepare.format_column(c) for c in columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    getter = operator.itemgetter(*keys)
    by_column: list[Any] = list(zip(*map(getter, rows), strict=True)) if len(keys) > 1 else \
        [[getter(row) for row in rows]]
    for index, column in enumerate(columns):
        convert = _sqlite_converter(column.type)
        if convert is not None:
            by_column[index] = [None if v is None else convert(v) for v in by_column[index]]
    params = list(zip(*by_column, strict=True))
    conn.exec_driver_sql(sql, params)


@functools.lru_cache(maxsize=8192)
def _sqlite_datetime(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")


def _sqlite_converter(column_type: Any) -> Callable[[Any], Any] | None:
    """The same text/number SQLAlchemy's SQLite types bind, by a faster route."""
    if isinstance(column_type, DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Date):
        return date.isoformat
    if isinstance(column_type, Numeric):
        return float
    return None


def _recreate_tables(conn: Connection) -> None:
    schema.metadata.drop_all(conn)
    for table in schema.metadata.sorted_tables:
        conn.execute(CreateTable(table))  # without its indexes: those come after the load


def _finish(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # Ids were given explicitly: move each sequence past them so later inserts still work.
        for table in schema.metadata.sorted_tables:
            if "id" in table.c and table.c.id.autoincrement is True:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"))
    conn.execute(text("ANALYZE"))


def _compact_sqlite(url: str) -> None:
    """Leave a single self-contained file behind: no write-ahead log next to it."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    finally:
        engine.dispose()


def _reference_data(conn: Connection) -> Reference:
    """Insert offices, staff, codes, currencies and products; return the ids the chunks refer to."""
    stamp = datetime.combine(date(2009, 1, 5), time(8, 0))
    conn.execute(schema.m_office.insert(), [
        {"id": o.id, "parent_id": o.parent_id, "hierarchy": o.hierarchy, "name": o.name,
         "external_id": f"OFF-{o.id:03d}", "opening_date": date.fromisoformat(o.opened)} for o in OFFICES])
    conn.execute(schema.m_appuser.insert(), [
        {"id": 1, "username": "mifos", "firstname": "App", "lastname": "Administrator", "office_id": 1}])
    conn.execute(schema.m_group_level.insert(), [
        {"id": 1, "parent_id": None, "super_parent": True, "level_name": "Center", "recursable": True,
         "can_have_clients": False},
        {"id": 2, "parent_id": 1, "super_parent": False, "level_name": "Group", "recursable": False,
         "can_have_clients": True}])
    values: dict[str, list[int]] = {}
    code_rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, Any]] = []
    for code_id, code_name, labels in _CODES:
        code_rows.append({"id": int(code_id), "code_name": code_name, "is_system_defined": True})
        for position, label in enumerate(labels):
            value_id = len(value_rows) + 1
            value_rows.append({"id": value_id, "code_id": int(code_id), "code_value": label,
                               "order_position": position, "is_active": True, "is_mandatory": False})
            values.setdefault(code_name, []).append(value_id)
    conn.execute(schema.m_code.insert(), code_rows)
    conn.execute(schema.m_code_value.insert(), value_rows)
    conn.execute(schema.m_currency.insert(), [
        {"id": n, "code": c.code, "decimal_places": c.digits, "currency_multiplesof": None,
         "display_symbol": c.symbol, "name": c.name, "internationalized_name_code": f"currency.{c.code}"}
        for n, c in enumerate(CURRENCIES.values(), start=1)])
    conn.execute(schema.m_product_loan.insert(), [
        {"id": p.id, "short_name": p.short_name, "name": p.name, "description": f"{p.name}, flat interest",
         "currency_code": p.currency, "currency_digits": CURRENCIES[p.currency].digits,
         "principal_amount": Decimal(CURRENCIES[p.currency].min_principal * 4),
         "annual_nominal_interest_rate": Decimal(p.annual_rate), "repay_every": p.repay_every,
         "repayment_period_frequency_enum": int(p.frequency), "number_of_repayments": p.repayments,
         "include_in_borrower_cycle": True, "start_date": date(2012, 1, 1)} for p in LOAN_PRODUCTS])
    conn.execute(schema.m_savings_product.insert(), [
        {"id": pid, "short_name": short, "name": name, "description": name, "deposit_type_enum": 100,
         "currency_code": code, "currency_digits": CURRENCIES[code].digits,
         "nominal_annual_interest_rate": Decimal(rate), "is_dormancy_tracking_active": True,
         "days_to_inactive": 90, "days_to_dormancy": 180, "days_to_escheat": 720}
        for pid, short, name, code, rate in SAVINGS_PRODUCTS])
    officers, staff_rows = _staff(random.Random(f"staff-{len(OFFICES)}"))
    conn.execute(schema.m_staff.insert(), staff_rows)
    del stamp
    return Reference(
        officers=officers, gender_cv=(values["Gender"][0], values["Gender"][1]),
        leader_cv=values["GROUPROLE"][0], secretary_cv=values["GROUPROLE"][1],
        purpose_cv=tuple(values["LoanPurpose"]), client_type_cv=tuple(values["ClientType"]))


def _staff(rng: random.Random) -> tuple[dict[int, list[int]], list[dict[str, Any]]]:
    """A branch manager and some loan officers per office."""
    officers: dict[int, list[int]] = {}
    rows: list[dict[str, Any]] = []
    for office in OFFICES:
        country = COUNTRIES[office.region]
        count = 1 if office.parent_id is None else 4 if office.id == 2 else 3
        for n in range(count + 1):
            staff_id = len(rows) + 1
            names = FEMALE_NAMES if rng.random() < 0.5 else MALE_NAMES
            first = names[rng.randrange(len(names))]
            last = country.last_names[rng.randrange(len(country.last_names))]
            is_officer = n > 0
            if is_officer:
                officers.setdefault(office.id, []).append(staff_id)
            nsn = "7" + country.staff_prefix[1] + subscriber_digits(staff_id)
            rows.append({
                "id": staff_id, "is_loan_officer": is_officer, "office_id": office.id, "firstname": first,
                "lastname": last, "display_name": f"{last}, {first} ({staff_id})",
                "mobile_no": format_phone(0, country.calling_code, nsn),
                "email_address": f"{first}.{last}@demo-mfi.example".lower(),
                "external_id": f"STAFF-{staff_id:04d}", "is_active": not (office.id == 2 and n == count),
                "joining_date": date.fromisoformat(office.opened), "organisational_role_enum": None,
                "organisational_role_parent_staff_id": None})
    return officers, rows
