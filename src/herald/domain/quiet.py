"""Quiet hours: the local times of day when nobody should receive a campaign message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """A daily window [start, end) in local time; it may run over midnight (21:00-07:30)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        try:
            first, second = (part.strip() for part in text.split("-"))
            start, end = time.fromisoformat(first), time.fromisoformat(second)
        except ValueError:
            raise ValueError(f"quiet hours {text!r} must look like 21:00-07:30") from None
        if start == end:
            raise ValueError("quiet hours must have different start and end times")
        return cls(start, end)

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def opens_after(self, instant_utc: datetime, timezone: str) -> datetime | None:
        """When sending may resume for someone in `timezone`, or None if `instant_utc` is not quiet."""
        zone = ZoneInfo(timezone)
        local = instant_utc.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return None
        opening = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if opening <= local:
            opening += timedelta(days=1)
        # Rebuild in the zone so a DST change between now and the opening is honoured.
        naive = opening.replace(tzinfo=None)
        return naive.replace(tzinfo=zone).astimezone(instant_utc.tzinfo)
