"""Per-provider traffic control: a token-bucket rate limit and the circuit breaker's bookkeeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from herald.domain.breaker import CircuitBreaker


class RateLimiter:
    """At most `rate` messages per second on average, bursts up to one second's worth."""

    def __init__(self, rate: float | None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._monotonic = monotonic
        self._tokens = rate or 0.0
        self._last = monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, n: int) -> None:
        """Wait until `n` messages may go (a batch larger than a second's worth waits its share)."""
        if self.rate is None:
            return
        async with self._lock:
            while True:
                now = self._monotonic()
                self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= min(n, self.rate):
                    self._tokens -= n  # may go negative for big batches: the next caller waits it off
                    return
                await asyncio.sleep((min(n, self.rate) - self._tokens) / self.rate)


class Gate:
    """What stands between the send job and one provider: its breaker, rate limit and concurrency."""

    def __init__(self, rate: float | None, concurrency: int, breaker: CircuitBreaker) -> None:
        self.limiter = RateLimiter(rate)
        self.slots = asyncio.Semaphore(concurrency)
        self.breaker = breaker
