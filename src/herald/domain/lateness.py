"""How late is too late for a triggered message: the campaign's limit, parsed and written, and the refusal's reason.

A receipt for a repayment made three days ago is worse than none, so a Triggered campaign says
how old an event may be when herald first sees it (a hook, an external event, the catch-up job).
An older event's message is stored INVALID with a reason saying when the event happened, how late
it was seen and the limit, under the dedup key its sendable message would have had: a hook that
arrives even later changes nothing.

The limit is whole minutes, written "24h", "90m", "3d" or "1d12h" (also "24 hours", "2 days").
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from herald.domain.campaign import DEFAULT_LATE_MINUTES
from herald.domain.times import local_text
from herald.errors import ValidationError

DEFAULT_MINUTES = DEFAULT_LATE_MINUTES
MIN_MINUTES = 1
MAX_MINUTES = 90 * 24 * 60
"""Ninety days: an event older than that is history, not news; a longer limit is a typo."""

_UNITS = {"d": 24 * 60, "h": 60, "m": 1}
_WORDS = {
    "d": "d", "day": "d", "days": "d",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
}  # fmt: skip
_PART = re.compile(r"\s*(\d{1,7})\s*([a-z]+)\s*")
_EXAMPLE = 'e.g. "24h", "90m", "3d" or "1d12h"'
FIELD = "tooLateAfter"
TOO_LATE = "Too late:"
"""How every such reason starts: what the campaign page counts."""

# (entity, action) of the event -> how the reason says it happened.
_HAPPENED: dict[tuple[str, str], str] = {
    ("LOAN", "REPAYMENT"): "the repayment was made",
    ("LOAN", "RECOVERYPAYMENT"): "the recovery payment was made",
    ("LOAN", "APPROVE"): "the loan was approved",
    ("LOAN", "REJECT"): "the loan was rejected",
    ("LOAN", "DISBURSE"): "the loan was disbursed",
    ("LOAN", "CLOSE"): "the loan was closed",
    ("CLIENT", "ACTIVATE"): "the client was activated",
    ("CLIENT", "REJECT"): "the client was rejected",
    ("CLIENT", "CREATE"): "the client was created",
    ("SAVINGSACCOUNT", "ACTIVATE"): "the savings account was activated",
    ("SAVINGSACCOUNT", "REJECT"): "the savings account was rejected",
    ("SAVINGSACCOUNT", "DEPOSIT"): "the deposit was made",
    ("SAVINGSACCOUNT", "WITHDRAWAL"): "the withdrawal was made",
}


def parse_limit(value: object) -> int:
    """The limit in minutes from text ("24h", "1d12h", "90 minutes") or a whole number of minutes.

    ValidationError (field tooLateAfter) for anything else, zero, negative, or over 90 days.
    """
    if isinstance(value, bool):
        raise ValidationError(f"Too late after must be a duration, {_EXAMPLE}; not {value!r}.", field=FIELD)
    if isinstance(value, int):
        minutes = value
    elif isinstance(value, str):
        minutes = _parse_text(value)
    else:
        raise ValidationError(f"Too late after must be a duration, {_EXAMPLE}; not {value!r:.40}.", field=FIELD)
    if minutes < 0:
        raise ValidationError(
            f"Too late after cannot be negative ({value!r:.40}); give a duration, {_EXAMPLE}.", field=FIELD
        )
    if minutes < MIN_MINUTES:
        raise ValidationError(
            f"Too late after must be at least 1 minute, not {value!r:.40}: it is how old an event may be"
            f" when herald first sees it ({_EXAMPLE}).",
            field=FIELD,
        )
    if minutes > MAX_MINUTES:
        raise ValidationError(
            f"Too late after is at most 90 days, not {limit_text(minutes)}: an older event is history ({_EXAMPLE}).",
            field=FIELD,
        )
    return minutes


def _parse_text(text: str) -> int:
    cleaned = text.strip().lower()
    if cleaned.startswith("-"):
        raise ValidationError(
            f"Too late after cannot be negative ({text.strip()!r:.40}); give a duration, {_EXAMPLE}.", field=FIELD
        )
    if cleaned.isdigit() and len(cleaned) <= 7:
        return int(cleaned)  # a bare number is minutes, as the API's integer form
    total, at = 0, 0
    while at < len(cleaned):
        found = _PART.match(cleaned, at)
        if found is None or found.group(2) not in _WORDS:
            raise ValidationError(
                f"Too late after {text.strip()!r:.40} is not a duration; write {_EXAMPLE}.", field=FIELD
            )
        total += int(found.group(1)) * _UNITS[_WORDS[found.group(2)]]
        at = found.end()
    if not cleaned:
        raise ValidationError(f"Too late after is empty; write a duration, {_EXAMPLE}.", field=FIELD)
    return total


def limit_code(minutes: int) -> str:
    """The limit as the form and the API write it: "24h", "3d", "36h", "90m", "1h30m" (parse_limit reads it back)."""
    if minutes >= 2 * 24 * 60 and minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    hours, mins = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{mins}m" if mins or not hours else "")


def limit_text(minutes: int) -> str:
    """The limit in words: "24 hours", "3 days", "90 minutes", "1 day 12 hours"."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days == 1 and not mins:  # "36 hours", "24 hours": how people say a receipt's deadline
        days, hours = 0, 24 + hours
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    return " ".join(f"{n:,} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n) or "0 minutes"


def age_text(age: timedelta) -> str:
    """How long ago, rounded down to its largest unit: "3 days", "5 hours", "12 minutes"."""
    seconds = max(int(age.total_seconds()), 0)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size or unit == "minute":
            n = seconds // size
            return f"{n:,} {unit}{'s' if n != 1 else ''}"
    raise AssertionError("unreachable")  # pragma: no cover


def happened(entity: str, action: str) -> str:
    """How a reason says the event happened ("the repayment was made"); a generic phrase for others."""
    return _HAPPENED.get((entity, action), f"the {entity.lower()} {action.lower()} event happened")


def too_late(
    *,
    entity: str,
    action: str,
    at: datetime,
    dated: bool,
    now: datetime,
    limit_minutes: int,
    zone: str,
) -> str | None:
    """The reason an event is too late to message, or None when it is in time.

    `at` is when it happened (UTC). `dated`: only its business date is known (`at` is that day's
    start in `zone`); it is too late only once the whole day lies further back than the limit,
    and the reason names the day, not a time nobody knows.
    """
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    latest = at
    if dated:
        day = at.astimezone(ZoneInfo(zone)).date()
        latest = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))
    if now - latest <= timedelta(minutes=limit_minutes):
        return None
    what = happened(entity, action)
    if dated:
        day_text = at.astimezone(ZoneInfo(zone)).strftime("%d %b %Y")
        return (
            f"{TOO_LATE} {what} on {day_text}, {age_text(now - at)} ago; this campaign sends nothing older than"
            f" {limit_text(limit_minutes)}"
        )
    return (
        f"{TOO_LATE} {what} {age_text(now - at)} ago ({local_text(at, zone)}); this campaign sends nothing older"
        f" than {limit_text(limit_minutes)}"
    )


def day_start(day: date, zone: str) -> datetime:
    """The UTC instant a business date starts in `zone`: `at` of an event known only by its date."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
