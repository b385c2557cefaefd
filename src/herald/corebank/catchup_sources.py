"""Where the catch-up job finds, in Fineract's tables, the events a Triggered rule's hooks may have missed.

One entry per rule id (`SOURCES`): the table the rule's events are rows of, and how they are read
past a mark. Transactions (repayments, deposits, withdrawals) are new rows, read BY ID above the
highest id caught up. Status changes (approved, rejected, activated) change an old row and carry
only a business date, so they are read BY DATE from the first day not yet caught up; a day is
read again until it is over (a loan approved this afternoon may have a lower id than one approved
this morning). Every event comes back with the ids its hook would carry, so the rule runs for it
exactly as for the hook and its message has the same dedup key.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from herald.errors import CoreBankError

BY_ID: Literal["id"] = "id"
BY_DATE: Literal["date"] = "date"


@dataclass(frozen=True)
class Source:
    """How one rule's events are read: a table, the column that orders them, and the ids each gives its event."""

    by: Literal["id", "date"]
    table: str
    alias: str
    entity: str
    action: str
    where: str  # which rows are this rule's events (type codes as the rule's SQL has them)
    event_id: str  # the id the rule's `event_key` binds
    parent: tuple[str, str] | None = None  # (event id name, column): the loan or account the hook also names
    date_column: str | None = None  # BY_DATE: the business date of the change
    created: bool = False  # BY_ID: the row has Fineract's created_on_utc (the instant it happened), where present
    actions: dict[int, str] = field(default_factory=dict)  # transaction type -> the hook's action, where it differs


_LOAN_RECEIVED = "t.is_reversed = :false AND t.transaction_type_enum IN (2, 5, 8, 28)"  # 179's money-received types
_SAVINGS = "t.is_reversed = :false AND t.is_reversal = :false AND t.transaction_type_enum = {kind}"

SOURCES: dict[int, Source] = {
    179: Source(
        BY_ID, "m_loan_transaction", "t", "LOAN", "REPAYMENT", _LOAN_RECEIVED, "loanTransactionId",
        parent=("loanId", "t.loan_id"), created=True, actions={8: "RECOVERYPAYMENT"},
    ),
    186: Source(
        BY_ID, "m_savings_account_transaction", "t", "SAVINGSACCOUNT", "DEPOSIT", _SAVINGS.format(kind=1),
        "savingsTransactionId", parent=("savingsId", "t.savings_account_id"), created=True,
    ),
    187: Source(
        BY_ID, "m_savings_account_transaction", "t", "SAVINGSACCOUNT", "WITHDRAWAL", _SAVINGS.format(kind=2),
        "savingsTransactionId", parent=("savingsId", "t.savings_account_id"), created=True,
    ),
    180: Source(BY_DATE, "m_loan", "l", "LOAN", "APPROVE", "1 = 1", "loanId", date_column="l.approvedon_date"),
    181: Source(BY_DATE, "m_loan", "l", "LOAN", "REJECT", "1 = 1", "loanId", date_column="l.rejectedon_date"),
    182: Source(BY_DATE, "m_client", "c", "CLIENT", "REJECT", "1 = 1", "clientId", date_column="c.rejectedon_date"),
    183: Source(BY_DATE, "m_client", "c", "CLIENT", "ACTIVATE", "1 = 1", "clientId", date_column="c.activation_date"),
    184: Source(
        BY_DATE, "m_savings_account", "s", "SAVINGSACCOUNT", "REJECT", "1 = 1", "savingsId",
        date_column="s.rejectedon_date",
    ),
    185: Source(
        BY_DATE, "m_savings_account", "s", "SAVINGSACCOUNT", "ACTIVATE", "1 = 1", "savingsId",
        date_column="s.activatedon_date",
    ),
    # ---- Rules added after 187: one entry each, HERE. ---------------------------------------------------------
    # herald's own (rules/catalog_triggered.py). 1001/1002 (repayment due / overdue) exist only as external
    # events: the broker's durability is their catch-up.
    1003: Source(BY_DATE, "m_loan", "l", "LOAN", "DISBURSE", "1 = 1", "loanId", date_column="l.disbursedon_date"),
    1004: Source(BY_DATE, "m_loan", "l", "LOAN", "CLOSE", "1 = 1", "loanId", date_column="l.closedon_date"),
    1005: Source(BY_DATE, "m_client", "c", "CLIENT", "CREATE", "1 = 1", "clientId", date_column="c.submittedon_date"),
}  # fmt: skip
"""rule id -> where its events are; a rule not listed is not caught up (its campaign page says so)."""


@dataclass(frozen=True)
class SourceEvent:
    """One event found in Fineract: its own id, the ids its hook would carry, and when it happened."""

    id: int
    ids: dict[str, int]
    entity: str
    action: str
    on: date  # the business date (a transaction's date, the status change's date)
    created: datetime | None  # the instant (UTC) Fineract wrote it, where the table keeps it


