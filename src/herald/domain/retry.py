"""Retry policy as a pure decision: after a transient failure, when to try again, or give up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, for at most `max_attempts` attempts in all."""

    max_attempts: int = 5
    base: float = 30.0
    cap: float = 3600.0

    def delay(self, attempts_made: int, jitter: float) -> timedelta | None:
        """The wait before the next attempt, or None when `attempts_made` used up the allowance.

        `jitter` is a uniform draw in [0, 1) supplied by the caller (the domain reads no randomness):
        the wait is between half and all of base * 2^(attempts_made - 1), so workers that failed
        together do not retry together.
        """
        if attempts_made >= self.max_attempts:
            return None
        ceiling = min(self.cap, self.base * (2 ** max(attempts_made - 1, 0)))
        return timedelta(seconds=ceiling * (0.5 + 0.5 * jitter))
