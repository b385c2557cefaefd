"""The catch-up job's marks: per Triggered campaign, how far Fineract has been read for events its hooks missed.

A mark is set to "now" when the campaign is (re)activated and only ever moves forward: two
catch-up runs at once, or a run that overlaps a reactivation, leave the furthest of them. The
counters add up what each run really inserted, so they stay right when runs overlap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update

from herald.domain.lateness import TOO_LATE
from herald.domain.message import MessageStatus
from herald.store.tables import catchup_marks, messages

_CHUNK = 200
"""Dedup keys looked up per statement (bind-parameter limits of every engine stay far away)."""


@dataclass(frozen=True)
class CatchUpMark:
    """Where one campaign's catch-up stands, and what it has done since the campaign's (re)activation."""

    campaign_id: int
    last_id: int | None
    last_date: date | None
    set_at: datetime
    ran_at: datetime | None
    events: int
    created: int
    too_late: int

    @classmethod
    def of(cls, row: Any) -> CatchUpMark:
        return cls(
            row.campaign_id, row.last_id, row.last_date, row.set_at, row.ran_at, row.events, row.created, row.too_late
        )


def get(conn: Connection, campaign_id: int) -> CatchUpMark | None:
    row = conn.execute(select(catchup_marks).where(catchup_marks.c.campaign_id == campaign_id)).first()
    return CatchUpMark.of(row) if row is not None else None


def reset(conn: Connection, campaign_id: int, *, last_id: int | None, last_date: date | None, now: datetime) -> None:
    """(Re)activation: the mark is "now" (the newest event id, today); what came before is not owed."""
    values = {"last_id": last_id, "last_date": last_date, "set_at": now, "ran_at": None}
    counters = {"events": 0, "created": 0, "too_late": 0}
    done = conn.execute(
        update(catchup_marks).where(catchup_marks.c.campaign_id == campaign_id).values(**values, **counters)
    )
    if done.rowcount == 0:
        conn.execute(insert(catchup_marks).values(campaign_id=campaign_id, **values, **counters))


def advance(
    conn: Connection,
    campaign_id: int,
    *,
    last_id: int | None = None,
    last_date: date | None = None,
    events: int = 0,
    created: int = 0,
    too_late: int = 0,
    now: datetime,
) -> None:
    """Move the mark forward (never back) once the messages it covers are stored, and add up what the run did."""
    c = catchup_marks.c
    values: dict[str, Any] = {
        "ran_at": now,
        "events": c.events + events,
        "created": c.created + created,
        "too_late": c.too_late + too_late,
    }
    if last_id is not None:
        values["last_id"] = case((or_(c.last_id.is_(None), c.last_id < last_id), last_id), else_=c.last_id)
    if last_date is not None:
        values["last_date"] = case((or_(c.last_date.is_(None), c.last_date < last_date), last_date), else_=c.last_date)
    conn.execute(update(catchup_marks).where(c.campaign_id == campaign_id).values(**values))


def advance_date(
    conn: Connection,
    campaign_id: int,
    *,
    last_date: date,
    last_id: int,
    events: int = 0,
    created: int = 0,
    too_late: int = 0,
    now: datetime,
) -> None:
    """A date-read mark (day, last id done on it) moved forward, never back; the run's counts added up."""
    advance(conn, campaign_id, events=events, created=created, too_late=too_late, now=now)
    c = catchup_marks.c
    further = or_(
        c.last_date.is_(None),
        c.last_date < last_date,
        and_(c.last_date == last_date, or_(c.last_id.is_(None), c.last_id < last_id)),
    )
    conn.execute(
        update(catchup_marks).where(c.campaign_id == campaign_id, further).values(last_date=last_date, last_id=last_id)
    )


def existing_keys(conn: Connection, campaign_id: int, keys: Collection[str]) -> set[str]:
    """Which of these dedup keys the campaign already has a message for."""
    wanted = list(keys)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            conn.execute(
                select(messages.c.dedup_key).where(
                    messages.c.campaign_id == campaign_id, messages.c.dedup_key.in_(chunk)
                )
            ).scalars()
        )
    return found


def prefix_counts(conn: Connection, campaign_id: int, prefixes: Collection[str]) -> Counter[str]:
    """How many keys of the campaign's messages each of these dedup-key prefixes ("loan_approval:4410:") starts.

    Prefixes that start none are absent. For rules where one event reaches several clients, whose keys
    end in each client's id. Prefixes of one length (the same fact, ids of as many digits) sort as
    their ids do, so one range of the (campaign, key) index holds every key they start: from the lowest
    prefix to the highest one ending in ";" (the character after ":"). A batch's events have ids close
    together, so the range holds little else, where a LIKE per prefix read every message of the
    campaign once per prefix. Each key found is checked against the prefixes, so a database whose
    collation orders text otherwise can make the job read an event again (its insert's dedup holds),
    never skip one.
    """
    by_length: dict[int, set[str]] = {}
    for prefix in prefixes:
        if not prefix.endswith(":"):
            raise ValueError(f"a dedup-key prefix ends in ':', not {prefix!r}")
        by_length.setdefault(len(prefix), set()).add(prefix)
    found: Counter[str] = Counter()
    for length, group in by_length.items():
        query = select(messages.c.dedup_key).where(
            messages.c.campaign_id == campaign_id,
            messages.c.dedup_key >= min(group),
            messages.c.dedup_key < max(group)[:-1] + ";",
        )
        found.update(key[:length] for key in conn.execute(query).scalars() if key[:length] in group)
    return found


def too_late_count(conn: Connection, campaign_id: int) -> int:
    """The campaign's messages stored Invalid because their event was too old (a hook's, an event's, the job's)."""
    query = select(func.count()).where(
        messages.c.campaign_id == campaign_id,
        messages.c.status == int(MessageStatus.INVALID),
        messages.c.reason.startswith(TOO_LATE, autoescape=True),
    )
    return int(conn.execute(query).scalar_one())
