"""The schedule picker's RRULE builder and reader: what the form posts becomes the rule, and a rule reads back."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from herald.domain.schedule import Recurrence
from herald.domain.schedule_picker import Pick, build_rule, pick_of, picker_says, read_rule, zone_groups
from herald.errors import RecurrenceError

PICKS = [
    Pick("daily", time(8, 0)),
    Pick("daily", time(0, 5)),
    Pick("weekly", time(9, 30), ("MO", "TH")),
    Pick("weekly", time(23, 59), ("MO", "TU", "WE", "TH", "FR", "SA", "SU")),
    Pick("monthly", time(7, 15), (), 1),
    Pick("monthly", time(18, 0), (), 31),
]


def test_each_kind_writes_its_rrule() -> None:
    assert build_rule(Pick("daily", time(8, 0))) == "FREQ=DAILY;BYHOUR=8;BYMINUTE=0"
    assert build_rule(Pick("weekly", time(9, 30), ("MO", "TH"))) == "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=30"
    assert build_rule(Pick("monthly", time(7, 15), (), 15)) == "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=7;BYMINUTE=15"


@pytest.mark.parametrize("pick", PICKS, ids=build_rule)
def test_a_picked_rule_reads_back_as_the_same_pick(pick: Pick) -> None:
    rule = build_rule(pick)
    assert read_rule(rule) == pick
    assert picker_says(rule)


def test_the_posted_fields_are_read_as_an_officer_enters_them() -> None:
    pick = pick_of("weekly", "09:30", ["th", "MO", "MO"], "1")
    assert pick == Pick("weekly", time(9, 30), ("MO", "TH"))  # days in week order, once each
    assert pick_of("daily", "08:00", ["MO"], "40") == Pick("daily", time(8, 0))  # other kinds' fields are ignored


@pytest.mark.parametrize(
    ("kind", "at", "days", "month_day", "field", "words"),
    [
        ("weekly", "09:00", [], "1", "schedule.days", "at least one day"),
        ("monthly", "09:00", [], "32", "schedule.monthDay", "from 1 to 31"),
        ("monthly", "09:00", [], "", "schedule.monthDay", "from 1 to 31"),
        ("daily", "25:00", [], "1", "schedule.at", "not a time of day"),
        ("daily", "nine", [], "1", "schedule.at", "not a time of day"),
        ("hourly", "09:00", [], "1", "schedule.kind", "daily, weekly, monthly"),
    ],
)
def test_a_wrong_field_is_named_with_what_to_do(
    kind: str, at: str, days: list[str], month_day: str, field: str, words: str
) -> None:
    with pytest.raises(RecurrenceError) as refused:
        pick_of(kind, at, days, month_day)
    assert refused.value.field == field and words in str(refused.value)


def test_the_parts_a_rule_leaves_to_its_start_are_read_from_the_start() -> None:
    start = datetime(2026, 11, 19, 15, 7)  # a Thursday, the 19th
    assert read_rule("FREQ=DAILY", start) == Pick("daily", time(15, 7))
    assert read_rule("RRULE:FREQ=WEEKLY", start) == Pick("weekly", time(15, 7), ("TH",))
    assert read_rule("FREQ=MONTHLY;BYHOUR=8", start) == Pick("monthly", time(8, 7), (), 19)
    assert read_rule("FREQ=DAILY") is None  # no time without a start
    assert not picker_says("FREQ=DAILY")  # the form keeps such a rule as written


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=8;BYMINUTE=0",
        "FREQ=DAILY;BYHOUR=8,17;BYMINUTE=0",
        "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=8;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=8;BYMINUTE=0",
        "FREQ=DAILY;COUNT=3;BYHOUR=8;BYMINUTE=0",
        "FREQ=DAILY;BYDAY=MO,FR;BYHOUR=8;BYMINUTE=0",
        "FREQ=HOURLY",
        "FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=30",
        "FREQ=DAILY;BYHOUR=8;BYHOUR=9;BYMINUTE=0",
        "nonsense",
    ],
)
def test_a_rule_the_picker_cannot_say_is_left_to_the_advanced_field(rule: str) -> None:
    assert read_rule(rule, datetime(2026, 11, 19, 8, 0)) is None
    assert not picker_says(rule)


def test_a_picked_rule_runs_at_its_time_whatever_the_start() -> None:
    rule = build_rule(pick_of("weekly", "09:30", ["MO", "TH"], "1"))
    recurrence = Recurrence.parse(rule, "2026-11-20T15:07", "Africa/Kampala")  # a Friday afternoon
    after = datetime(2026, 11, 20, 12, 7, tzinfo=UTC)
    assert recurrence.occurrences_after(after, 3) == [
        datetime(2026, 11, 23, 6, 30, tzinfo=UTC),  # Monday 09:30 in Kampala
        datetime(2026, 11, 26, 6, 30, tzinfo=UTC),
        datetime(2026, 11, 30, 6, 30, tzinfo=UTC),
    ]
    assert recurrence.describe() == "weekly on Monday, Thursday at 09:30 (Africa/Kampala)"


def test_runs_in_the_next_30_days_are_counted() -> None:
    now = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    month = now + timedelta(days=30)
    daily = Recurrence.parse(build_rule(Pick("daily", time(8, 0))), "2026-11-20T08:00", "Africa/Nairobi")
    assert daily.count_between(now, month) == 30  # 08:00 today (05:00 UTC) is not after now
    weekly = Recurrence.parse(build_rule(Pick("weekly", time(9, 0), ("MO", "TH"))), "2026-11-20T08:00", "UTC")
    assert weekly.count_between(now, month) == 8  # Mon 23 Nov ... Thu 17 Dec
    minutely = Recurrence.parse("FREQ=MINUTELY", "2026-11-20T08:00", "UTC")
    assert minutely.count_between(now, month, cap=1000) == 1000  # capped, not walked to the end


def test_the_zone_list_puts_the_offices_first_then_africa_then_the_rest() -> None:
    available = {"Europe/London", "Africa/Nairobi", "Africa/Kampala", "Africa/Accra", "America/Lima", "UTC"}
    groups = zone_groups(["", "Africa/Nairobi", "Africa/Kampala", "Africa/Nairobi"], available)
    assert groups == [
        ("Your offices", ["Africa/Nairobi", "Africa/Kampala"]),
        ("Africa", ["Africa/Accra"]),
        ("Other", ["America/Lima", "Europe/London", "UTC"]),
    ]
    assert zone_groups(["Mars/Olympus"], set())[0] == ("Your offices", ["Mars/Olympus"])  # a stored value stays
