"""Provider faults: an answer that never comes or a cut connection after accepting, and 500 / 429 storms."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.torture.conftest import sqlite_url
from tests.torture.harness import Scenario, Timings, scenario

pytestmark = pytest.mark.xdist_group("torture-load")  # races, rates and faults, one at a time

TIMEOUT = 45.0
STORM_TIMEOUT = 60.0  # the storm, then an open breaker's cool-down, then the backlog
STORM = 6.0  # seconds the provider fails
BATCH = 20
IN_FLIGHT = 2  # HERALD_SEND_CONCURRENCY: batches a worker may have out at once
PROBES_PER_SECOND = 3
"""While failing, a provider may see the batches that found out, then probes: at most this many a second."""


@pytest.mark.parametrize("fault", ["hang", "drop"])
def test_a_primary_that_accepts_then_never_answers_is_asked_before_the_fallback_sends(
    tmp_path: Path, demo_corebank: Path, fault: str
) -> None:
    """Every third message is accepted by the primary, whose answer is then late (10 s) or cut off."""
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank) as s:
        primary = s.provider("primary", latency=0.01, timeout=1.0, fallback="backup")
        s.provider("backup", latency=0.01)
        primary.control(fault={"kind": fault, "every": 3, "hang_seconds": 10})
        s.direct_campaign("Doubt", "primary", activate=False)
        s.wait_started(s.start_worker())
        s.activate("Doubt")
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        s.verdict(finished=finished).check()


def _storm(s: Scenario, kind: str) -> None:
    primary = s.provider("primary", latency=0.01, max_in_flight=BATCH)
    # The storm starts with the first message the worker sends and lasts STORM seconds.
    primary.control(fault={"kind": kind, "seconds": STORM, "arm": True, "retry_after": 2})
    s.direct_campaign("Storm", "primary", activate=False)
    s.wait_started(s.start_worker())
    s.activate("Storm")
    finished = s.run_until_final(time.monotonic() + STORM_TIMEOUT)
    verdict = s.verdict(finished=finished)
    seen = primary.count()
    if not seen["faults"]:
        verdict.problems.append("the storm never started: no message reached the provider")
    else:
        start = seen["faults"][0]["from"]
        during = [r for r in seen["requests"] if start <= r["t"] < start + STORM]
        bound = IN_FLIGHT * BATCH + PROBES_PER_SECOND * STORM
        if len(during) > bound:
            kinds = {k: sum(r["kind"] == k for r in during) for k in ("create", "list", "fetch")}
            verdict.problems.append(
                f"{primary.name} received {len(during)} requests during its {STORM:g}-second {kind} storm"
                f" ({kinds}); at most {bound:g}: {IN_FLIGHT} batches of {BATCH}, then {PROBES_PER_SECOND} probes/s"
            )
    verdict.check()


@pytest.mark.parametrize("kind", ["500", "429"])
def test_a_failing_provider_gets_only_probes_and_everything_is_sent_once_afterwards(
    tmp_path: Path, demo_corebank: Path, kind: str
) -> None:
    timings = Timings(batch_size=BATCH)
    concurrency = {"HERALD_SEND_CONCURRENCY": str(IN_FLIGHT)}
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, timings=timings, extra_env=concurrency) as s:
        _storm(s, kind)
