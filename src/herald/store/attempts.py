"""A message's earlier attempts: one line per failed attempt that another followed, kept in `messages.earlier_attempts`.

Most messages go out at the first attempt and never write here, so the send path's fast lanes stay as they
are; a message retried (a provider's 503, a timeout, a failover) gains one short line per attempt, at most
the retry policy's allowance. The latest attempt is the message row itself (provider, id, error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Text, bindparam, func, select

from herald.store.tables import messages

_FIELDS = 5  # when (ISO-8601 UTC), provider, error code, error text, "doubt" when the outcome was unknown


@dataclass(frozen=True)
class EarlierAttempt:
    at: datetime
    provider: str
    code: str
    text: str
    in_doubt: bool


def _clean(value: str | None, limit: int) -> str:
    """A field of a line: no tab or line break of its own (they separate fields and lines)."""
    return " ".join((value or "").split())[:limit]


def line(at: datetime, provider: str | None, code: str | None, text: str | None, in_doubt: bool) -> str:
    """The line an attempt adds, as `appended()` binds it."""
    fields = (at.isoformat(), _clean(provider, 60), _clean(code, 40), _clean(text, 300), "doubt" if in_doubt else "")
    return "\t".join(fields) + "\n"


def appended(parameter: str) -> ColumnElement[str]:
    """The column's value with the line bound as `parameter` added at its end, for an UPDATE's values."""
    return func.coalesce(messages.c.earlier_attempts, "") + bindparam(parameter, type_=Text)


def parse(text: str | None) -> list[EarlierAttempt]:
    """The attempts a column's value holds, oldest first; a line that does not read is skipped, never fatal."""
    found = []
    for raw in (text or "").splitlines():
        fields = raw.split("\t")
        if len(fields) != _FIELDS:
            continue
        try:
            at = datetime.fromisoformat(fields[0])
        except ValueError:
            continue
        found.append(EarlierAttempt(at, fields[1], fields[2], fields[3], fields[4] == "doubt"))
    return found


def earlier_attempts(conn: Connection, message_id: int) -> list[EarlierAttempt]:
    """Message `message_id`'s earlier attempts, oldest first (none for an unknown message)."""
    return parse(conn.execute(select(messages.c.earlier_attempts).where(messages.c.id == message_id)).scalar())
