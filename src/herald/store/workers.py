"""Sending processes and their heartbeats: leases renewed while a process lives, settled when it dies.

Every process that sends (a worker, `herald serve`, a one-off job run) has a row it refreshes every
few seconds. Refreshing also renews the lease of every message it holds, so a claim never runs out
while its holder is alive, however long a rate limit makes it wait. A process silent for longer
than the timeout is dead: any live process hands its claims back (still marked in flight, so the
next claim asks the provider before sending again) and removes its row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, select, update

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
) -> int:
    """Refresh `worker`'s heartbeat and leases, settle dead workers' claims; return how many processes send."""
    refreshed = conn.execute(update(workers).where(workers.c.id == worker).values(heartbeat_at=now)).rowcount
    if not refreshed:
        conn.execute(
            workers.insert().values(id=worker, host=host[:200], pid=pid, kind=kind, started_at=now, heartbeat_at=now)
        )
    conn.execute(
        update(messages)
        .where(messages.c.claimed_by == worker, messages.c.status == MessageStatus.PENDING)
        .values(not_before=now + lease)
    )
    dead = list(conn.execute(select(workers.c.id).where(workers.c.heartbeat_at < now - timeout)).scalars())
    if dead:
        release(conn, dead)
        conn.execute(delete(workers).where(workers.c.id.in_(dead)))
    live = conn.execute(select(func.count()).select_from(workers).where(workers.c.stopping.is_(False))).scalar_one()
    return max(int(live), 1)


def release(conn: Connection, holders: list[str], ids: list[int] | None = None) -> int:
    """Hand back claims (of these holders, optionally only these messages) for anyone to take now.

    `in_flight_since` stays as it is: a message whose attempt was under way is in doubt, and the next
    claim asks the provider about it before anything is sent.
    """
    query = update(messages).where(messages.c.claimed_by.in_(holders), messages.c.status == MessageStatus.PENDING)
    if ids is not None:
        query = query.where(messages.c.id.in_(ids))
    return max(conn.execute(query.values(claimed_by=None, not_before=None)).rowcount, 0)


def stopping(conn: Connection, worker: str) -> None:
    """The process stops: the others stop counting it for rate shares."""
    conn.execute(update(workers).where(workers.c.id == worker).values(stopping=True))


def leave(conn: Connection, worker: str) -> int:
    """The process is gone: hand back what it still holds and remove its row; return the claims handed back."""
    released = release(conn, [worker])
    conn.execute(delete(workers).where(workers.c.id == worker))
    return released


def live(conn: Connection, now: datetime, timeout: timedelta) -> list[tuple[str, str, datetime]]:
    """(id, kind, last heartbeat) of the processes that sent a heartbeat within the timeout."""
    rows = conn.execute(
        select(workers.c.id, workers.c.kind, workers.c.heartbeat_at)
        .where(workers.c.heartbeat_at >= now - timeout)
        .order_by(workers.c.started_at)
    )
    return [(r.id, r.kind, r.heartbeat_at) for r in rows]
