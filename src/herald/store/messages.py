"""Storing campaign messages: dedup-safe bulk inserts, claims for sending, status moves that never go back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, false, func, or_, select, update
from sqlalchemy.dialects import postgresql

from herald.domain.campaign import CampaignStatus
from herald.domain.message import AWAITING_REPORT, MessageStatus, sources_of
from herald.domain.reports import DeliveryReport
from herald.domain.sending import Accepted, Claimed, Failure, Retry
from herald.store import attempts
from herald.store.tables import campaigns, messages

NEW_MESSAGE_COLUMNS = (
    "campaign_id",
    "dedup_key",
    "client_id",
    "office_id",
    "mobile_no",
    "body",
    "status",
    "reason",
    "encoding",
    "segments",
    "provider",
    "attempts",
    "created_at",
    "updated_at",
    "language",
)
"""Column order of the tuples `insert_new` takes."""

_STAMPED = NEW_MESSAGE_COLUMNS.index("created_at")  # the two timestamps, converted on the SQLite path


def insert_new(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert messages (tuples in NEW_MESSAGE_COLUMNS order) whose dedup key is new; return how many were.

    The unique constraint on (campaign, dedup key) does the deduplication, so two workers, a re-run
    or a crash half-way can never create a message twice.
    """
    if not rows:
        return 0
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return _insert_sqlite(conn, rows)
    records = [dict(zip(NEW_MESSAGE_COLUMNS, row, strict=True)) for row in rows]
    if dialect == "postgresql":
        stmt = postgresql.insert(messages).on_conflict_do_nothing(index_elements=["campaign_id", "dedup_key"])
        # executemany's rowcount is not reliable with psycopg; the ids RETURNed are exactly the new rows.
        return len(conn.execute(stmt.returning(messages.c.id), records).all())
    # MySQL / MariaDB: no RETURNING, but executemany reports the rows it inserted.
    result = conn.execute(messages.insert().prefix_with("IGNORE"), records)
    return max(result.rowcount, 0)


