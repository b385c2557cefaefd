"""Reading the audit log: entries matching filters (action, actor, time range), newest first, a page at a time.

Only reads: herald appends to the log through `store.audit.append` and never changes or deletes
an entry, so there is deliberately no update or delete here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, select

from herald.store.tables import audit_log


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; `action` matches exactly or, ending in ".", every action of that kind ("campaign.")."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None  # included
    until: datetime | None = None  # excluded

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.action:
            if self.action.endswith("."):
                found.append(audit_log.c.action.startswith(self.action, autoescape=True))
            else:
                found.append(audit_log.c.action == self.action)
        if self.actor:
            found.append(audit_log.c.actor == self.actor)
        if self.since is not None:
            found.append(audit_log.c.at >= self.since)
        if self.until is not None:
            found.append(audit_log.c.at < self.until)
        return found


@dataclass(frozen=True)
class AuditRecord:
    """One stored entry, as read back."""

    id: int
    at: datetime
    actor: str | None
    via: str
    action: str
    target: str | None
    address: str | None
    tenant: str | None
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: Row[Any]) -> AuditRecord:
        return cls(
            row.id, row.at, row.actor, row.via, row.action, row.target, row.address, row.tenant, dict(row.detail or {})
        )


def search(conn: Connection, wanted: AuditFilter, limit: int, offset: int) -> tuple[int, list[AuditRecord]]:
    """(how many entries match, one page of them, newest first)."""
    where = and_(*wanted.conditions()) if wanted.conditions() else None
    count = select(func.count()).select_from(audit_log)
    page = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    if where is not None:
        count, page = count.where(where), page.where(where)
    total = int(conn.execute(count).scalar_one())
    return total, [AuditRecord.from_row(r) for r in conn.execute(page)]


def each(conn: Connection, wanted: AuditFilter, chunk: int = 2_000) -> Iterator[AuditRecord]:
    """Every matching entry, newest first, read in chunks (keyset on id) so an export stays in bounded memory."""
    before: int | None = None
    while True:
        query = select(audit_log).where(*wanted.conditions())
        if before is not None:
            query = query.where(audit_log.c.id < before)
        rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(chunk)).all()
        if not rows:
            return
        for row in rows:
            yield AuditRecord.from_row(row)
        before = rows[-1].id


def actors(conn: Connection) -> list[str]:
    """Everyone who appears in the log, for the filter's choices."""
    query = select(audit_log.c.actor).where(audit_log.c.actor.is_not(None)).distinct().order_by(audit_log.c.actor)
    return [a for a in conn.execute(query).scalars() if a]
