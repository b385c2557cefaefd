"""The audit log: who did what and when, appended to and read, never changed or deleted through herald."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from herald.store.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    """One thing somebody (or herald itself, via "system") did."""

    action: str  # login, login.failed, campaign.activate, user.create, optout.add, job.run ...
    actor: str | None  # the username; None when a failed login named nobody herald knows
    via: str  # ui, api, cli, system
    target: str | None = None  # what it was done to: a campaign name, a username, a masked number
    address: str | None = None  # the client's address (logins)
    tenant: str | None = None
    detail: dict[str, Any] | None = None


def append(conn: Connection, entry: AuditEntry, now: datetime) -> None:
    """Add one entry (in the caller's transaction, so it is kept exactly when the action is)."""
    conn.execute(
        audit_log.insert().values(
            at=now,
            actor=entry.actor[:100] if entry.actor else entry.actor,
            via=entry.via,
            action=entry.action,
            target=entry.target[:200] if entry.target else entry.target,
            address=entry.address[:64] if entry.address else entry.address,
            tenant=entry.tenant,
            detail=entry.detail,
        )
    )


def count_since(
    conn: Connection, action: str, since: datetime, *, actor: str | None = None, address: str | None = None
) -> int:
    """How many `action` entries since `since`, for one actor and/or one address (login throttling)."""
    query = select(func.count()).select_from(audit_log).where(audit_log.c.action == action, audit_log.c.at >= since)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if address is not None:
        query = query.where(audit_log.c.address == address)
    return int(conn.execute(query).scalar_one())


def latest_since(
    conn: Connection, action: str, since: datetime, *, actor: str | None = None, address: str | None = None
) -> tuple[int, datetime | None]:
    """How many `action` entries since `since` and when the latest was, for one actor and/or address (backoff)."""
    query = select(func.count(), func.max(audit_log.c.at)).where(audit_log.c.action == action, audit_log.c.at >= since)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if address is not None:
        query = query.where(audit_log.c.address == address)
    count, latest = conn.execute(query).one()
    return int(count), latest
