"""Recurrence of Scheduled campaigns: an iCal RRULE in local wall-clock time, turned into UTC instants.

A campaign stores the RRULE text as Fineract does ("FREQ=DAILY;INTERVAL=1", sometimes prefixed
"RRULE:"), a start that is local wall-clock time, and an IANA time zone. Occurrences are generated
by `dateutil.rrule` in local time, so "09:00" stays 09:00 across daylight-saving changes, and only
then converted to UTC. A local time that does not exist (skipped by a spring-forward change) is
shifted by the gap (02:30 becomes 03:30); an ambiguous one takes its first instance.

Efficiency: `dateutil`'s `before()`/`between()` iterate from DTSTART, so a minutely rule started
a year ago would walk half a million occurrences. Instead the rule's implicit parts (the time of
day, weekday, day of month taken from DTSTART) are written out explicitly, and the rule is then
re-started a whole number of INTERVAL periods before the time of interest, which yields exactly
the same occurrences from there on (not done for COUNT rules, whose count runs from the start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.parser import ParserError
from dateutil.parser import parse as parse_date
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from herald.errors import RecurrenceError

# Larger than any UTC-offset change, so a DST shift cannot move an occurrence across a window edge.
_MARGIN = timedelta(hours=3)
_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = dict(
    zip(_DAY_CODES, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
_UNTIL_UTC = re.compile(r"^(\d{8}T\d{6})Z$")


def _split(rule: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        name, _, value = item.partition("=")
        parts[name.strip().upper()] = value.strip().upper()
    return parts


def _join(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def _explicit(parts: dict[str, str], start: datetime) -> dict[str, str]:
    """`parts` with the values RFC 5545 takes from DTSTART written out, so DTSTART can move."""
    out = dict(parts)
    freq = _FREQS.index(out["FREQ"])
    if not {"BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYEASTER"} & out.keys():
        if out["FREQ"] == "YEARLY":
            out.setdefault("BYMONTH", str(start.month))
            out["BYMONTHDAY"] = str(start.day)
        elif out["FREQ"] == "MONTHLY":
            out["BYMONTHDAY"] = str(start.day)
        elif out["FREQ"] == "WEEKLY":
            out["BYDAY"] = _DAY_CODES[start.weekday()]
    if freq < _FREQS.index("HOURLY"):
        out.setdefault("BYHOUR", str(start.hour))
    if freq < _FREQS.index("MINUTELY"):
        out.setdefault("BYMINUTE", str(start.minute))
    if freq < _FREQS.index("SECONDLY"):
        out.setdefault("BYSECOND", str(start.second))
    return out


def _dates_possible(parts: dict[str, str], start: datetime) -> bool:
    """False when the date parts can never match (BYMONTH=2;BYMONTHDAY=30).

    dateutil searches an impossible rule to year 9999 and only gives up there, which takes
    seconds for a MINUTELY rule; the same date parts under FREQ=YEARLY fail in a fraction of that.
    Ordinal weekdays and BYSETPOS mean something else under YEARLY, so such rules skip this check.
    """
    dated: dict[str, str] = {
        name: parts[name] for name in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY") if name in parts
    }
    if not dated or "BYSETPOS" in parts or any(not day.isalpha() for day in dated.get("BYDAY", "MO").split(",")):
        return True
    yearly = rrulestr(_join({"FREQ": "YEARLY", **dated}), dtstart=start.replace(hour=0, minute=0, second=0))
    return next(iter(yearly), None) is not None


def _period(freq: str, interval: int, count: int) -> relativedelta:
    n = interval * count
    if freq == "YEARLY":
        return relativedelta(years=n)
    if freq == "MONTHLY":
        return relativedelta(months=n)
    if freq == "WEEKLY":
        return relativedelta(weeks=n)
    if freq == "DAILY":
        return relativedelta(days=n)
    if freq == "HOURLY":
        return relativedelta(hours=n)
    if freq == "MINUTELY":
        return relativedelta(minutes=n)
    return relativedelta(seconds=n)


def _periods_between(freq: str, interval: int, start: datetime, end: datetime) -> int:
    """Whole INTERVAL periods from `start` to `end` (a lower bound is enough)."""
    if freq == "YEARLY":
        units = end.year - start.year
    elif freq == "MONTHLY":
        units = (end.year - start.year) * 12 + end.month - start.month
    else:
        seconds = {"WEEKLY": 604800, "DAILY": 86400, "HOURLY": 3600, "MINUTELY": 60, "SECONDLY": 1}[freq]
        units = int((end - start).total_seconds()) // seconds
    return units // interval


@dataclass(frozen=True)
class Recurrence:
    """When a Scheduled campaign runs: `rule` (RRULE text) from `start` (naive local) in `timezone`."""

    rule: str
    start: datetime
    timezone: str
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _parts: dict[str, str] = field(init=False, repr=False, compare=False)
    _base: rrule = field(init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, rule: str, start: datetime | str, timezone: str) -> Recurrence:
        """Validate Fineract-style input; an aware `start` is converted to `timezone`'s wall clock."""
        try:
            zone = ZoneInfo(timezone.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
            raise RecurrenceError(
                f"Unknown time zone {timezone!r}.",
                field="timezone",
                hint="Use an IANA name such as Africa/Nairobi or Europe/London.",
            ) from None
        if isinstance(start, str):
            start = _parse_start(start)
        if start.tzinfo is not None:
            start = start.astimezone(zone).replace(tzinfo=None)
        text = rule.strip()
        if text[:6].upper() == "RRULE:":
            text = text[6:].strip()
        return cls(text, start.replace(microsecond=0), timezone.strip())

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
            raise RecurrenceError(f"Unknown time zone {self.timezone!r}.", field="timezone") from None
        if self.start.tzinfo is not None:
            raise RecurrenceError("The start must be local wall-clock time.", field="recurrenceStartDate")
        parts = self._checked_parts(zone)
        base = self._build(parts, self.start)
        if not _dates_possible(parts, self.start) or next(iter(base), None) is None:
            raise RecurrenceError(
                f"The recurrence {self.rule!r} has no occurrence after its start {self.start:%Y-%m-%d %H:%M}.",
                field="recurrence",
                hint="Check COUNT, UNTIL and the BY... parts, or move the start date.",
            )
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_base", base)

    def _checked_parts(self, zone: ZoneInfo) -> dict[str, str]:
        def refuse(reason: str) -> RecurrenceError:
            return RecurrenceError(
                f"The recurrence {self.rule!r} does not parse: {reason}.",
                field="recurrence",
                hint="Write an iCal RRULE such as FREQ=DAILY;INTERVAL=1 or FREQ=WEEKLY;BYDAY=MO,TH.",
            )

        if not self.rule or "\n" in self.rule or ":" in self.rule:
            raise refuse("expected one RRULE body (the start date is given separately)")
        parts = _split(self.rule)
        until = _UNTIL_UTC.match(parts.get("UNTIL", ""))
        if until:  # RFC 5545 UNTIL in UTC; the rule runs on the local wall clock
            moment = datetime.strptime(until.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            parts["UNTIL"] = moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")
        try:
            rrulestr(_join(parts), dtstart=self.start)
        except (ValueError, TypeError, KeyError) as error:
            raise refuse(str(error)) from None
        if parts.get("FREQ") not in _FREQS:
            raise refuse("FREQ is missing")
        if "INTERVAL" in parts and int(parts["INTERVAL"]) < 1:
            raise refuse("INTERVAL must be 1 or more")
        return _explicit(parts, self.start)

    @staticmethod
    def _build(parts: dict[str, str], dtstart: datetime) -> rrule:
        built = rrulestr(_join(parts), dtstart=dtstart)
        assert isinstance(built, rrule)
        return built

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("expected a timezone-aware UTC datetime")
        return moment.astimezone(self._zone).replace(tzinfo=None)

    def _utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self._zone).astimezone(UTC)

    def _rule_from(self, local: datetime) -> rrule:
        """A rule with the same occurrences as this one at or after `local` (earlier ones may be lost)."""
        if "COUNT" in self._parts or local <= self.start:
            return self._base
        freq, interval = self._parts["FREQ"], int(self._parts.get("INTERVAL", "1"))
        periods = _periods_between(freq, interval, self.start, local) - 1
        if periods <= 0:
            return self._base
        return self._build(self._parts, self.start + _period(freq, interval, periods))

    def occurrences_after(self, after_utc: datetime, limit: int) -> list[datetime]:
        """The next `limit` occurrences strictly after `after_utc`, as aware UTC datetimes, in order."""
        if limit <= 0:
            return []
        local = self._local(after_utc) - _MARGIN
        found: set[datetime] = set()
        cutoff: datetime | None = None
        for occurrence in self._rule_from(local).xafter(local, inc=True):
            if cutoff is not None and occurrence > cutoff:
                break
            moment = self._utc(occurrence)
            if moment > after_utc:
                found.add(moment)
                if len(found) == limit and cutoff is None:
                    cutoff = occurrence + _MARGIN  # later wall times can still map earlier around DST
        return sorted(found)[:limit]

    def count_between(self, after_utc: datetime, until_utc: datetime, cap: int = 100_000) -> int:
        """How many occurrences fall after `after_utc` and at or before `until_utc` (counted up to `cap`)."""
        local, end = self._local(after_utc) - _MARGIN, self._local(until_utc) + _MARGIN
        count = 0
        for occurrence in self._rule_from(local).xafter(local, inc=True):
            if occurrence > end or count >= cap:
                break
            count += after_utc < self._utc(occurrence) <= until_utc
        return count

    def next_after(self, after_utc: datetime) -> datetime | None:
        """The first occurrence strictly after `after_utc`, or None when the rule has ended."""
        upcoming = self.occurrences_after(after_utc, 1)
        return upcoming[0] if upcoming else None

    def due(self, last_done_utc: datetime | None, now_utc: datetime) -> datetime | None:
        """The latest occurrence at or before `now_utc` not yet done (after `last_done_utc`), or None.

        A worker that was down across several occurrences gets only the latest: a missed daily
        campaign runs once, not once per missed day.
        """
        local_now = self._local(now_utc)
        if "UNTIL" in self._parts:  # an ended rule: search back from its end, not from now
            local_now = min(local_now, datetime.strptime(self._parts["UNTIL"][:15], "%Y%m%dT%H%M%S"))
        freq, interval = self._parts["FREQ"], int(self._parts.get("INTERVAL", "1"))
        periods = 2
        while True:
            local_from = local_now - _MARGIN - _period(freq, interval, periods)
            rule = self._rule_from(local_from)
            window = rule.between(self.start if rule is self._base else local_from, local_now + _MARGIN, inc=True)
            passed = [moment for moment in map(self._utc, window) if moment <= now_utc]
            if passed or rule is self._base:
                break
            periods *= 8  # sparse rule (Feb 29, BYSETPOS ...): look further back
        if not passed:
            return None
        latest = max(passed)
        if last_done_utc is not None and latest <= last_done_utc:
            return None
        return latest

    def describe(self) -> str:
        """Short English text such as "daily at 08:00 (Africa/Nairobi)"; the rule text if unusual."""
        parts, start = self._parts, self.start
        interval = int(parts.get("INTERVAL", "1"))
        extra = set(parts) - {"FREQ", "INTERVAL", "BYHOUR", "BYMINUTE", "BYSECOND", "BYDAY", "BYMONTHDAY"}
        extra -= {"BYMONTH"} if parts["FREQ"] == "YEARLY" else set()
        hour, minute = parts.get("BYHOUR", str(start.hour)), parts.get("BYMINUTE", str(start.minute))
        days = parts.get("BYDAY", "").split(",")
        if extra or not (hour + minute).isdigit() or parts.get("BYSECOND", "0") != "0":
            return f"{self.rule} ({self.timezone})"
        at = f"at {int(hour):02d}:{int(minute):02d}"
        every = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
        freq = parts["FREQ"]
        if freq in ("HOURLY", "MINUTELY"):
            unit = "hour" if freq == "HOURLY" else "minute"
            text = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
            if freq == "HOURLY":
                text += f" at :{int(minute):02d}"
        elif freq == "SECONDLY":
            return f"{self.rule} ({self.timezone})"
        else:
            names = {"DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "YEARLY": "yearly"}
            text = names[freq] if interval == 1 else f"every {interval} {every[freq]}s"
            if (freq == "DAILY" and "BYDAY" in parts) or freq == "WEEKLY":
                if not all(day in _DAY_NAMES for day in days):
                    return f"{self.rule} ({self.timezone})"
                text += " on " + ", ".join(_DAY_NAMES[day] for day in days)
            elif freq == "MONTHLY":
                if "BYDAY" in parts or not parts["BYMONTHDAY"].isdigit():
                    return f"{self.rule} ({self.timezone})"
                text += f" on day {parts['BYMONTHDAY']}"
            elif freq == "YEARLY":
                if "BYDAY" in parts or not (parts["BYMONTHDAY"] + parts["BYMONTH"]).isdigit():
                    return f"{self.rule} ({self.timezone})"
                month = datetime(2000, int(parts["BYMONTH"]), 1).strftime("%B")
                text += f" on {int(parts['BYMONTHDAY'])} {month}"
            text += f" {at}"
        return f"{text} ({self.timezone})"


def _parse_start(text: str) -> datetime:
    """ISO 8601, or Fineract's "dd MMMM yyyy HH:mm" (day first)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        return parse_date(text, dayfirst=True)
    except (ParserError, ValueError, OverflowError):
        raise RecurrenceError(
            f"The start date {text!r} is not a date and time.",
            field="recurrenceStartDate",
            hint="Use ISO 8601 local time, e.g. 2025-05-12T08:00:00.",
        ) from None
