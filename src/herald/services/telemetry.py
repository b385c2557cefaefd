"""What this process measures of itself for /metrics: send latency, provider errors, Fineract hooks, breakers.

These live in the process's memory, so each series carries a `process` label (host:pid): under
`herald serve` with its jobs in-process they describe the sends of that very process; a separate
`herald worker` counts its own, which the server's /metrics cannot see (README, "Metrics"). What
the whole installation agrees on is read from the database instead (services/metrics.py). One
Telemetry per process, owned by the composition root; each has its own registry, so two Heralds
in one test process never mix their counts.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from herald.domain.breaker import BreakerState
from herald.providers.base import SendResult
from herald.providers.gate import Gates

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds one provider request takes: a local SMSC answers in milliseconds, a slow HTTP API in seconds."""

MOST_EVENTS = 40
"""Distinct hook events counted by name; any further one counts as "other" (the names come from the request)."""

BREAKER_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _Breakers(Collector):
    """Each configured provider's breaker in this process, read at scrape time (0 closed, 1 half-open, 2 open)."""

    def __init__(self, gates: Gates, names: Callable[[], Iterable[str]], process: str) -> None:
        self.gates, self.names, self.process = gates, names, process

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "herald_provider_breaker_state",
            "Circuit breaker of each provider in this process: 0 closed (sending), 1 half-open (probing), 2 open.",
            labels=["provider", "process"],
        )
        for name in sorted(self.names()):
            family.add_metric([name, self.process], BREAKER_VALUES[self.gates[name].breaker.state])
        yield family


class Telemetry:
    """This process's own series, in a registry of its own."""

    def __init__(self, gates: Gates, provider_names: Callable[[], Iterable[str]], process: str | None = None) -> None:
        self.process = process or this_process()
        self.registry = CollectorRegistry()
        self._latency = Histogram(
            "herald_send_latency_seconds",
            "Seconds each send request to a provider took, from hand-over to answer (this process's sends).",
            ["provider", "process"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._errors = Counter(
            "herald_provider_errors",
            "Messages a provider did not accept, by the provider's error code (this process's sends).",
            ["provider", "code", "process"],
            registry=self.registry,
        )
        self._hooks = Counter(
            "herald_hooks_received",
            "Fineract hooks received by this process, by event (entity/action).",
            ["event", "process"],
            registry=self.registry,
        )
        self._events: set[str] = set()
        self.registry.register(_Breakers(gates, provider_names, self.process))

    def answered(self, provider: str, seconds: float, results: Iterable[SendResult]) -> None:
        """One send request to `provider` came back (or gave up) after `seconds` with these results."""
        self._latency.labels(provider, self.process).observe(seconds)
        for result in results:
            if result.error is not None:
                self._errors.labels(provider, result.error.code or "unknown", self.process).inc()

    def hook_received(self, event: str) -> None:
        """A Fineract hook arrived (`event`: entity/action as Fineract names them, e.g. LOAN/REPAYMENT)."""
        event = event[:60]
        if event not in self._events and len(self._events) >= MOST_EVENTS:
            event = "other"
        self._events.add(event)
        self._hooks.labels(event, self.process).inc()
