"""kill -9 of the worker while it sends, re-sends failures that pass and makes their copies: each number still
gets exactly its first message plus the policy's re-sends, counted at the counting Twilio.

Every message to a number ending in 3 is reported undelivered with 30003 (an unreachable handset);
with HERALD_TRANSIENT_RESEND_TIMES=2 such a number must receive exactly three messages, every other
number one, whatever the kills interrupt (a send, a report pull, the policy's pass).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.torture.conftest import postgres_url, sqlite_url
from tests.torture.harness import Scenario, scenario

pytestmark = pytest.mark.xdist_group("torture-kill")  # kill -9 and SIGTERM scenarios, one at a time

SEED = 20261202
TIMEOUT = 60.0
TIMES = 2
POLICY = {"HERALD_TRANSIENT_RESEND_TIMES": str(TIMES), "HERALD_TRANSIENT_RESEND_AFTER_MINUTES": "0.01"}
INVALID = 0


def _crash_while_resending(s: Scenario) -> None:
    rng = random.Random(SEED)
    primary = s.provider("primary", latency=0.05, max_in_flight=8)
    primary.control(unreachable="3")
    s.direct_campaign("Passing", "primary", activate=False)
    worker = s.start_worker()
    s.wait_started(worker)
    s.activate("Passing")
    numbers = [r.mobile_no for r in s.rows() if r.status != INVALID]
    failing = [n for n in numbers if n.endswith("3")]
    assert failing and len(failing) < len(numbers)
    expected = Counter({n: 0 for n in numbers})
    for n in numbers:
        expected[n] += 1 + (TIMES if n.endswith("3") else 0)
    # Mid-send of the first messages, then twice while the copies are being made and sent.
    targets = [rng.randint(20, len(numbers) // 2)]
    targets += [len(numbers) + rng.randint(1, len(failing))]
    targets += [len(numbers) + len(failing) + rng.randint(1, len(failing))]
    for target in targets:
        s.wait_for(lambda t=target: primary.stats()["accepted"] >= t, 20.0)  # type: ignore[misc]
        s.kill(worker)
        worker = s.start_worker()
    total = sum(expected.values())
    done = s.wait_for(lambda: primary.stats()["accepted"] >= total, TIMEOUT, step=0.2)
    time.sleep(3.0)  # well past the re-send wait and a few report passes: a copy too many would come now
    s.run_until_final(time.monotonic())
    received = Counter(m["to"] for m in primary.accepted())
    assert done, f"only {primary.stats()['accepted']} of {total} messages arrived"
    assert received == expected, {n: (received[n], expected[n]) for n in expected if received[n] != expected[n]}


def test_kill_9_while_resending_on_sqlite_sends_each_copy_once(tmp_path: Path, demo_corebank: Path) -> None:
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, extra_env=POLICY) as s:
        _crash_while_resending(s)


@pytest.mark.postgres
def test_kill_9_while_resending_on_postgresql_sends_each_copy_once(
    tmp_path: Path, demo_corebank: Path, pg_server: str
) -> None:
    with scenario(tmp_path, postgres_url(pg_server), demo_corebank, extra_env=POLICY) as s:
        _crash_while_resending(s)