def _insert_sqlite(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    """The SQLite path straight through the driver: materializing a million messages is mostly this.

    Timestamps go through the column type's own bind processor (once per distinct value), so they
    are stored exactly as SQLAlchemy stores them everywhere else.
    """
    bind = messages.c.created_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert bind is not None
    converted: dict[Any, Any] = {}

    def stamp(value: Any) -> Any:
        if value not in converted:
            converted[value] = bind(value)
        return converted[value]

    end = _STAMPED + 2
    prepared = [(*row[:_STAMPED], stamp(row[_STAMPED]), stamp(row[_STAMPED + 1]), *row[end:]) for row in rows]
    raw = conn.connection.dbapi_connection
    assert raw is not None
    before = raw.total_changes
    conn.exec_driver_sql(_SQLITE_INSERT, prepared)
    return int(raw.total_changes) - int(before)


_SQLITE_INSERT = (
    f"INSERT INTO messages ({', '.join(NEW_MESSAGE_COLUMNS)}) VALUES ({', '.join('?' * len(NEW_MESSAGE_COLUMNS))})"
    " ON CONFLICT (campaign_id, dedup_key) DO NOTHING"
)


UNKNOWN_OUTCOME = "OUTCOME_UNKNOWN"
"""The error code of a message whose last attempt never got an answer: it may have been sent."""


@dataclass(frozen=True)
class OfficeFilter:
    """Offices whose local time is inside quiet hours now (their messages wait), per Fineract tenant.

    Office ids are a tenant's own (office 1 of one tenant is not office 1 of another), so each
    message is judged by the profiles of its campaign's tenant.
    """

    quiet: Mapping[str, frozenset[int]] = field(default_factory=dict)  # tenant -> its offices in quiet hours
    quiet_by_default: bool = False  # offices without a profile follow the default time zone
    profiled: Mapping[str, frozenset[int]] = field(default_factory=dict)  # tenant -> its offices with a profile


def _outside_quiet_hours(candidates: Select[Any], offices: OfficeFilter) -> Select[Any]:
    """Only messages whose office (of their campaign's tenant) is outside quiet hours now."""
    tenant = campaigns.c.tenant
    if offices.quiet_by_default:  # only offices with a profile of their own may be awake
        awake = [
            and_(tenant == name, messages.c.office_id.in_(sorted(profiled - offices.quiet.get(name, frozenset()))))
            for name, profiled in sorted(offices.profiled.items())
            if profiled - offices.quiet.get(name, frozenset())
        ]
        return candidates.where(or_(false(), *awake))
    asleep = [
        and_(tenant == name, messages.c.office_id.in_(sorted(quiet)))
        for name, quiet in sorted(offices.quiet.items())
        if quiet
    ]
    if not asleep:
        return candidates
    return candidates.where(or_(messages.c.office_id.is_(None), ~or_(*asleep)))


def claim_pending(
    conn: Connection,
    now: datetime,
    limit: int,
    lease: timedelta,
    offices: OfficeFilter | None = None,
    only: Sequence[int] | None = None,
    *,
    worker: str = "",
    provider: str | None = None,
    campaign_fallbacks: Sequence[str] | None = None,
) -> list[Claimed]:
    """Take up to `limit` sendable messages of active campaigns and lease them to `worker`, in one statement.

    One `UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED]) AND status = PENDING
    AND due ... RETURNING`: the status and due checks are inside the statement that writes, so two
    workers can never both take a message (on SQLite the write lock is taken up front, see
    store/database.py). The lease (a `not_before` in the future, the attempt counted, the holder,
    `in_flight_since`) is committed before anything is sent. A message that was still marked in
    flight (its attempt never answered, or its worker died) keeps the start of its first such
    attempt in `in_doubt_since`, so the provider is asked about every attempt since then.

    `provider` takes only that provider's messages; `campaign_fallbacks` only those whose campaign
    falls back to one of these providers (the primary and its own fallbacks being unavailable).
    """
    due = or_(messages.c.not_before.is_(None), messages.c.not_before <= now)
    candidates = (
        select(messages.c.id)
        .join(campaigns, campaigns.c.id == messages.c.campaign_id)
        .where(messages.c.status == MessageStatus.PENDING, due, campaigns.c.status == CampaignStatus.ACTIVE)
        # No ORDER BY: the (status, provider, not_before) index already yields never-tried messages
        # first, in id order, and stops at `limit`; sorting every PENDING row was most of a claim.
        .limit(limit)
    )
    if provider is not None:
        candidates = candidates.where(messages.c.provider == provider)
    if campaign_fallbacks is not None:
        candidates = candidates.where(campaigns.c.fallback_provider.in_(list(campaign_fallbacks)))
    if only is not None:  # a triggered message, sent the moment its event arrives
        candidates = candidates.where(messages.c.id.in_(list(only)))
    if offices is not None:
        candidates = _outside_quiet_hours(candidates, offices)
    if conn.dialect.name == "postgresql":
        # A materialized CTE: as a plain IN (subquery) PostgreSQL may run the locking subquery more
        # than once per statement and so claim more than `limit` rows (seen: 4 for a LIMIT of 2).
        picked = candidates.with_for_update(skip_locked=True, of=messages).cte("candidate")
        picked = picked.prefix_with("MATERIALIZED")
        chosen = messages.c.id.in_(select(picked.c.id))
    else:
        chosen = messages.c.id.in_(candidates.scalar_subquery())
    was_in_flight = messages.c.in_flight_since.is_not(None)
    # A message's sender id is fixed at its first claim ("" for the provider's own sender), by the
    # claim's own statement: an edit of the campaign's never renames a message that may already be at
    # a provider (its lookup would look under the new name, find nothing and send it again).
    campaign_sender = (
        select(func.coalesce(campaigns.c.sender_id, ""))
        .where(campaigns.c.id == messages.c.campaign_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        update(messages)
        .where(chosen, messages.c.status == MessageStatus.PENDING, due)
        .values(
            attempts=messages.c.attempts + 1,
            not_before=now + lease,
            claimed_by=worker or None,
            in_doubt_since=case(
                (was_in_flight, func.coalesce(messages.c.in_doubt_since, messages.c.in_flight_since)),
                else_=messages.c.in_doubt_since,
            ),
            in_flight_since=now,
            updated_at=now,
            sender_id=func.coalesce(messages.c.sender_id, campaign_sender),
        )
        .returning(
            messages.c.id,
            messages.c.campaign_id,
            messages.c.sender_id,
            messages.c.provider,
            messages.c.mobile_no,
            messages.c.body,
            messages.c.attempts,
            messages.c.office_id,
            messages.c.in_doubt_since,
        )
    ).all()
    if not rows:
        return []
    campaign_ids = sorted({r[1] for r in rows})
    fallbacks: dict[int, str | None] = dict(
        conn.execute(
            select(campaigns.c.id, campaigns.c.fallback_provider).where(campaigns.c.id.in_(campaign_ids))
        ).all()
    )
    claimed = [
        Claimed(
            id=mid,
            campaign_id=campaign_id,
            provider=provider,
            fallback=fallbacks.get(campaign_id),
            sender_id=sender_id or None,
            mobile_no=mobile_no,
            body=body,
            attempts=attempts,
            office_id=office_id,
            in_doubt_since=in_doubt_since,
        )
        for mid, campaign_id, sender_id, provider, mobile_no, body, attempts, office_id, in_doubt_since in rows
    ]
    claimed.sort(key=attrgetter("id"))
    return claimed


def claim_orphans(
    conn: Connection, now: datetime, limit: int, lease: timedelta, configured: Sequence[str], worker: str
) -> list[Claimed]:
    """Claim sendable messages whose provider is not among `configured` (removed from the configuration)."""
    if limit <= 0:
        return []
    ids = list(
        conn.execute(
            select(messages.c.id)
            .where(
                messages.c.status == MessageStatus.PENDING,
                or_(messages.c.not_before.is_(None), messages.c.not_before <= now),
                messages.c.provider.not_in(list(configured)),
            )
            .limit(limit)
        ).scalars()
    )
    return claim_pending(conn, now, limit, lease, only=ids, worker=worker) if ids else []


def _move_pending(conn: Connection, params: list[dict[str, Any]], **values: Any) -> int:
    """One UPDATE per message, guarded on PENDING: a message another worker moved on is left alone."""
    if not params:
        return 0
    params = sorted(params, key=lambda p: p["mid"])  # rows locked in one order by every writer: no deadlock
    result = conn.execute(
        update(messages)
        .where(messages.c.id == bindparam("mid"), messages.c.status == MessageStatus.PENDING)
        .values(**values),
        params,
    )
    return max(result.rowcount, 0)


def mark_accepted(conn: Connection, accepted: Iterable[Accepted], now: datetime) -> int:
    """PENDING -> WAITING_FOR_DELIVERY_REPORT with the provider that took it and the provider's id."""
    accepted = list(accepted)
    # Only a provider that states its cost (Africa's Talking) writes the cost columns: the others'
    # statement stays as it was.
    costed = any(a.cost is not None for a in accepted)
    if conn.dialect.name == "sqlite":
        return _accept_sqlite(conn, accepted, now, costed)
    costs: dict[str, Any] = (
        {
            "provider_cost": bindparam("cost", type_=messages.c.provider_cost.type),
            "provider_cost_currency": bindparam("cur"),
        }
        if costed
        else {}
    )
    return _move_pending(
        conn,
        [
            {"mid": a.message_id, "prov": a.provider, "ext": a.external_id}
            | ({"cost": a.cost, "cur": a.cost_currency} if costed else {})
            for a in accepted
        ],
        status=MessageStatus.WAITING_FOR_DELIVERY_REPORT,
        provider=bindparam("prov"),
        external_id=bindparam("ext"),
        **costs,
        sent_at=now,
        updated_at=now,
        not_before=None,
        in_flight_since=None,
        in_doubt_since=None,
        claimed_by=None,
        error_code=None,
        error_text=None,
    )


_SQLITE_ACCEPT = (
    "UPDATE messages SET status = ?, provider = ?, external_id = ?, sent_at = ?, updated_at = ?,{costs}"
    " not_before = NULL, in_flight_since = NULL, in_doubt_since = NULL, claimed_by = NULL,"
    " error_code = NULL, error_text = NULL"
    " WHERE id = ? AND status = ?"
)


def _accept_sqlite(conn: Connection, accepted: list[Accepted], now: datetime, costed: bool) -> int:
    """mark_accepted through the driver: at thousands of messages a second SQLAlchemy's per-row
    parameter processing was a third of the send job's time. The same values, the same guard."""
    if not accepted:
        return 0
    bind = messages.c.sent_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    stamp = bind(now) if bind is not None else now
    raw = conn.connection.dbapi_connection
    assert raw is not None
    before = raw.total_changes
    waiting, pending = int(MessageStatus.WAITING_FOR_DELIVERY_REPORT), int(MessageStatus.PENDING)
    ordered = sorted(accepted, key=lambda a: a.message_id)
    if costed:
        conn.exec_driver_sql(
            _SQLITE_ACCEPT.format(costs=" provider_cost = ?, provider_cost_currency = ?,"),
            [
                (
                    waiting,
                    a.provider,
                    a.external_id,
                    stamp,
                    stamp,
                    None if a.cost is None else str(a.cost),  # NUMERIC affinity stores the text as a number
                    a.cost_currency,
                    a.message_id,
                    pending,
                )
                for a in ordered
            ],
        )
    else:
        conn.exec_driver_sql(
            _SQLITE_ACCEPT.format(costs=""),
            [(waiting, a.provider, a.external_id, stamp, stamp, a.message_id, pending) for a in ordered],
        )
    return int(raw.total_changes) - int(before)


def reschedule(conn: Connection, retries: Iterable[Retry], now: datetime) -> None:
    """Keep messages PENDING for another attempt at `not_before`, remembering the last error.

    The claim is handed back. An uncounted retry gives the attempt back (nothing was handed to a
    provider); one in doubt stays marked in flight, so the next claim asks the provider first.
    """
    groups: dict[tuple[bool, bool], list[Retry]] = {}
    for retry in retries:
        groups.setdefault((retry.counted, retry.in_doubt), []).append(retry)
    for (counted, in_doubt), group in groups.items():
        values: dict[str, Any] = {
            "not_before": bindparam("nb"),
            "error_code": bindparam("code"),
            "error_text": bindparam("text"),
            "claimed_by": None,
            "updated_at": now,
        }
        if not in_doubt:
            values["in_flight_since"] = None
        if not counted:
            values["attempts"] = messages.c.attempts - 1
        else:  # a real attempt failed and another follows: the message page lists it (held ones are not attempts)
            values["earlier_attempts"] = attempts.appended("attempt")
        params = [
            {"mid": r.message_id, "nb": r.not_before, "code": r.code, "text": (r.text or "")[:300] or None}
            | ({"attempt": attempts.line(now, r.provider, r.code, r.text, r.in_doubt)} if counted else {})
            for r in group
        ]
        _move_pending(conn, params, **values)


def mark_failed(conn: Connection, failures: Iterable[Failure], now: datetime) -> int:
    """PENDING -> FAILED with the provider's error code and text.

    A failure whose outcome is unknown keeps `in_doubt_since`: the message may have been sent, and
    a re-send asks the provider first.
    """
    changed = 0
    groups: dict[bool, list[Failure]] = {}
    for failure in failures:
        groups.setdefault(failure.outcome_unknown, []).append(failure)
    for unknown, group in groups.items():
        values: dict[str, Any] = {
            "status": MessageStatus.FAILED,
            "error_code": bindparam("code"),
            "error_text": bindparam("text"),
            "not_before": None,
            "in_flight_since": None,
            "claimed_by": None,
            "updated_at": now,
        }
        if unknown:
            values["in_doubt_since"] = func.coalesce(messages.c.in_doubt_since, messages.c.in_flight_since)
        changed += _move_pending(
            conn, [{"mid": f.message_id, "code": f.code, "text": (f.text or "")[:300]} for f in group], **values
        )
    return changed


def mark_invalid(conn: Connection, ids: Iterable[int], reason: str, now: datetime) -> int:
    """PENDING -> INVALID: the message must never be sent (the number opted out meanwhile)."""
    return _move_pending(
        conn,
        [{"mid": m} for m in ids],
        status=MessageStatus.INVALID,
        reason=reason,
        not_before=None,
        in_flight_since=None,
        claimed_by=None,
        updated_at=now,
    )


def apply_reports(conn: Connection, provider: str, reports: Sequence[DeliveryReport], now: datetime) -> int:
    """Apply delivery reports idempotently and in any order; return how many changed a message.

    Each report is a conditional UPDATE guarded by the statuses the transition table allows to
    reach its status, so a duplicate or a late "sent" after "delivered" matches no row.
    """
    changed = 0
    by_status: dict[MessageStatus, list[DeliveryReport]] = {}
    for report in reports:
        by_status.setdefault(report.status, []).append(report)
    for status, group in by_status.items():
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status == MessageStatus.DELIVERED:
            values["delivered_at"] = bindparam("at")
        if status == MessageStatus.FAILED:
            values["error_code"] = bindparam("code")
            values["error_text"] = bindparam("text")
            values["resend_pending"] = bindparam("transient")
        result = conn.execute(
            update(messages)
            .where(
                messages.c.provider == provider,
                messages.c.external_id == bindparam("ext"),
                # plain OR-ed equalities: an expanding IN cannot be used with executemany
                or_(*(messages.c.status == int(s) for s in sorted(sources_of(status)))),
            )
            .values(**values),
            [
                {
                    "ext": r.external_id,
                    "at": r.at,
                    "code": r.error_code,
                    "text": (r.error_text or "")[:300],
                    "transient": r.transient,
                }
                for r in group
            ],
        )
        changed += max(result.rowcount, 0)
    return changed


ASKING: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(seconds=20), timedelta(0)),
    (timedelta(minutes=2), timedelta(seconds=15)),
    (timedelta(minutes=15), timedelta(minutes=1)),
    (timedelta(hours=2), timedelta(minutes=10)),
    (timedelta.max, timedelta(hours=1)),
)
"""(sent less than this long ago, asked about again after this long) for providers asked one message per
request: at every run while a report is normal, then less often, at last hourly. A message whose
report never comes (a network that returns none) was asked about at every run for as long as it
waited: 100,000 of them were 20,000 requests a second."""


