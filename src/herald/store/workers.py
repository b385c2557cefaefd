"""Sending processes and their heartbeats: leases renewed while a process lives, settled when it dies.

Every process that sends (a worker, `herald serve`, a one-off job run) has a row it refreshes every
few seconds. Refreshing also renews the lease of every message it holds, so a claim never runs out
while its holder is alive, however long a rate limit makes it wait. A process silent for longer
than the timeout is dead: any live process hands its claims back (still marked in flight, so the
next claim asks the provider before sending again) and removes its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, select, update

from herald.domain.message import MessageStatus
from herald.store.tables import messages, workers


def beat(
    conn: Connection,
    worker: str,
    *,
    host: str,
    pid: int,
    kind: str,
    now: datetime,
    lease: timedelta,
    timeout: timedelta,
    settle_after: timedelta = timedelta(0),
) -> int:
    """Refresh `worker`'s heartbeat and leases, settle dead workers' claims; return how many processes send."""
    refreshed = conn.execute(update(workers).where(workers.c.id == worker).values(heartbeat_at=now, kind=kind)).rowcount
    if not refreshed:
        conn.execute(
            workers.insert().values(id=worker, host=host[:200], pid=pid, kind=kind, started_at=now, heartbeat_at=now)
        )
    held = _unlocked(conn, messages.c.claimed_by == worker)
    conn.execute(update(messages).where(messages.c.id.in_(held)).values(not_before=now + lease))
    dead = list(conn.execute(select(workers.c.id).where(workers.c.heartbeat_at < now - timeout)).scalars())
    if dead:
        # Not claimable at once: a request the dead process had just written may still be on its way, and
        # the provider must have it (or never will) before anybody asks whether it does.
        release(conn, dead, until=now + settle_after)
        conn.execute(delete(workers).where(workers.c.id.in_(dead)))
    live = conn.execute(select(func.count()).select_from(workers).where(workers.c.stopping.is_(False))).scalar_one()
    return max(int(live), 1)


def release(conn: Connection, holders: list[str], ids: list[int] | None = None, until: datetime | None = None) -> int:
    """Hand back claims (of these holders, optionally only these messages) for anyone to take (from `until`).

    `in_flight_since` stays as it is: a message whose attempt was under way is in doubt, and the next
    claim asks the provider about it before anything is sent. Rows another transaction is writing
    right now (its holder recording them) are skipped: they are being settled anyway, and waiting
    for them could deadlock against that holder.
    """
    condition: ColumnElement[bool] = messages.c.claimed_by.in_(holders)
    if ids is not None:
        condition = and_(condition, messages.c.id.in_(ids))
    chosen = _unlocked(conn, condition)
    return max(
        conn.execute(
            update(messages).where(messages.c.id.in_(chosen)).values(claimed_by=None, not_before=until)
        ).rowcount,
        0,
    )


def _unlocked(conn: Connection, condition: ColumnElement[bool]) -> Any:
    """The PENDING messages matching `condition` that no other transaction holds (PostgreSQL: SKIP LOCKED)."""
    query = select(messages.c.id).where(condition, messages.c.status == MessageStatus.PENDING)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query.scalar_subquery()


def stopping(conn: Connection, worker: str) -> None:
    """The process stops: the others stop counting it for rate shares."""
    conn.execute(update(workers).where(workers.c.id == worker).values(stopping=True))


def leave(conn: Connection, worker: str) -> int:
    """The process is gone: hand back what it still holds and remove its row; return the claims handed back."""
    released = release(conn, [worker])
    conn.execute(delete(workers).where(workers.c.id == worker))
    return released


@dataclass(frozen=True)
class LiveProcess:
    """A process whose heartbeat is fresh: `kind` says whether it runs the jobs ("jobs") or only sends on demand."""

    id: str
    host: str
    pid: int
    kind: str
    started_at: datetime
    heartbeat_at: datetime


def live(conn: Connection, now: datetime, timeout: timedelta) -> list[LiveProcess]:
    """The processes that sent a heartbeat within the timeout, oldest first."""
    rows = conn.execute(
        select(workers)
        .where(workers.c.heartbeat_at >= now - timeout, workers.c.stopping.is_(False))
        .order_by(workers.c.started_at)
    )
    return [LiveProcess(r.id, r.host, r.pid, r.kind, r.started_at, r.heartbeat_at) for r in rows]
