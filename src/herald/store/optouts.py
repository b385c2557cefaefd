"""The opt-out list: numbers that must never be messaged again, whatever the campaign."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from herald.domain.phones import PhoneNumber, normalize
from herald.domain.reports import InboundMessage
from herald.store.tables import opt_outs

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT-OUT", "ACHA", "SITISHA"}
)
"""Replies that mean "stop messaging me": the carriers' standard words, and Swahili ones (acha, sitisha)."""


def is_stop(text: str) -> bool:
    """Whether an inbound reply asks to stop: the first word, case and punctuation ignored."""
    words = text.strip().upper().split()
    return bool(words) and words[0].strip(".!,;:") in STOP_WORDS


def stop_requests(messages: Iterable[InboundMessage], default_region: str) -> list[str]:
    """The E.164 numbers of replies that ask to stop (a reply from an unreadable number is dropped)."""
    numbers = []
    for message in messages:
        if is_stop(message.text):
            number = normalize(message.from_number, default_region)
            if isinstance(number, PhoneNumber):
                numbers.append(number.e164)
    return numbers


def numbers(raw: Iterable[str], default_region: str) -> list[str]:
    """The E.164 form of numbers a provider says opted out (an unreadable one is dropped)."""
    found = []
    for text in raw:
        number = normalize(text, default_region)
        if isinstance(number, PhoneNumber):
            found.append(number.e164)
    return found


def add(conn: Connection, numbers: Iterable[str], *, source: str, detail: str | None, now: datetime) -> int:
    """Put numbers (E.164) on the list; numbers already there keep their first entry."""
    rows = [{"number": n, "source": source, "detail": detail, "created_at": now} for n in dict.fromkeys(numbers)]
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(opt_outs).on_conflict_do_nothing(index_elements=["number"])
        return len(conn.execute(stmt.returning(opt_outs.c.number), rows).all())
    stmt2 = sqlite.insert(opt_outs).on_conflict_do_nothing(index_elements=["number"])
    return len(conn.execute(stmt2.returning(opt_outs.c.number), rows).all())


def contains(conn: Connection, numbers: Iterable[str]) -> set[str]:
    """Which of these numbers are opted out."""
    wanted = list(dict.fromkeys(numbers))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found |= set(
            conn.execute(select(opt_outs.c.number).where(opt_outs.c.number.in_(wanted[start : start + 500]))).scalars()
        )
    return found


def all_numbers(conn: Connection) -> set[str]:
    return set(conn.execute(select(opt_outs.c.number)).scalars())


def remove(conn: Connection, number: str) -> bool:
    """Take a number (E.164) off the list; whether it was on it."""
    return bool(conn.execute(delete(opt_outs).where(opt_outs.c.number == number)).rowcount)


@dataclass(frozen=True)
class OptOut:
    """One number on the list: where it came from (a provider's STOP reply, ui, api, cli) and when."""

    number: str
    source: str
    detail: str | None
    created_at: datetime


def recent(conn: Connection, limit: int) -> list[OptOut]:
    """The newest entries first."""
    query = select(opt_outs).order_by(opt_outs.c.created_at.desc()).limit(limit)
    return [OptOut(r.number, r.source, r.detail, r.created_at) for r in conn.execute(query)]


def search(
    conn: Connection, *, digits: str | None, number: str | None, words: str | None, limit: int
) -> tuple[int, list[OptOut]]:
    """(how many entries match, the newest `limit` of them).

    `digits` matches anywhere in the number (for admins, who see numbers in full); `number` matches
    one E.164 number exactly (for everyone: it tells whether a number the caller already knows is on
    the list, and nothing about any other); `words` matches the source or the reason, any case.
    """
    conditions: list[ColumnElement[bool]] = []
    if digits:
        conditions.append(opt_outs.c.number.like(f"%{_escaped(digits)}%", escape="\\"))
    if number:
        conditions.append(opt_outs.c.number == number)
    if words:
        pattern = f"%{_escaped(words.lower())}%"
        conditions.append(
            or_(
                func.lower(opt_outs.c.source).like(pattern, escape="\\"),
                func.lower(opt_outs.c.detail).like(pattern, escape="\\"),
            )
        )
    total = conn.execute(select(func.count()).select_from(opt_outs).where(*conditions)).scalar_one()
    query = select(opt_outs).where(*conditions).order_by(opt_outs.c.created_at.desc(), opt_outs.c.number).limit(limit)
    return int(total), [OptOut(r.number, r.source, r.detail, r.created_at) for r in conn.execute(query)]


def _escaped(text: str) -> str:
    """`text` for a LIKE pattern, its own % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