_has_created: weakref.WeakKeyDictionary[sa.Engine, dict[str, bool]] = weakref.WeakKeyDictionary()


def covers(rule_id: int) -> bool:
    return rule_id in SOURCES


def _created_column(conn: sa.Connection, source: Source) -> str:
    """`created_on_utc` where the table has it (Fineract 1.7 and later), else NULL: the business date stands in."""
    if not source.created:
        return "NULL"
    known = _has_created.setdefault(conn.engine, {})
    if source.table not in known:
        columns = {c["name"].lower() for c in sa.inspect(conn).get_columns(source.table)}
        known[source.table] = "created_on_utc" in columns
    return f"{source.alias}.created_on_utc" if known[source.table] else "NULL"


def _read(conn: sa.Connection, rule_id: int, sql: str, binds: dict[str, object]) -> Sequence[Any]:
    """Run one read; a date bind goes through the Date type (SQLite keeps dates as ISO text)."""
    dates = [sa.bindparam(k, type_=sa.Date()) for k, v in binds.items() if isinstance(v, date)]
    clause = sa.text(sql).bindparams(*dates)
    try:
        return conn.execute(clause, {"true": True, "false": False, **binds}).all()
    except sa_exc.SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        first = str(cause).splitlines()[0][:200]
        raise CoreBankError(
            f"Reading rule {rule_id}'s events from the core-banking database failed: {first}",
            hint="Check HERALD_COREBANK_URL points at Fineract's database and that its account may read the table.",
        ) from None


def newest_id(conn: sa.Connection, rule_id: int) -> int:
    """The highest id of the rule's table now (0 when empty): a BY_ID mark set at activation."""
    source = SOURCES[rule_id]
    rows = _read(conn, rule_id, f"SELECT MAX({source.alias}.id) FROM {source.table} {source.alias}", {})
    value = rows[0][0] if rows else None
    return int(value) if value is not None else 0


def _event(source: Source, row: Any) -> SourceEvent:
    event_id = int(row.id)
    ids = {source.event_id: event_id}
    if source.parent is not None and row.parent is not None:
        ids[source.parent[0]] = int(row.parent)
    created = row.created
    if isinstance(created, str):  # SQLite hands timestamps back as text
        created = datetime.fromisoformat(created)
    if isinstance(created, datetime) and created.tzinfo is None:  # created_on_utc: UTC without a zone
        created = created.replace(tzinfo=UTC)
    on = row.on_date
    if isinstance(on, datetime):
        on = on.date()
    elif not isinstance(on, date):
        on = date.fromisoformat(str(on)[:10])
    kind = getattr(row, "kind", None)
    action = source.actions.get(int(kind), source.action) if kind is not None else source.action
    return SourceEvent(event_id, ids, source.entity, action, on, created if isinstance(created, datetime) else None)


def events_after_id(conn: sa.Connection, rule_id: int, after_id: int, limit: int) -> list[SourceEvent]:
    """A BY_ID rule's events with an id above `after_id`, oldest first, at most `limit`."""
    source = SOURCES[rule_id]
    a = source.alias
    parent = source.parent[1] if source.parent else "NULL"
    kind = f"{a}.transaction_type_enum" if source.actions else "NULL"
    sql = (
        f"SELECT {a}.id AS id, {parent} AS parent, {_created_column(conn, source)} AS created,"
        f" {a}.transaction_date AS on_date, {kind} AS kind FROM {source.table} {a}"
        f" WHERE {a}.id > :after AND {source.where} ORDER BY {a}.id LIMIT {int(limit)}"
    )
    return [_event(source, r) for r in _read(conn, rule_id, sql, {"after": after_id})]


def events_from_date(
    conn: sa.Connection, rule_id: int, since: date, today: date, after: tuple[date, int] | None, limit: int
) -> list[SourceEvent]:
    """A BY_DATE rule's events dated `since` to `today`, in (date, id) order after `after`, at most `limit`."""
    source = SOURCES[rule_id]
    a, column = source.alias, source.date_column
    assert column is not None, f"rule {rule_id} is read by date but names no date column"
    after_date, after_id = after if after is not None else (since, 0)
    sql = (
        f"SELECT {a}.id AS id, NULL AS parent, NULL AS created, {column} AS on_date FROM {source.table} {a}"
        f" WHERE {column} >= :since AND {column} <= :today AND {source.where}"
        f" AND ({column} > :after_date OR ({column} = :after_date AND {a}.id > :after_id))"
        f" ORDER BY {column}, {a}.id LIMIT {int(limit)}"
    )
    binds: dict[str, object] = {"since": since, "today": today, "after_date": after_date, "after_id": after_id}
    return [_event(source, r) for r in _read(conn, rule_id, sql, binds)]
