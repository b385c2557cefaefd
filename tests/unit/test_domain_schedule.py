"""Recurrences of Scheduled campaigns: RRULE in local wall-clock time, occurrences and due runs in UTC."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from herald.domain.schedule import Recurrence
from herald.errors import RecurrenceError

NAIROBI = "Africa/Nairobi"  # UTC+3, no DST


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_fineract_rule_with_rrule_prefix_parses() -> None:
    recurrence = Recurrence.parse("RRULE:FREQ=DAILY;INTERVAL=1", "2025-01-01T08:00", NAIROBI)
    assert recurrence.rule == "FREQ=DAILY;INTERVAL=1"
    assert recurrence.start == datetime(2025, 1, 1, 8, 0)
    assert recurrence.timezone == NAIROBI


def test_start_may_be_fineract_day_first_text() -> None:
    assert Recurrence.parse("FREQ=DAILY", "12 May 2025 08:00", NAIROBI).start == datetime(2025, 5, 12, 8, 0)


def test_aware_start_is_converted_to_local_wall_clock() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", utc(2025, 1, 1, 5, 0), NAIROBI)
    assert recurrence.start == datetime(2025, 1, 1, 8, 0)


@pytest.mark.parametrize(
    ("rule", "start", "zone", "field", "fragment"),
    [
        ("FREQ=FORTNIGHTLY", "2025-01-01T08:00", NAIROBI, "recurrence", "invalid 'FREQ': FORTNIGHTLY"),
        ("every day", "2025-01-01T08:00", NAIROBI, "recurrence", "does not parse"),
        ("", "2025-01-01T08:00", NAIROBI, "recurrence", "does not parse"),
        ("FREQ=DAILY;INTERVAL=0", "2025-01-01T08:00", NAIROBI, "recurrence", "INTERVAL"),
        ("DTSTART:20250101T080000\nRRULE:FREQ=DAILY", "2025-01-01T08:00", NAIROBI, "recurrence", "RRULE body"),
        ("FREQ=DAILY", "2025-01-01T08:00", "Africa/Atlantis", "timezone", "Africa/Atlantis"),
        ("FREQ=DAILY", "2025-01-01T08:00", "../etc/passwd", "timezone", "Unknown time zone"),
        ("FREQ=DAILY", "next tuesday-ish", NAIROBI, "recurrenceStartDate", "next tuesday-ish"),
        ("FREQ=DAILY;COUNT=0", "2025-01-01T08:00", NAIROBI, "recurrence", "no occurrence"),
        ("FREQ=DAILY;UNTIL=20241231T000000", "2025-01-01T08:00", NAIROBI, "recurrence", "no occurrence"),
        ("FREQ=DAILY;UNTIL=20241231T000000Z", "2025-01-01T08:00", NAIROBI, "recurrence", "no occurrence"),
        ("FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30", "2025-01-01T08:00", NAIROBI, "recurrence", "no occurrence"),
    ],
)
def test_bad_input_raises_recurrence_error_naming_the_field(
    rule: str, start: str, zone: str, field: str, fragment: str
) -> None:
    began = time.perf_counter()
    with pytest.raises(RecurrenceError) as caught:
        Recurrence.parse(rule, start, zone)
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert time.perf_counter() - began < 2  # an impossible rule is not searched to year 9999


def test_until_in_utc_is_honoured_on_the_local_clock() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY;UNTIL=20250103T050000Z", "2025-01-01T08:00", NAIROBI)
    assert recurrence.occurrences_after(utc(2024, 1, 1), 10) == [
        utc(2025, 1, 1, 5),
        utc(2025, 1, 2, 5),
        utc(2025, 1, 3, 5),
    ]


def test_occurrences_after_are_utc_strictly_after_and_in_order() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", "2025-01-01T08:00", NAIROBI)
    assert recurrence.occurrences_after(utc(2025, 3, 1, 5, 0), 3) == [
        utc(2025, 3, 2, 5),
        utc(2025, 3, 3, 5),
        utc(2025, 3, 4, 5),
    ]
    assert recurrence.occurrences_after(utc(2024, 6, 1), 1) == [utc(2025, 1, 1, 5)]
    assert recurrence.occurrences_after(utc(2025, 3, 1), 0) == []


def test_next_after_gives_the_next_occurrence_or_none_when_ended() -> None:
    recurrence = Recurrence.parse("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3", "2025-05-12T08:30", NAIROBI)
    assert recurrence.next_after(utc(2025, 5, 12, 5, 30)) == utc(2025, 5, 15, 5, 30)
    assert recurrence.next_after(utc(2025, 5, 19, 5, 30)) is None


def test_daylight_saving_keeps_nine_oclock_local() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", "2025-03-25T09:00", "Europe/London")
    got = recurrence.occurrences_after(utc(2025, 3, 28), 4)
    assert got == [utc(2025, 3, 28, 9), utc(2025, 3, 29, 9), utc(2025, 3, 30, 8), utc(2025, 3, 31, 8)]
    london = ZoneInfo("Europe/London")
    assert {moment.astimezone(london).hour for moment in got} == {9}
    autumn = recurrence.occurrences_after(utc(2025, 10, 25), 2)
    assert autumn == [utc(2025, 10, 25, 8), utc(2025, 10, 26, 9)]


def test_skipped_local_time_is_shifted_by_the_gap() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", "2025-03-29T01:30", "Europe/London")
    # 01:30 does not exist on 30 March 2025; it runs at 02:30 BST (01:30 UTC), once.
    assert recurrence.occurrences_after(utc(2025, 3, 29, 12), 2) == [utc(2025, 3, 30, 1, 30), utc(2025, 3, 31, 0, 30)]


def test_hourly_rule_across_spring_forward_stays_in_order_without_duplicates() -> None:
    recurrence = Recurrence.parse("FREQ=MINUTELY;INTERVAL=30", "2025-03-30T00:00", "Europe/London")
    got = recurrence.occurrences_after(utc(2025, 3, 29, 23, 59), 6)
    assert got == sorted(set(got))
    assert got[0] == utc(2025, 3, 30, 0, 0)
    assert len(got) == 6


def test_due_runs_a_missed_daily_occurrence_once_the_latest() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", "2025-01-01T08:00", NAIROBI)
    last_done = utc(2025, 3, 1, 5, 0)
    now = utc(2025, 3, 4, 6, 0)  # worker was down for three days
    assert recurrence.due(last_done, now) == utc(2025, 3, 4, 5, 0)
    assert recurrence.due(utc(2025, 3, 4, 5, 0), now) is None


def test_due_includes_an_occurrence_exactly_at_now() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", "2025-01-01T08:00", NAIROBI)
    assert recurrence.due(utc(2025, 3, 3, 5), utc(2025, 3, 4, 5)) == utc(2025, 3, 4, 5)
    assert recurrence.due(utc(2025, 3, 3, 5), utc(2025, 3, 4, 4, 59)) is None


def test_due_before_start_is_none_and_first_run_counts_from_start() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", "2025-01-01T08:00", NAIROBI)
    assert recurrence.due(None, utc(2025, 1, 1, 4, 59)) is None
    assert recurrence.due(None, utc(2025, 1, 1, 5, 0)) == utc(2025, 1, 1, 5, 0)
    assert recurrence.due(None, utc(2025, 2, 1, 12)) == utc(2025, 2, 1, 5, 0)


def test_due_finds_the_last_occurrence_of_an_ended_rule() -> None:
    recurrence = Recurrence.parse("FREQ=MINUTELY;UNTIL=20250102T000000", "2024-01-01T00:00", "UTC")
    assert recurrence.due(utc(2024, 12, 31), utc(2025, 6, 1)) == utc(2025, 1, 2)


def test_due_finds_a_sparse_yearly_occurrence_years_back() -> None:
    recurrence = Recurrence.parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "2000-02-29T09:00", "UTC")
    assert recurrence.due(None, utc(2027, 1, 1)) == utc(2024, 2, 29, 9)


def test_due_is_fast_for_a_minutely_rule_down_for_a_month_after_a_year() -> None:
    recurrence = Recurrence.parse("FREQ=MINUTELY", "2024-01-01T00:00", "Europe/London")
    began = time.perf_counter()
    assert recurrence.due(utc(2025, 5, 1), utc(2025, 6, 1, 12, 0, 30)) == utc(2025, 6, 1, 12, 0)
    assert recurrence.occurrences_after(utc(2025, 6, 1, 12, 0, 30), 2) == [
        utc(2025, 6, 1, 12, 1),
        utc(2025, 6, 1, 12, 2),
    ]
    # Walking every minute of the year would take seconds; this bound is twenty times what it takes
    # on a busy machine, so it fails on the walk, not on a slow CI.
    assert time.perf_counter() - began < 1.0


_RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=WEEKLY;BYDAY=MO,FR;WKST=SU;INTERVAL=2",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;INTERVAL=5",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY;INTERVAL=2",
    "FREQ=HOURLY;INTERVAL=7",
    "FREQ=HOURLY;BYHOUR=9,17",
    "FREQ=MINUTELY;INTERVAL=45",
    "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=15",
    "FREQ=DAILY;UNTIL=20300101T000000",
]


@pytest.mark.parametrize("rule", _RULES)
def test_occurrences_match_plain_dateutil_from_the_original_start(rule: str) -> None:
    rng = random.Random(rule)
    start = datetime(2023, 1, 31, 8, 45)
    recurrence = Recurrence.parse(rule, start, "UTC")
    reference = rrulestr(rule, dtstart=start)
    for _ in range(15):
        days = 400 if "HOURLY" in rule or "MINUTELY" in rule else 4 * 365  # the reference walks from start
        after = datetime(2023, 1, 1) + timedelta(minutes=rng.randrange(days * 24 * 60))
        expected = [moment.replace(tzinfo=UTC) for moment in reference.xafter(after, count=4)]
        assert recurrence.occurrences_after(after.replace(tzinfo=UTC), 4) == expected, after
        latest = reference.before(after, inc=True)
        assert recurrence.due(None, after.replace(tzinfo=UTC)) == (latest and latest.replace(tzinfo=UTC))


def test_naive_instants_are_refused() -> None:
    recurrence = Recurrence.parse("FREQ=DAILY", "2025-01-01T08:00", NAIROBI)
    with pytest.raises(ValueError, match="timezone-aware"):
        recurrence.occurrences_after(datetime(2025, 1, 1), 1)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("FREQ=DAILY;INTERVAL=1", "daily at 08:30 (Africa/Nairobi)"),
        ("FREQ=DAILY;INTERVAL=2", "every 2 days at 08:30 (Africa/Nairobi)"),
        ("FREQ=DAILY;BYHOUR=18;BYMINUTE=0", "daily at 18:00 (Africa/Nairobi)"),
        ("FREQ=WEEKLY", "weekly on Monday at 08:30 (Africa/Nairobi)"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", "every 2 weeks on Monday, Thursday at 08:30 (Africa/Nairobi)"),
        ("FREQ=MONTHLY", "monthly on day 12 at 08:30 (Africa/Nairobi)"),
        ("FREQ=YEARLY", "yearly on 12 May at 08:30 (Africa/Nairobi)"),
        ("FREQ=HOURLY;INTERVAL=3", "every 3 hours at :30 (Africa/Nairobi)"),
        ("FREQ=MINUTELY;INTERVAL=15", "every 15 minutes (Africa/Nairobi)"),
        ("FREQ=MONTHLY;BYDAY=1MO", "FREQ=MONTHLY;BYDAY=1MO (Africa/Nairobi)"),
        ("FREQ=DAILY;COUNT=3", "FREQ=DAILY;COUNT=3 (Africa/Nairobi)"),
    ],
)
def test_describe_gives_short_english_or_falls_back_to_the_rule(rule: str, text: str) -> None:
    assert Recurrence.parse(rule, "2025-05-12T08:30", NAIROBI).describe() == text
