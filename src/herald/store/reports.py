"""Delivery reports in any order: applied when their message is known, parked until it is.

A provider may report on a message before herald has stored the id it got back from the send
call (SMPP receipts often overtake the submit_sm_resp). Such reports wait in `parked_reports` and
are applied the moment the id is recorded. Everything is idempotent: a report applied twice, or
one that arrives after a later status, changes nothing (the transition table guards every update).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, tuple_

from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.store import optouts
from herald.store.messages import apply_reports
from herald.store.tables import messages, parked_reports


def record(conn: Connection, provider: str, reports: Sequence[DeliveryReport], now: datetime) -> int:
    """Apply reports whose message is known, park the rest; return how many changed a message."""
    if not reports:
        return 0
    ids = sorted({r.external_id for r in reports})
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        known |= set(
            conn.execute(
                select(messages.c.external_id).where(messages.c.provider == provider, messages.c.external_id.in_(chunk))
            ).scalars()
        )
    ready = [r for r in reports if r.external_id in known]
    waiting = [r for r in reports if r.external_id not in known]
    changed = apply_reports(conn, provider, ready, now)
    _opt_out_unsubscribed(conn, provider, ready, now)
    if waiting:
        conn.execute(
            insert(parked_reports),
            [
                {
                    "provider": provider,
                    "external_id": r.external_id,
                    "status": int(r.status),
                    "at": r.at,
                    "error_code": r.error_code,
                    "error_text": (r.error_text or "")[:300] or None,
                    "opted_out": r.opted_out,
                    "transient": r.transient,
                    "received_at": now,
                }
                for r in waiting
            ],
        )
    return changed


def adopt_parked(conn: Connection, accepted: Iterable[tuple[str, str]], now: datetime) -> int:
    """Apply reports parked for (provider, external id) pairs herald has just recorded, then drop them."""
    pairs = list(accepted)
    if not pairs:
        return 0
    rows: list[Any] = []
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        rows += conn.execute(
            select(parked_reports).where(tuple_(parked_reports.c.provider, parked_reports.c.external_id).in_(chunk))
        ).all()
    if not rows:
        return 0
    by_provider: dict[str, list[DeliveryReport]] = {}
    for r in sorted(rows, key=lambda r: r.id):
        by_provider.setdefault(r.provider, []).append(
            DeliveryReport(
                r.external_id, MessageStatus(r.status), r.at, r.error_code, r.error_text, r.opted_out, r.transient
            )
        )
    changed = 0
    for provider, reports in by_provider.items():
        changed += apply_reports(conn, provider, reports, now)
        _opt_out_unsubscribed(conn, provider, reports, now)
    conn.execute(delete(parked_reports).where(parked_reports.c.id.in_([r.id for r in rows])))
    return changed


def _opt_out_unsubscribed(conn: Connection, provider: str, reports: Sequence[DeliveryReport], now: datetime) -> None:
    """A failure that says "the recipient unsubscribed" puts the number on herald's opt-out list."""
    gone = [r.external_id for r in reports if r.opted_out]
    if not gone:
        return
    numbers = conn.execute(
        select(messages.c.mobile_no).where(
            and_(messages.c.provider == provider, or_(*(messages.c.external_id == e for e in gone)))
        )
    ).scalars()
    optouts.add(
        conn, [n for n in numbers if n], source=provider, detail="provider reports the recipient unsubscribed", now=now
    )
