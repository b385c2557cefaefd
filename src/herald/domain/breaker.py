"""A circuit breaker per provider: stop sending to a failing provider, probe it, resume when it recovers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # healthy: send
    OPEN = "open"  # failing: send elsewhere (or hold) until the cool-down ends
    HALF_OPEN = "half-open"  # cool-down over: one probe request decides


@dataclass
class CircuitBreaker:
    """Opens after `threshold` consecutive failed requests; after `cooldown` lets one probe through.

    Only transient failures count (timeouts and hangs, 5xx, dropped connections): a provider that
    says "invalid number" is working, and one that says "slow down" is paused, not broken. A
    successful probe closes the breaker, a failed one opens it again, so a provider that stays down
    sees one request per cool-down from each sending process.
    """

    threshold: int = 3
    cooldown: timedelta = timedelta(seconds=5)
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: datetime | None = None
    _probing: bool = field(default=False, repr=False)

    @property
    def closed(self) -> bool:
        return self.state is BreakerState.CLOSED

    def available(self, now: datetime) -> bool:
        """Whether `allows` would let a request through now; changes nothing."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            return now - self.opened_at >= self.cooldown
        return not self._probing

    def allows(self, now: datetime) -> bool:
        """Whether a request may go to this provider now (a half-open breaker allows one probe)."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            if now - self.opened_at < self.cooldown:
                return False
            self.state = BreakerState.HALF_OPEN
            self._probing = False
        if self._probing:
            return False
        self._probing = True
        return True

    def reopens_at(self) -> datetime | None:
        return None if self.opened_at is None or self.state is BreakerState.CLOSED else self.opened_at + self.cooldown

    def succeeded(self) -> None:
        self.state, self.failures, self.opened_at, self._probing = BreakerState.CLOSED, 0, None, False

    def failed(self, now: datetime) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.threshold:
            self.state, self.opened_at, self._probing = BreakerState.OPEN, now, False
