"""Per-provider traffic control, once per process: rate limit, requests in flight, circuit breaker, pauses.

The composition root owns one `Gates`; the worker's send job, the hook sender and every "Run now"
go through it, so a provider's limit is never multiplied by the number of senders in a process.
Across processes the configured `rate_limit` is shared: each live sending process takes its share
(the rate divided by the live processes, learnt from their heartbeats), so the installation as a
whole keeps to the limit however many workers share the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter

from herald.domain.breaker import CircuitBreaker
from herald.errors import ProviderError
from herald.providers.config import ProviderSettings

THROTTLE_PAUSE = timedelta(seconds=1)
"""How long a provider that said "slow down" without saying for how long gets (doubling while it repeats)."""

MOST_PAUSE = timedelta(minutes=5)


class Gate:
    """What stands between herald's senders and one provider."""

    def __init__(self, name: str, rate: float | None, concurrency: int, breaker: CircuitBreaker | None = None) -> None:
        self.name = name
        self.rate = rate  # the installation's limit (messages per second), None for none
        self.concurrency = concurrency
        self.breaker = breaker or CircuitBreaker()
        self.share = 1.0  # this process's part of `rate`
        self.paused_until: datetime | None = None
        self.holding = 0  # messages this process has claimed for the provider and not yet settled
        self._throttled_in_a_row = 0
        self._probe_out = False
        self.last_error: ProviderError | None = None  # why the breaker counts failures (shown on held messages)
        self._limiter: AsyncLimiter | None = None
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def process_rate(self) -> float | None:
        return None if self.rate is None else self.rate * self.share

    def set_share(self, share: float) -> None:
        """This process's fraction of the rate (1 / live sending processes); the limiter follows."""
        share = min(max(share, 0.0001), 1.0)
        if share != self.share:
            self.share = share
            self._limiter = None  # rebuilt at the new rate on next use

    def _bind(self) -> None:
        # asyncio primitives belong to one loop; a one-off job's asyncio.run brings a new one.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._slots, self._limiter = loop, asyncio.Semaphore(self.concurrency), None

    @property
    def slots(self) -> asyncio.Semaphore:
        self._bind()
        assert self._slots is not None
        return self._slots

    @property
    def burst(self) -> int | None:
        """The most messages one request may carry under the rate limit (None: no limit): a tenth of a
        second's worth, so the provider sees the limit in every second, not only on average."""
        rate = self.process_rate
        return None if rate is None else max(int(rate * self._period(rate)), 1)

    @staticmethod
    def _period(rate: float) -> float:
        return max(0.1, 1.0 / rate)

    async def admit(self, n: int) -> None:
        """Wait until `n` (at most `burst`) more messages may go out from this process at its share of the rate."""
        rate = self.process_rate
        if rate is None or n <= 0:
            return
        self._bind()
        if self._limiter is None:
            period = self._period(rate)
            self._limiter = AsyncLimiter(rate * period, period)
        await self._limiter.acquire(min(n, self._limiter.max_rate))

    @property
    def cautious(self) -> bool:
        """After failures or a "slow down", one request of one message goes first and decides."""
        return not self.breaker.closed or self._throttled_in_a_row > 0

    def take_probe(self) -> bool:
        """While cautious, whether this caller may send the one probe request (nobody else's is out)."""
        if self._probe_out:
            return False
        self._probe_out = True
        return True

    def probe_done(self) -> None:
        self._probe_out = False

    def budget(self, lease: timedelta) -> int | None:
        """How many messages this process may hold for the provider at once: what it can hand over in half
        a lease at its rate (None: no limit), one while cautious."""
        if self.cautious:
            return 1
        rate = self.process_rate
        return None if rate is None else max(int(rate * lease.total_seconds() / 2), 1)

    def accepting(self, now: datetime) -> bool:
        """Whether a request could go now (not paused, breaker closed or ready to probe); takes nothing."""
        return not self.paused(now) and self.breaker.available(now)

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until

    def throttled(self, now: datetime, retry_after: float | None) -> datetime:
        """The provider said "slow down": pause it for what it asked, or for a doubling pause; return the end."""
        if retry_after is not None:
            wait = timedelta(seconds=retry_after)
        else:
            wait = THROTTLE_PAUSE * (2 ** min(self._throttled_in_a_row, 8))
        self._throttled_in_a_row += 1
        until = now + min(max(wait, timedelta(milliseconds=100)), MOST_PAUSE)
        self.paused_until = max(self.paused_until or until, until)
        return self.paused_until

    def answered(self) -> None:
        """A request got an answer that was not "slow down"."""
        self._throttled_in_a_row = 0


class Gates:
    """Every provider's gate in this process, made on first use from the provider's settings."""

    def __init__(self, configs: Mapping[str, ProviderSettings], concurrency: int) -> None:
        self._configs = configs
        self._concurrency = concurrency
        self._gates: dict[str, Gate] = {}

    def __getitem__(self, name: str) -> Gate:
        if name not in self._gates:
            config = self._configs.get(name)
            self._gates[name] = Gate(name, config.rate_limit if config else None, self._concurrency)
        return self._gates[name]

    def reset(self) -> None:
        """Forget every breaker, pause and limiter (a provider was reconfigured or fixed by hand)."""
        self._gates.clear()

    def set_share(self, share: float) -> None:
        for name in self._configs:
            self[name].set_share(share)
