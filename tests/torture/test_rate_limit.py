"""A rate-limited provider with a backlog longer than a lease: nothing twice, and the limit holds per second."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.torture.conftest import postgres_url, sqlite_url
from tests.torture.harness import Scenario, Timings, scenario
from tests.torture.verdict import per_second_over

pytestmark = pytest.mark.xdist_group("torture-load")  # races, rates and faults, one at a time

RATE = 20
LEASE = 3.0
TOLERANCE = 0.1  # plus one message: a window edge may split a request's arrival from its count
TIMEOUT = 40.0


def _backlog(s: Scenario, workers: int) -> None:
    primary = s.provider("primary", latency=0.01, rate_limit=RATE)
    s.direct_campaign("Backlog", "primary", office=2, activate=False)
    s.wait_started(*[s.start_worker(f"worker{n}") for n in range(workers)])
    total = s.activate("Backlog")
    # More than the lease allows at the rate: a claim of everything would outlive its lease.
    assert total > RATE * LEASE, f"the backlog ({total}) must be longer than {RATE} x {LEASE:g} s"
    finished = s.run_until_final(time.monotonic() + TIMEOUT)
    verdict = s.verdict(finished=finished)
    verdict.problems += [
        f"{primary.name} above its rate limit of {RATE}/s: {w}"
        for w in per_second_over(primary.rate_windows(), RATE, TOLERANCE)
    ]
    verdict.check()


def test_one_worker_keeps_the_rate_and_sends_a_long_backlog_once(tmp_path: Path, demo_corebank: Path) -> None:
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, timings=Timings(lease=LEASE)) as s:
        _backlog(s, 1)


@pytest.mark.postgres
def test_two_workers_share_one_rate_limit_and_send_a_long_backlog_once(
    tmp_path: Path, demo_corebank: Path, pg_server: str
) -> None:
    with scenario(tmp_path, postgres_url(pg_server), demo_corebank, timings=Timings(lease=LEASE)) as s:
        _backlog(s, 2)
