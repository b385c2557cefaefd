"""The audit trail as herald uses it: who is acting (and through what), recording an action, reading the log.

Every action that changes what herald sends (campaigns, re-sends, opt-outs, jobs run by hand)
records an entry in the same transaction as the change, so the log holds exactly what happened.
Logins and user or token changes are recorded by the auth services. The log is append-only through
herald: nothing here, and no route or command, updates or deletes an entry.
"""

from __future__ import annotations

import csv
import getpass
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from herald.domain.spreadsheet import safe_cell
from herald.domain.times import day_bounds
from herald.errors import ValidationError
from herald.store import audit_search
from herald.store.audit import AuditEntry, append
from herald.store.audit_search import AuditFilter as AuditFilter  # the entry points' query and rows
from herald.store.audit_search import AuditRecord as AuditRecord

ACTIONS = (
    "campaign.create",
    "campaign.edit",
    "campaign.activate",
    "campaign.close",
    "campaign.reactivate",
    "campaign.delete",
    "campaign.resend",
    "optout.add",
    "optout.remove",
    "job.run",
    "office.set",
    "event.",
    "login",
    "login.failed",
    "user.",
    "token.",
)
"""The actions (or kinds of action, ending in ".") the filters offer; auth adds its own under user. and token."""

CSV_COLUMNS = ("id", "at", "actor", "via", "action", "target", "tenant", "address", "detail")


@dataclass(frozen=True)
class Actor:
    """Who does something, and through which door: the UI, the REST API, the command line, or herald itself."""

    name: str
    via: str  # ui, api, cli, system

    @classmethod
    def ui(cls, username: str) -> Actor:
        return cls(username, "ui")

    @classmethod
    def api(cls, username: str) -> Actor:
        return cls(username, "api")

    @classmethod
    def cli(cls) -> Actor:
        """The operating-system user at the terminal: the CLI has no herald login."""
        return cls(f"cli:{getpass.getuser()}", "cli")


SYSTEM = Actor("system", "system")
"""herald acting on its own (the demo's set-up, the worker): never a person."""


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    now: datetime,
    *,
    target: str | None = None,
    tenant: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (kept exactly when the action is)."""
    append(conn, AuditEntry(action, actor.name, actor.via, target, None, tenant, detail), now)


def filter_of(
    *,
    timezone: str,
    action: str | None = None,
    actor: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> AuditFilter:
    """Filters as people give them: whole days in herald's time zone, both ends included."""
    if date_from and date_to and date_from > date_to:
        raise ValidationError(f"from ({date_from}) is after to ({date_to}).", field="from")
    since, until = day_bounds(date_from, date_to, timezone)
    return AuditFilter(
        action=(action or "").strip() or None,
        actor=(actor or "").strip() or None,
        since=since,
        until=until,
    )


def find(wanted: AuditFilter, limit: int = 50, offset: int = 0, *, store: Engine) -> tuple[int, list[AuditRecord]]:
    """(how many entries match, one page of them, newest first)."""
    with store.connect() as conn:
        return audit_search.search(conn, wanted, limit, offset)


def actors(*, store: Engine) -> list[str]:
    with store.connect() as conn:
        return audit_search.actors(conn)


def csv_lines(wanted: AuditFilter, *, store: Engine) -> Iterator[str]:
    """The matching entries as CSV, newest first; every cell through safe_cell (targets and details are typed
    by people: a campaign named "=HYPERLINK(...)" must open as text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    with store.connect() as conn:
        for n, e in enumerate(audit_search.each(conn, wanted), 1):
            detail = ", ".join(f"{k}={v}" for k, v in e.detail.items())
            row = (e.id, e.at.isoformat(), e.actor, e.via, e.action, e.target, e.tenant, e.address, detail)
            writer.writerow([safe_cell("" if v is None else v) for v in row])
            if n % 500 == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
