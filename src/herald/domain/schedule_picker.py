"""The campaign form's schedule picker: daily, weekly on chosen days or monthly on a day, at a time, as an RRULE.

`build_rule` turns the picker's fields into the RRULE text herald stores (what the server does
with the posted form, so the picker needs no script); `read_rule` turns an RRULE back into the
picker's fields when the picker can say it exactly, and None otherwise (INTERVAL=2, BYSETPOS,
hourly ...), in which case the form shows the rule as written, in its "advanced" field.
The picker writes its time of day into the rule (BYHOUR, BYMINUTE), so the start date only says
from when; a rule that leaves the time (or the weekday, or the day of month) to its start is
read with the start's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from herald.errors import RecurrenceError

KINDS = ("daily", "weekly", "monthly")
DAYS = (("MO", "Mon"), ("TU", "Tue"), ("WE", "Wed"), ("TH", "Thu"), ("FR", "Fri"), ("SA", "Sat"), ("SU", "Sun"))
_CODES = tuple(code for code, _ in DAYS)
_FREQ_OF = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY"}


@dataclass(frozen=True)
class Pick:
    """What the picker says: how often, on which weekdays (weekly) or day of the month (monthly), at what time."""

    kind: str = "daily"
    at: time = time(8, 0)
    days: tuple[str, ...] = ()
    month_day: int = 1


def pick_of(kind: str, at: str, days: list[str], month_day: str) -> Pick:
    """The picker's posted fields, checked; RecurrenceError naming the field that is wrong and how to fix it."""
    if kind not in KINDS:
        raise RecurrenceError(f"Repeat {kind!r} is not one of: daily, weekly, monthly.", field="schedule.kind")
    try:
        hour, minute = (int(part) for part in at.split(":"))
        moment = time(hour, minute)
    except ValueError:
        raise RecurrenceError(
            f"The time {at!r} is not a time of day.", field="schedule.at", hint="Write it as 08:30 (24-hour clock)."
        ) from None
    wanted = tuple(code for code in _CODES if code in {day.upper() for day in days})
    if kind == "weekly" and not wanted:
        raise RecurrenceError("A weekly schedule needs at least one day.", field="schedule.days", hint="Tick a day.")
    day = 1
    if kind == "monthly":
        if not (month_day.isascii() and month_day.isdigit() and 1 <= int(month_day) <= 31):
            raise RecurrenceError(
                f"The day of the month {month_day!r} must be a number from 1 to 31.", field="schedule.monthDay"
            )
        day = int(month_day)
    return Pick(kind, moment, wanted if kind == "weekly" else (), day)


def build_rule(pick: Pick) -> str:
    """The RRULE of a pick: "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=8;BYMINUTE=30"."""
    parts = [f"FREQ={_FREQ_OF[pick.kind]}"]
    if pick.kind == "weekly":
        parts.append("BYDAY=" + ",".join(pick.days))
    elif pick.kind == "monthly":
        parts.append(f"BYMONTHDAY={pick.month_day}")
    parts += [f"BYHOUR={pick.at.hour}", f"BYMINUTE={pick.at.minute}"]
    return ";".join(parts)


def _number(text: str, low: int, high: int) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and low <= int(text) <= high else None


def read_rule(rule: str, start: datetime | None = None) -> Pick | None:
    """The pick that makes exactly `rule`'s occurrences (parts the rule leaves out taken from `start`), or None.

    None: the picker cannot express it (an interval, several times a day, BYSETPOS ...), or it
    leaves its time, weekday or day of month to a start that is not given.
    """
    text = rule.strip()
    if text[:6].upper() == "RRULE:":
        text = text[6:]
    parts: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(";"))):
        name, equals, value = item.partition("=")
        if not equals or name.upper() in parts:
            return None
        parts[name.strip().upper()] = value.strip().upper()
    freq = parts.pop("FREQ", None)
    kind = next((k for k, name in _FREQ_OF.items() if name == freq), None)
    second = parts.pop("BYSECOND", str(start.second) if start else "0")
    if kind is None or parts.pop("INTERVAL", "1") != "1" or _number(second, 0, 0) is None:
        return None
    hour = _number(parts.pop("BYHOUR", str(start.hour) if start else ""), 0, 23)
    minute = _number(parts.pop("BYMINUTE", str(start.minute) if start else ""), 0, 59)
    days: tuple[str, ...] = ()
    month_day = 1
    if kind == "weekly":
        listed = parts.pop("BYDAY", _CODES[start.weekday()] if start else "").split(",")
        if not listed or any(day not in _CODES for day in listed) or len(set(listed)) != len(listed):
            return None
        days = tuple(code for code in _CODES if code in listed)
    elif kind == "monthly":
        found = _number(parts.pop("BYMONTHDAY", str(start.day) if start else ""), 1, 31)
        if found is None:
            return None
        month_day = found
    if parts or hour is None or minute is None:
        return None  # a part the picker has no field for (BYDAY on a daily rule, COUNT, UNTIL ...)
    return Pick(kind, time(hour, minute), days, month_day)


def picker_says(rule: str) -> bool:
    """True when `rule` is exactly what the picker writes for some pick (the picker can show it unchanged)."""
    pick = read_rule(rule)
    return pick is not None and build_rule(pick) == rule.strip()


def zone_groups(preferred: list[str], available: set[str]) -> list[tuple[str, list[str]]]:
    """The time-zone list of the picker: the offices' zones first, then Africa/*, then every other zone.

    `preferred` keeps its order (the institution's zone, then its offices'); a preferred zone
    that `available` lacks is still listed, so a stored value is never silently replaced.
    """
    first = list(dict.fromkeys(z for z in preferred if z))
    rest = sorted(available - set(first))
    africa = [z for z in rest if z.startswith("Africa/")]
    others = [z for z in rest if not z.startswith("Africa/")]
    groups = (("Your offices", first), ("Africa", africa), ("Other", others))
    return [(label, zones) for label, zones in groups if zones]
