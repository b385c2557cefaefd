"""Delivery reports in any order: applied when their message is known, parked until it is.

A provider may report on a message before herald has stored the id it got back from the send
call (SMPP receipts often overtake the submit_sm_resp). Such reports wait in `parked_reports` and
are applied the moment the id is recorded. A report on one part of a long message (a part id kept
by store/message_parts.py) becomes the report the message's parts add up to. Everything is
idempotent: a report applied twice, or one that arrives after a later status, changes nothing (the
transition table guards every update).

A report is matched across every provider `sharing` the receiving one's account (Infobip hands an
account's reports to whichever of its herald providers pulls first): the message is found under the
provider that sent it, parked or not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, tuple_, update

from herald.domain.message import AWAITING_REPORT, MessageStatus
from herald.domain.reports import DeliveryReport
from herald.store import installation, message_parts, optouts
from herald.store.messages import apply_reports
from herald.store.tables import message_parts as part_rows
from herald.store.tables import messages, parked_reports


def record(
    conn: Connection,
    provider: str,
    reports: Sequence[DeliveryReport],
    now: datetime,
    *,
    sharing: Sequence[str] = (),
) -> int:
    """Apply reports whose message is known under `provider` or one `sharing` its account, park the
    rest under `provider`; return how many changed a message."""
    if not reports:
        return 0
    # A report on one part of a long message becomes the report its parts add up to (store/message_parts.py).
    combined, reports = message_parts.combine_reports(conn, provider, reports)
    changed = _apply(conn, provider, combined, now)
    group = list(dict.fromkeys([provider, *sharing]))
    ids = sorted({r.external_id for r in reports})
    senders: dict[str, set[str]] = {}  # external id -> the providers holding a message under it
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(
            select(messages.c.provider, messages.c.external_id).where(
                messages.c.provider.in_(group), messages.c.external_id.in_(chunk)
            )
        )
        for row in rows:
            senders.setdefault(row.external_id, set()).add(row.provider)
    for name in group:
        changed += _apply(conn, name, [r for r in reports if name in senders.get(r.external_id, ())], now)
    waiting = _not_foreign(conn, [r for r in reports if r.external_id not in senders])
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


_REFERENCE = re.compile(r"herald-([0-9a-f]{16})-[0-9]+-[0-9]+")


def _not_foreign(conn: Connection, reports: list[DeliveryReport]) -> list[DeliveryReport]:
    """The reports without those on herald references of another installation sharing the account: their
    messages will never be recorded here, so parking them would only keep them forever."""
    theirs = {m.group(1) for r in reports if (m := _REFERENCE.fullmatch(r.external_id))}
    if not theirs:
        return reports
    mine = installation.identity(conn).id
    return [r for r in reports if not ((m := _REFERENCE.fullmatch(r.external_id)) and m.group(1) != mine)]


def adopt_parked(
    conn: Connection,
    accepted: Iterable[tuple[str, str]],
    now: datetime,
    *,
    sharing: Callable[[str], Sequence[str]] | None = None,
) -> int:
    """Apply reports parked for (provider, external id) pairs herald has just recorded (a long message's
    part ids too, recorded first), then drop them; a report parked by a provider `sharing(provider)`
    names (one account) counts as the provider's own."""
    owner: dict[tuple[str, str], str] = {}  # (parked under, external id) -> the provider that sent it
    for provider, external_id in accepted:
        for name in sharing(provider) if sharing else [provider]:
            owner.setdefault((name, external_id), provider)
    pairs = list(owner)
    if not pairs:
        return 0
    # Almost always nothing is parked: one indexed probe instead of the pairs' tuple IN (500 at a time),
    # whose expansion cost a send of 100,000 messages about 0.7 s of CPU. What is parked meanwhile and
    # not yet committed neither query sees.
    names = sorted({name for name, _ in pairs})
    if conn.execute(select(parked_reports.c.id).where(parked_reports.c.provider.in_(names)).limit(1)).first() is None:
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
        by_provider.setdefault(owner[(r.provider, r.external_id)], []).append(
            DeliveryReport(
                r.external_id, MessageStatus(r.status), r.at, r.error_code, r.error_text, r.opted_out, r.transient
            )
        )
    changed = 0
    for provider, reports in by_provider.items():
        combined, reports = message_parts.combine_reports(conn, provider, reports)
        changed += _apply(conn, provider, combined + reports, now)
    conn.execute(delete(parked_reports).where(parked_reports.c.id.in_([r.id for r in rows])))
    return changed


ORPHANS_PER_RUN = 1_000
"""Parked reports (the newest) the report job checks per run against the messages recorded since."""


def orphans(conn: Connection, *, sharing: Callable[[str], Sequence[str]]) -> list[tuple[str, str]]:
    """(provider, external id) of recorded messages (or parts) that the newest parked reports are about.

    A report parked by a transaction still open when the send job recorded the message's id (and
    looked for parked reports, seeing none yet) would otherwise wait for good: the provider was
    answered 2xx and does not send it again. The report job adopts these (adopt_parked)."""
    parked = conn.execute(
        select(parked_reports.c.provider, parked_reports.c.external_id)
        .order_by(parked_reports.c.id.desc())
        .limit(ORPHANS_PER_RUN)
    ).all()
    by_provider: dict[str, set[str]] = {}
    for row in parked:
        by_provider.setdefault(row.provider, set()).add(row.external_id)
    known: set[tuple[str, str]] = set()
    for provider, external_ids in by_provider.items():
        names = list(dict.fromkeys([provider, *sharing(provider)]))
        ids = sorted(external_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            # A long message's first part has the message's id; the others are known by their parts.
            for provider_column, id_column in (
                (messages.c.provider, messages.c.external_id),
                (part_rows.c.provider, part_rows.c.part_id),
            ):
                rows = conn.execute(
                    select(provider_column, id_column).where(provider_column.in_(names), id_column.in_(chunk))
                )
                known.update((r[0], r[1]) for r in rows)
    return sorted(known)


def _apply(conn: Connection, provider: str, reports: Sequence[DeliveryReport], now: datetime) -> int:
    changed = apply_reports(conn, provider, reports, now)
    _opt_out_unsubscribed(conn, provider, reports, now)
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


def overdue(conn: Connection, provider: str, quiet_since: datetime, limit: int) -> list[tuple[int, str, str]]:
    """(id, external id, number) of `provider`'s messages accepted before `quiet_since`, still waiting for
    a report, and not looked up since then either: the ones whose report may be lost, oldest first."""
    rows = conn.execute(
        select(messages.c.id, messages.c.external_id, messages.c.mobile_no)
        .where(
            messages.c.provider == provider,
            messages.c.status.in_(sorted(AWAITING_REPORT)),
            messages.c.external_id.is_not(None),
            messages.c.sent_at <= quiet_since,
            or_(messages.c.report_lookup_at.is_(None), messages.c.report_lookup_at <= quiet_since),
        )
        .order_by(messages.c.id)
        .limit(limit)
    ).all()
    return [(r.id, r.external_id, r.mobile_no or "") for r in rows]


def looked_up(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    """Remember that these messages were just looked up (or asked about one by one), so the next look
    waits its interval."""
    for start in range(0, len(ids), 500):
        conn.execute(update(messages).where(messages.c.id.in_(ids[start : start + 500])).values(report_lookup_at=now))
