"""Long messages a provider took as several parts, each with its own id: the parts kept, their reports combined.

An SMPP link answers each part of a concatenated message with its own message id, and each part
gets its own receipt. herald records the message under the first part's id and keeps every part's
id here, in the same transaction as the acceptance, so a part's receipt finds its message whatever
process receives it, however long after (a restart forgets nothing). A part's report updates that
part, and the message gets the report the parts add up to (domain/multipart.py): FAILED as soon as
one part failed, DELIVERED once every part is, SENT meanwhile.

The parts of one message are read FOR UPDATE before they are combined (PostgreSQL; SQLite's
writers take turns anyway), so two parts' receipts stored at once never both see the other
part as unheard-of and leave the message SENT forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, tuple_, update

from herald.domain.message import MessageStatus
from herald.domain.multipart import combine, part_moves
from herald.domain.reports import DeliveryReport
from herald.store.tables import message_parts

CHUNK = 500


def record(conn: Connection, provider: str, accepted: Iterable[tuple[int, str, Sequence[str]]]) -> int:
    """Keep the part ids of accepted messages: (herald's message id, its external id, every part's id).

    A provider may reuse an id long after (an SMSC's counter wraps): the newer message takes it.
    """
    rows = [
        {"provider": provider, "part_id": part, "message_id": mid, "external_id": ext, "status": None}
        for mid, ext, parts in accepted
        for part in dict.fromkeys(parts)
    ]
    if not rows:
        return 0
    keys = [(provider, r["part_id"]) for r in rows]
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        conn.execute(delete(message_parts).where(tuple_(message_parts.c.provider, message_parts.c.part_id).in_(chunk)))
    conn.execute(insert(message_parts), rows)
    return len(rows)


def known(conn: Connection, provider: str, ids: Iterable[str]) -> set[str]:
    """Which of these ids are parts of a multipart message of this provider."""
    wanted = sorted(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found |= set(
            conn.execute(
                select(message_parts.c.part_id).where(
                    message_parts.c.provider == provider, message_parts.c.part_id.in_(chunk)
                )
            ).scalars()
        )
    return found


def combine_reports(
    conn: Connection, provider: str, reports: Sequence[DeliveryReport]
) -> tuple[list[DeliveryReport], list[DeliveryReport]]:
    """Split reports into (the message reports their parts add up to, the reports on no known part).

    The first list names each message by its external id, carries the failing part's error for a
    FAILED message, and holds one report per change of a message's combined status, in order.
    """
    parts = known(conn, provider, (r.external_id for r in reports))
    if not parts:
        return [], list(reports)
    on_parts = [r for r in reports if r.external_id in parts]
    others = [r for r in reports if r.external_id not in parts]
    owners: set[int] = set()
    for start in range(0, len(on_parts), CHUNK):
        chunk = sorted({r.external_id for r in on_parts[start : start + CHUNK]})
        owners |= set(
            conn.execute(
                select(message_parts.c.message_id).where(
                    message_parts.c.provider == provider, message_parts.c.part_id.in_(chunk)
                )
            ).scalars()
        )
    rows: list[Row[Any]] = []
    ordered = sorted(owners)
    for start in range(0, len(ordered), CHUNK):
        query = (
            select(message_parts)
            .where(message_parts.c.message_id.in_(ordered[start : start + CHUNK]))
            .order_by(message_parts.c.message_id, message_parts.c.part_id)  # one lock order: no deadlock
        )
        if conn.dialect.name != "sqlite":
            query = query.with_for_update()
        rows += conn.execute(query).all()
    # A message's parts are those of its attempt that this part belongs to (an earlier attempt's stay apart).
    by_part = {r.part_id: (r.message_id, r.external_id) for r in rows if r.provider == provider}
    status: dict[str, MessageStatus | None] = {
        r.part_id: (MessageStatus(r.status) if r.status is not None else None) for r in rows if r.provider == provider
    }
    groups: dict[tuple[int, str], list[str]] = {}
    for part_id, owner in by_part.items():
        groups.setdefault(owner, []).append(part_id)
    combined: list[DeliveryReport] = []
    changed: dict[str, MessageStatus] = {}
    for report in on_parts:
        found = by_part.get(report.external_id)
        if found is None or not part_moves(status[report.external_id], report.status):
            continue
        owner, members = found, groups[found]
        before = combine(status[p] for p in members)
        status[report.external_id] = changed[report.external_id] = report.status
        after = combine(status[p] for p in members)
        if after is not None and after != before:
            failing = report if after is MessageStatus.FAILED else None
            combined.append(
                replace(
                    report,
                    external_id=owner[1],
                    status=after,
                    error_code=failing.error_code if failing else None,
                    error_text=failing.error_text if failing else None,
                    opted_out=bool(failing and failing.opted_out),
                )
            )
    if changed:
        conn.execute(
            update(message_parts)
            .where(message_parts.c.provider == provider, message_parts.c.part_id == bindparam("pid"))
            .values(status=bindparam("st")),
            [{"pid": pid, "st": int(st)} for pid, st in changed.items()],
        )
    return combined, others


def parts_of(conn: Connection, provider: str, external_ids: Iterable[str]) -> dict[str, list[str]]:
    """external id -> every part's id, for the messages of these that went as several parts."""
    wanted = sorted(set(external_ids))
    found: dict[str, list[str]] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = conn.execute(
            select(message_parts.c.external_id, message_parts.c.part_id).where(
                message_parts.c.provider == provider, message_parts.c.external_id.in_(wanted[start : start + CHUNK])
            )
        ).all()
        for row in rows:
            found.setdefault(row.external_id, []).append(row.part_id)
    return found
