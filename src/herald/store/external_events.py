"""Fineract's external events in herald's database: the keys acted on, the dead letters, the arrivals."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Connection, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from herald.store.tables import dead_letters, event_arrivals, external_events


@dataclass(frozen=True)
class ActedOn:
    """One external event herald has acted on."""

    key: str
    tenant: str
    type: str
    event_id: int
    created_at: datetime | None
    messages: int


@dataclass(frozen=True)
class DeadLetter:
    """An event herald could not read or act on, and why."""

    id: int
    ref: str
    received_at: datetime
    tenant: str | None
    type: str | None
    broker_message_id: str
    reason: str
    size: int


REASON_LIMIT = 2000
"""The longest reason kept: decoder messages quote what they met, and a hostile body can make that long."""
_LOOKUP_BATCH = 500  # keys per IN (...): a bulk event may hold thousands, past SQLite's and psycopg's bind limits


def _insert(conn: Connection, table):  # type: ignore[no-untyped-def]
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _fit(text: str | None, limit: int) -> str | None:
    """`text` as a column of `limit` characters takes it: cut, and NUL (which PostgreSQL's text refuses) replaced."""
    if text is None:
        return None
    cut = text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return cut.replace("\x00", "\ufffd")


def stored_ref(ref: str) -> str:
    """A dead letter's ref as `park` stores it (what a retry compares the refs it kept aside again with)."""
    return _fit(ref, 200) or ""


def seen(conn: Connection, keys: Collection[str]) -> set[str]:
    """Which of these event keys herald has already acted on."""
    wanted = list(keys)
    found: set[str] = set()
    for start in range(0, len(wanted), _LOOKUP_BATCH):
        chunk = wanted[start : start + _LOOKUP_BATCH]
        rows = conn.execute(select(external_events.c.event_key).where(external_events.c.event_key.in_(chunk)))
        found.update(r[0] for r in rows)
    return found


def remember(conn: Connection, events: Sequence[ActedOn], at: datetime) -> None:
    """Record events as acted on; one already there stays as it was (a redelivery acted on twice counts once)."""
    if not events:
        return
    rows = [
        {
            "event_key": e.key,
            "tenant": e.tenant,
            "type": e.type,
            "event_id": e.event_id,
            "created_at": e.created_at,
            "received_at": at,
            "messages": e.messages,
        }
        for e in events
    ]
    conn.execute(_insert(conn, external_events).on_conflict_do_nothing(index_elements=["event_key"]), rows)


def park(
    conn: Connection,
    *,
    ref: str,
    at: datetime,
    broker_message_id: str,
    reason: str,
    body: bytes,
    tenant: str | None = None,
    type_: str | None = None,
) -> int | None:
    """Keep an event aside with the reason: the new letter's id; None when it is there already (the broker
    delivered it again).

    Every text is made to fit its column, NUL included: whatever a hostile message holds, keeping
    it aside must not fail (that would refuse the whole batch, again at each redelivery).
    """
    stmt = _insert(conn, dead_letters).values(
        ref=stored_ref(ref),
        received_at=at,
        tenant=_fit(tenant, 100),
        type=_fit(type_, 100),
        broker_message_id=_fit(broker_message_id, 200),
        reason=_fit(reason, REASON_LIMIT),
        body=body,
    )
    result = conn.execute(stmt.on_conflict_do_nothing(index_elements=["ref"]))
    key = result.inserted_primary_key
    return int(key[0]) if result.rowcount and key else None


def dead(conn: Connection, *, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
    """The dead letters, newest first, without their bodies."""
    rows = conn.execute(
        select(
            dead_letters.c.id,
            dead_letters.c.ref,
            dead_letters.c.received_at,
            dead_letters.c.tenant,
            dead_letters.c.type,
            dead_letters.c.broker_message_id,
            dead_letters.c.reason,
            func.length(dead_letters.c.body),
        )
        .order_by(dead_letters.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7] or 0)) for r in rows]


def dead_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(dead_letters)).scalar_one())


