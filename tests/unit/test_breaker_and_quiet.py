"""The circuit breaker's moves and quiet hours in an office's time zone."""

from datetime import UTC, datetime, time, timedelta

import pytest

from herald.domain.breaker import BreakerState, CircuitBreaker
from herald.domain.quiet import QuietHours

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_the_breaker_opens_after_consecutive_failures_and_holds_for_the_cooldown() -> None:
    b = CircuitBreaker(threshold=3, cooldown=timedelta(seconds=30))
    for _ in range(2):
        b.failed(T0)
    assert b.allows(T0) and b.state is BreakerState.CLOSED
    b.failed(T0)
    assert b.state is BreakerState.OPEN
    assert not b.allows(T0 + timedelta(seconds=29))
    assert b.reopens_at() == T0 + timedelta(seconds=30)


def test_a_success_resets_the_failure_count() -> None:
    b = CircuitBreaker(threshold=2)
    b.failed(T0)
    b.succeeded()
    b.failed(T0)
    assert b.state is BreakerState.CLOSED


def test_after_the_cooldown_one_probe_goes_through_and_decides() -> None:
    b = CircuitBreaker(threshold=1, cooldown=timedelta(seconds=10))
    b.failed(T0)
    later = T0 + timedelta(seconds=10)
    assert b.allows(later) and b.state is BreakerState.HALF_OPEN
    assert not b.allows(later)  # only one probe at a time
    b.failed(later)
    assert b.state is BreakerState.OPEN and not b.allows(later + timedelta(seconds=5))
    assert b.allows(later + timedelta(seconds=10))
    b.succeeded()
    assert b.state is BreakerState.CLOSED and b.allows(later + timedelta(seconds=10))


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("21:00-07:30", [time(21, 0), time(23, 59), time(0, 0), time(7, 29)], [time(7, 30), time(12, 0), time(20, 59)]),
        ("12:00-14:00", [time(12, 0), time(13, 59)], [time(11, 59), time(14, 0)]),
    ],
)
def test_quiet_hours_windows_including_over_midnight(text: str, inside: list[time], outside: list[time]) -> None:
    q = QuietHours.parse(text)
    assert all(q.contains(t) for t in inside)
    assert not any(q.contains(t) for t in outside)


def test_quiet_hours_open_at_the_local_end_of_the_window() -> None:
    q = QuietHours.parse("21:00-07:30")
    # 22:00 in Kampala (UTC+3) is 19:00 UTC; the window opens at 07:30 local = 04:30 UTC next day.
    opens = q.opens_after(datetime(2026, 11, 25, 19, 0, tzinfo=UTC), "Africa/Kampala")
    assert opens == datetime(2026, 11, 26, 4, 30, tzinfo=UTC)
    assert q.opens_after(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), "Africa/Kampala") is None


@pytest.mark.parametrize("text", ["21:00", "25:00-07:00", "08:00-08:00", "late-early"])
def test_bad_quiet_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(text)
