"""kill -9 of the worker at random points, again while it settles the messages whose outcome is unknown."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from tests.torture.conftest import postgres_url, sqlite_url
from tests.torture.harness import CountingProvider, Proc, Scenario, scenario

pytestmark = pytest.mark.xdist_group("torture-kill")  # kill -9 and SIGTERM scenarios, one at a time

SEED = 20261201
TIMEOUT = 45.0
SETTLE_WAIT = 8.0
"""How long the second kill waits for the restarted worker's first lookup before killing anyway."""


def _kill_mid_send(s: Scenario, worker: Proc, provider: CountingProvider, rng: random.Random) -> None:
    """kill -9 once the provider has taken a few more of this worker's messages (or after 5 s)."""
    target = provider.stats()["accepted"] + rng.randint(5, 40)
    s.wait_for(lambda: provider.stats()["accepted"] >= target, 5.0)
    s.kill(worker)


def _kill_while_settling(s: Scenario, worker: Proc, provider: CountingProvider, rng: random.Random) -> None:
    """kill -9 just after the restarted worker starts asking the provider about messages in doubt."""
    lookups = provider.stats().get("list", 0)
    s.wait_for(lambda: provider.stats().get("list", 0) > lookups, SETTLE_WAIT)
    time.sleep(rng.uniform(0.0, 0.3))
    s.kill(worker)


def _crash_repeatedly(s: Scenario) -> None:
    rng = random.Random(SEED)
    # Slow enough that ~280 messages take seconds, so every kill lands while batches are with the provider.
    primary = s.provider("primary", latency=0.1, max_in_flight=8)
    s.direct_campaign("Crash", "primary", activate=False)
    deadline = time.monotonic() + TIMEOUT
    worker = s.start_worker()
    s.wait_started(worker)
    s.activate("Crash")
    for kill in (_kill_mid_send, _kill_while_settling, _kill_mid_send):
        kill(s, worker, primary, rng)
        worker = s.start_worker()
    finished = s.run_until_final(deadline)
    verdict = s.verdict(finished=finished)
    verdict.check()


def test_kill_9_at_random_points_on_sqlite_sends_each_message_once(tmp_path: Path, demo_corebank: Path) -> None:
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank) as s:
        _crash_repeatedly(s)


@pytest.mark.postgres
def test_kill_9_at_random_points_on_postgresql_sends_each_message_once(
    tmp_path: Path, demo_corebank: Path, pg_server: str
) -> None:
    with scenario(tmp_path, postgres_url(pg_server), demo_corebank) as s:
        _crash_repeatedly(s)