def dead_body(conn: Connection, letter_id: int) -> bytes | None:
    row = conn.execute(select(dead_letters.c.body).where(dead_letters.c.id == letter_id)).first()
    return bytes(row[0]) if row else None


def arrived(conn: Connection, *, tenant: str, entity: str, action: str, at: datetime, count: int = 1) -> None:
    """Count events of one kind in one statement; the latest time wins."""
    stmt = _insert(conn, event_arrivals).values(
        tenant=tenant, entity=entity, action=action, last_at=at, last_succeeded=True, received=count
    )
    newer = stmt.excluded.last_at >= event_arrivals.c.last_at
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant", "entity", "action"],
            set_={
                "received": event_arrivals.c.received + count,
                "last_at": case((newer, stmt.excluded.last_at), else_=event_arrivals.c.last_at),
            },
        )
    )


def latest_arrivals(conn: Connection, *, tenant: str) -> dict[tuple[str, str], tuple[datetime, int]]:
    """(entity, action) -> (when the last event of the kind came, how many have come) for the tenant."""
    rows = conn.execute(select(event_arrivals).where(event_arrivals.c.tenant == tenant)).all()
    return {(r.entity, r.action): (r.last_at, int(r.received)) for r in rows}


# What an admin does with the dead letters and the stream's status (services/dead_letters.py).


@dataclass(frozen=True)
class Arrivals:
    """How many events of one kind came for one tenant, and when the last one did."""

    tenant: str
    entity: str
    action: str
    last_at: datetime
    received: int


def dead_letter(conn: Connection, letter_id: int) -> tuple[DeadLetter, bytes] | None:
    """One dead letter with its body; None when there is none with that id."""
    row = conn.execute(
        select(
            dead_letters.c.id,
            dead_letters.c.ref,
            dead_letters.c.received_at,
            dead_letters.c.tenant,
            dead_letters.c.type,
            dead_letters.c.broker_message_id,
            dead_letters.c.reason,
            dead_letters.c.body,
        ).where(dead_letters.c.id == letter_id)
    ).first()
    if row is None:
        return None
    body = bytes(row[7])
    return DeadLetter(row[0], row[1], row[2], row[3], row[4], row[5], row[6], len(body)), body


def dead_ids(conn: Connection, *, after: int = 0, limit: int = 100) -> list[int]:
    """The ids of the dead letters after `after`, oldest first (to go through all of them a batch at a time)."""
    query = select(dead_letters.c.id).where(dead_letters.c.id > after).order_by(dead_letters.c.id).limit(limit)
    return [int(r[0]) for r in conn.execute(query)]


def unpark(conn: Connection, letter_id: int) -> bool:
    """Remove a dead letter; False when it was not there (removed meanwhile)."""
    return bool(conn.execute(dead_letters.delete().where(dead_letters.c.id == letter_id)).rowcount)


def repark(conn: Connection, ref: str, reason: str) -> bool:
    """Give a dead letter a new reason; False when no letter has that ref."""
    stmt = dead_letters.update().where(dead_letters.c.ref == stored_ref(ref)).values(reason=_fit(reason, REASON_LIMIT))
    return bool(conn.execute(stmt).rowcount)


def all_arrivals(conn: Connection) -> list[Arrivals]:
    """Every tenant's event kinds with their counts, by tenant then kind."""
    rows = conn.execute(
        select(event_arrivals).order_by(event_arrivals.c.tenant, event_arrivals.c.entity, event_arrivals.c.action)
    ).all()
    return [Arrivals(r.tenant, r.entity, r.action, r.last_at, int(r.received)) for r in rows]


def acted_per_hour(conn: Connection, since: datetime, hours: int) -> list[int]:
    """How many events herald acted on in each of the `hours` hours from `since`, in one pass over the table."""
    received = external_events.c.received_at
    bounds = [since + timedelta(hours=h) for h in range(hours + 1)]
    columns = [
        func.coalesce(func.sum(case(((received >= start) & (received < end), 1), else_=0)), 0)
        for start, end in pairwise(bounds)
    ]
    row = conn.execute(select(*columns).where(received >= since, received < bounds[-1])).one()
    return [int(n) for n in row]
