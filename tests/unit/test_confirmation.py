"""Which schedules message an audience more than daily, and what a confirmation code is bound to."""

from __future__ import annotations

from datetime import UTC, datetime

from herald.domain.confirmation import OCCURRENCES_LOOKED_AT, busiest_day, confirmation_code, confirmed
from herald.domain.schedule import Recurrence

AFTER = datetime(2026, 3, 20, tzinfo=UTC)  # the week before Europe's clocks go forward


def busy(rule: str, timezone: str = "Africa/Nairobi") -> str | None:
    recurrence = Recurrence.parse(rule, "2026-03-01T08:00", timezone)
    found = busiest_day(recurrence.occurrences_after(AFTER, OCCURRENCES_LOOKED_AT), timezone)
    return None if found is None else found.sentence(timezone)


def test_twice_a_day_hourly_and_twice_on_mondays_are_more_than_daily() -> None:
    assert busy("FREQ=DAILY;BYHOUR=8,17;BYMINUTE=0") == (
        "This schedule runs 2 times on Fri 20 Mar 2026 (08:00, 17:00 Africa/Nairobi): more often than daily, "
        "so the same clients may get this message several times a day."
    )
    hourly = busy("FREQ=HOURLY;BYMINUTE=0")
    assert hourly and "runs 20 times on Fri 20 Mar 2026 (04:00, 05:00, 06:00, 07:00, ... Africa/Nairobi)" in hourly
    assert busy("FREQ=WEEKLY;BYDAY=MO;BYHOUR=8,9;BYMINUTE=0")  # only Mondays, but twice then


def test_daily_weekly_and_monthly_runs_are_not_even_across_a_clock_change() -> None:
    assert busy("FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "Europe/London") is None  # 23 hours apart on 29 March
    assert busy("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", "Europe/London") is None  # 01:30 does not exist that day
    assert busy("FREQ=WEEKLY;BYDAY=MO,TU,WE;BYHOUR=8;BYMINUTE=0") is None
    assert busy("FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=8;BYMINUTE=0") is None


def test_a_confirmation_code_holds_only_for_its_text_and_its_session() -> None:
    code = confirmation_code("session-a", "activate\x1f7")
    assert confirmed("session-a", "activate\x1f7", code)
    assert not confirmed("session-b", "activate\x1f7", code)  # another session's confirmation
    assert not confirmed("session-a", "reactivate\x1f7", code)  # another action, or the campaign changed
    assert not confirmed("session-a", "activate\x1f7", None) and not confirmed("session-a", "activate\x1f7", "")
