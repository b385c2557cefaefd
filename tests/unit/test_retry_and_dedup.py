"""Retry decisions and dedup keys, both pure."""

from datetime import UTC, datetime, timedelta

from herald.domain.dedup import DedupScope, dedup_key
from herald.domain.retry import RetryPolicy


def test_backoff_doubles_within_jitter_bounds() -> None:
    policy = RetryPolicy(max_attempts=5, base=10, cap=1000)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80)]:
        low = policy.delay(attempts, 0.0)
        high = policy.delay(attempts, 0.999999)
        assert low == timedelta(seconds=ceiling / 2)
        assert high is not None and timedelta(seconds=ceiling * 0.99) < high <= timedelta(seconds=ceiling)


def test_backoff_is_capped() -> None:
    assert RetryPolicy(max_attempts=50, base=10, cap=60).delay(20, 0.999) <= timedelta(seconds=60)


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay(2, 0.5) is not None
    assert policy.delay(3, 0.5) is None


OCC1 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
OCC2 = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


def test_once_scope_ignores_the_occurrence() -> None:
    assert (
        dedup_key("loan_transaction", 77, DedupScope.ONCE, OCC1)
        == dedup_key("loan_transaction", 77, DedupScope.ONCE, OCC2)
        == "loan_transaction:77"
    )


def test_per_occurrence_scope_differs_per_tick_and_is_stable() -> None:
    a = dedup_key("client", 5, DedupScope.PER_OCCURRENCE, OCC1)
    assert a == dedup_key("client", 5, DedupScope.PER_OCCURRENCE, OCC1)
    assert a != dedup_key("client", 5, DedupScope.PER_OCCURRENCE, OCC2)
    assert dedup_key("client", 5, DedupScope.PER_OCCURRENCE, None) == "client:5@direct"


def test_per_year_scope_is_one_per_calendar_year() -> None:
    assert dedup_key("client", 5, DedupScope.PER_YEAR, OCC1) == dedup_key("client", 5, DedupScope.PER_YEAR, OCC2)
    assert dedup_key("client", 5, DedupScope.PER_YEAR, OCC1) != dedup_key(
        "client", 5, DedupScope.PER_YEAR, OCC1.replace(year=2027)
    )