def _asked_about_now(now: datetime) -> Any:
    """A message of a provider asked one by one is due to be asked about (ASKING), by its age and last ask."""
    sent, asked = messages.c.sent_at, messages.c.report_lookup_at
    due: list[Any] = [sent.is_(None), asked.is_(None)]
    younger_than = timedelta(0)
    for age, again in ASKING:
        tier: list[Any] = [asked <= now - again] if again else []
        if younger_than:
            tier.append(sent <= now - younger_than)
        if age != timedelta.max:
            tier.append(sent > now - age)
        due.append(and_(*tier))
        younger_than = age
    return or_(*due)


def awaiting_reports(
    conn: Connection,
    limit: int,
    after_id: int = 0,
    *,
    pushing: Sequence[str] = (),
    quiet_since: datetime | None = None,
    one_by_one: Sequence[str] = (),
    now: datetime | None = None,
) -> list[tuple[int, str, str]]:
    """(id, provider, external id) of messages still waiting for a final report, oldest first.

    Messages of the `pushing` providers are left out unless nothing happened to them since
    `quiet_since`: their reports come by themselves, the pull only covers what push missed. Those
    of the `one_by_one` providers only when they are due to be asked about at `now` (ASKING; the
    caller records the ask: store/reports.py, looked_up).
    """
    query = select(messages.c.id, messages.c.provider, messages.c.external_id).where(
        messages.c.status.in_(sorted(AWAITING_REPORT)),
        messages.c.external_id.is_not(None),
        messages.c.id > after_id,
    )
    if pushing:
        quiet = messages.c.updated_at <= quiet_since if quiet_since is not None else false()
        query = query.where(or_(messages.c.provider.not_in(list(pushing)), quiet))
    if one_by_one:
        if now is None:
            raise ValueError("asking one by one needs the time of the ask")
        query = query.where(or_(messages.c.provider.not_in(list(one_by_one)), _asked_about_now(now)))
    rows = conn.execute(query.order_by(messages.c.id).limit(limit)).all()
    return [(r.id, r.provider, r.external_id) for r in rows]


def status_counts(conn: Connection, campaign_id: int | None = None) -> dict[int, dict[MessageStatus, int]]:
    """Messages per campaign per status: the tabs' counts."""
    query = select(messages.c.campaign_id, messages.c.status, func.count()).group_by(
        messages.c.campaign_id, messages.c.status
    )
    if campaign_id is not None:
        query = query.where(messages.c.campaign_id == campaign_id)
    counts: dict[int, dict[MessageStatus, int]] = {}
    for cid, status, n in conn.execute(query):
        counts.setdefault(cid, {s: 0 for s in MessageStatus})[MessageStatus(status)] = n
    return counts
