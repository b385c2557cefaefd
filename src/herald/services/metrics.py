"""The installation's series for /metrics, read from herald's database at scrape time, the same from every process.

Messages per status and provider, the queue (PENDING messages of active campaigns), the live
job-running processes and the job runs' durations are facts of the shared database, so whichever
`herald serve` is scraped, and however many `herald worker` processes send, every scrape tells the same story. The
counts are cached for a few seconds (several scrapers, or a scraper and a dashboard, cost one
query); the job runs are read on from the last one seen, so a scrape reads only the new runs.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from herald.domain.message import MessageStatus
from herald.services.presence import Presence
from herald.store import metrics as metric_store

CACHE_SECONDS = 5.0
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
"""Seconds a job run takes: a send pass of a few messages is milliseconds, materializing a million minutes."""


@dataclass
class _Durations:
    """One job's histogram so far: counts per bucket (the last is +Inf), their sum."""

    buckets: list[int] = field(default_factory=lambda: [0] * (len(JOB_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect_left(JOB_BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        running, out = 0, []
        for bound, n in zip([*map(str, JOB_BUCKETS), "+Inf"], self.buckets, strict=True):
            running += n
            out.append((bound, float(running)))
        return out


@dataclass(frozen=True)
class _Counts:
    messages: list[metric_store.StatusCount]
    queue: int
    job_runners: int


class InstallationCollector(Collector):
    """The database-derived series; `providers` are the configured ones, listed even with no message yet."""

    def __init__(
        self,
        *,
        store: Engine,
        presence: Presence,
        providers: Callable[[], Iterable[str]],
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.presence, self.providers = store, presence, providers
        self.cache_seconds, self.monotonic = cache_seconds, monotonic
        self._lock = threading.Lock()  # scrapes arrive on the server's thread pool
        self._counts: _Counts | None = None
        self._read_at = 0.0
        self._runs: dict[str, _Durations] = {}
        self._last_run = 0

    def _read(self) -> tuple[_Counts, dict[str, _Durations]]:
        with self._lock:
            now = self.monotonic()
            if self._counts is None or now - self._read_at >= self.cache_seconds:
                with self.store.connect() as conn:
                    messages = metric_store.messages_by_status(conn)
                    queue = metric_store.queue_depth(conn)
                    runs = metric_store.runs_after(conn, self._last_run)
                for run in runs:
                    seconds = max((run.finished_at - run.started_at).total_seconds(), 0.0)
                    self._runs.setdefault(run.job, _Durations()).observe(seconds)
                    self._last_run = run.id
                self._counts = _Counts(messages, queue, len(self.presence.job_runners()))
                self._read_at = now
            return self._counts, {job: d for job, d in self._runs.items()}

    def collect(self) -> Iterator[Metric]:
        counts, runs = self._read()
        by_key = {(c.status, c.provider): c.count for c in counts.messages}
        providers = sorted(set(self.providers()) | {provider for _, provider in by_key})
        messages = GaugeMetricFamily(
            "herald_messages",
            "Messages in herald's database by status and provider (every campaign, every process).",
            labels=["status", "provider"],
        )
        for provider in providers:
            for status in MessageStatus:
                messages.add_metric([status.name.lower(), provider], by_key.get((status, provider), 0))
        yield messages
        yield GaugeMetricFamily(
            "herald_queue_depth",
            "PENDING messages of active campaigns: to be handed to a provider (now, or after a retry or quiet hours).",
            value=counts.queue,
        )
        yield GaugeMetricFamily(
            "herald_job_runners",
            "Processes running the three jobs whose heartbeat is fresh (0: nothing is being sent).",
            value=counts.job_runners,
        )
        durations = HistogramMetricFamily(
            "herald_job_duration_seconds",
            "Seconds each recorded job run took, by job (runs that did something or failed; idle ticks are not kept).",
            labels=["job"],
        )
        for job in sorted(runs):
            durations.add_metric([job], runs[job].cumulative(), sum_value=runs[job].total)
        yield durations
