"""How late is too late: the campaign's limit as people write it, and the reason an old event's message gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from herald.domain.lateness import (
    DEFAULT_MINUTES,
    MAX_MINUTES,
    age_text,
    day_start,
    limit_code,
    limit_text,
    parse_limit,
    too_late,
)
from herald.errors import ValidationError

NAIROBI = "Africa/Nairobi"
NOW = datetime(2026, 12, 1, 6, 14, tzinfo=UTC)  # 09:14 in Nairobi


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("24h", 1440), ("90m", 90), ("3d", 4320), ("1d12h", 2160), ("24 hours", 1440), ("2 days", 2880),
        (" 1h 30m ", 90), ("1440", 1440), (45, 45), ("90d", MAX_MINUTES), ("1m", 1), ("1 Day", 1440),
    ],
)  # fmt: skip
def test_a_limit_is_read_as_people_write_it(text: str | int, minutes: int) -> None:
    assert parse_limit(text) == minutes


@pytest.mark.parametrize("minutes", [1, 59, 60, 90, 1440, 2160, 2880, 4320, 10_000, MAX_MINUTES])
def test_a_limit_written_by_herald_reads_back_the_same(minutes: int) -> None:
    assert parse_limit(limit_code(minutes)) == minutes


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-5h", "cannot be negative"), ("0", "at least 1 minute"), (0, "at least 1 minute"), (-3, "cannot be negative"),
        ("100d", "at most 90 days"), (10**9, "at most 90 days"), ("soon", "is not a duration"),
        ("5x", "not a duration"),
        ("24h then", "not a duration"), ("", "is empty"), (True, "must be a duration"), (2.5, "must be a duration"),
        ("99999999h", "not a duration"),
    ],
)  # fmt: skip
def test_a_bad_limit_is_refused_saying_what_to_write(value: object, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_limit(value)
    assert says in str(refused.value) and '"24h"' in str(refused.value)
    assert refused.value.field == "tooLateAfter"


def test_limits_and_ages_in_words() -> None:
    assert limit_text(DEFAULT_MINUTES) == "24 hours"
    assert limit_text(2160) == "36 hours"
    assert limit_text(4320) == "3 days"
    assert limit_text(90) == "1 hour 30 minutes"
    assert age_text(timedelta(days=3, hours=5)) == "3 days"
    assert age_text(timedelta(hours=1, minutes=59)) == "1 hour"
    assert age_text(timedelta(seconds=30)) == "0 minutes"


def test_an_event_older_than_the_limit_is_refused_with_when_it_happened_in_local_time() -> None:
    reason = too_late(
        entity="LOAN", action="REPAYMENT", at=NOW - timedelta(days=3), dated=False, now=NOW,
        limit_minutes=DEFAULT_MINUTES, zone=NAIROBI,
    )  # fmt: skip
    assert reason == (
        "Too late: the repayment was made 3 days ago (28 Nov 2026 09:14 EAT); this campaign sends nothing older"
        " than 24 hours"
    )


def test_an_event_just_within_the_limit_is_in_time() -> None:
    at = NOW - timedelta(minutes=DEFAULT_MINUTES)
    assert (
        too_late(entity="LOAN", action="REPAYMENT", at=at, dated=False, now=NOW, limit_minutes=1440, zone=NAIROBI)
        is None
    )
    later = NOW + timedelta(seconds=1)
    assert too_late(entity="LOAN", action="REPAYMENT", at=at, dated=False, now=later, limit_minutes=1440, zone=NAIROBI)


def test_an_event_known_only_by_its_date_is_late_only_once_the_whole_day_is_older_than_the_limit() -> None:
    yesterday = day_start(date(2026, 11, 30), NAIROBI)  # any time yesterday: at most a day and 9 hours ago
    assert yesterday == datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
    assert (
        too_late(entity="LOAN", action="APPROVE", at=yesterday, dated=True, now=NOW, limit_minutes=1440, zone=NAIROBI)
        is None
    )
    reason = too_late(
        entity="LOAN", action="APPROVE", at=day_start(date(2026, 11, 28), NAIROBI), dated=True, now=NOW,
        limit_minutes=1440, zone=NAIROBI,
    )  # fmt: skip
    assert (
        reason
        == "Too late: the loan was approved on 28 Nov 2026, 3 days ago; this campaign sends nothing older than 24 hours"
    )


def test_an_event_from_the_future_is_in_time() -> None:
    ahead = NOW + timedelta(minutes=5)  # Fineract's clock a little ahead of herald's
    assert (
        too_late(entity="CLIENT", action="ACTIVATE", at=ahead, dated=False, now=NOW, limit_minutes=1, zone=NAIROBI)
        is None
    )
