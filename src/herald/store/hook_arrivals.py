"""When Fineract's hook last called herald, per tenant and event: one row per (tenant, entity, action)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, select
from sqlalchemy.dialects import postgresql, sqlite

from herald.store.tables import hook_arrivals


@dataclass(frozen=True)
class HookArrival:
    """The latest call of one event's hook and how many have come."""

    tenant: str
    entity: str
    action: str
    last_at: datetime
    last_succeeded: bool
    received: int


def record(
    conn: Connection, *, tenant: str, entity: str, action: str, at: datetime, succeeded: bool, count: int = 1
) -> None:
    """Count `count` hook calls (the last of them at `at`, `succeeded` or not) in one statement; the latest
    time wins (hooks of one event may arrive out of order)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(hook_arrivals).values(
        tenant=tenant, entity=entity, action=action, last_at=at, last_succeeded=succeeded, received=count
    )
    newer = stmt.excluded.last_at >= hook_arrivals.c.last_at
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant", "entity", "action"],
            set_={
                "received": hook_arrivals.c.received + stmt.excluded.received,
                "last_at": case((newer, stmt.excluded.last_at), else_=hook_arrivals.c.last_at),
                "last_succeeded": case((newer, stmt.excluded.last_succeeded), else_=hook_arrivals.c.last_succeeded),
            },
        )
    )


def latest(conn: Connection, *, tenant: str, events: tuple[tuple[str, str], ...]) -> list[HookArrival]:
    """The arrivals of these (entity, action) events for the tenant, newest first."""
    rows = conn.execute(select(hook_arrivals).where(hook_arrivals.c.tenant == tenant)).all()
    wanted = set(events)
    found = [
        HookArrival(r.tenant, r.entity, r.action, r.last_at, bool(r.last_succeeded), int(r.received))
        for r in rows
        if (r.entity, r.action) in wanted
    ]
    return sorted(found, key=lambda a: a.last_at, reverse=True)
