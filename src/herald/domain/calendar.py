"""The business date: the date a rule calls "today", fixed by configuration or local to an office."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BusinessCalendar:
    """`fixed` (HERALD_BUSINESS_DATE) wins when set, as Fineract's own business date does; else the local date."""

    timezone: str  # the institution's, for offices without a zone of their own
    fixed: date | None = None

    def today(self, at: datetime, timezone: str | None = None) -> date:
        """The business date at instant `at` in `timezone` (the institution's when None)."""
        if self.fixed is not None:
            return self.fixed
        return at.astimezone(ZoneInfo(timezone or self.timezone)).date()
