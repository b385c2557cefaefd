"""SIGTERM mid-send: the worker stops within 10 s with exit code 0, and its successor resends nothing accepted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.torture.conftest import sqlite_url
from tests.torture.harness import Scenario, scenario

pytestmark = pytest.mark.xdist_group("torture-kill")  # kill -9 and SIGTERM scenarios, one at a time

GRACE = 10.0
TIMEOUT = 40.0


def _stop_mid_send(s: Scenario) -> None:
    # 4 requests of 0.2 s at a time: about 20 messages a second, so SIGTERM finds batches with the provider.
    primary = s.provider("primary", latency=0.2, max_in_flight=4)
    s.direct_campaign("Stop", "primary", activate=False)
    worker = s.start_worker()
    s.wait_started(worker)
    s.activate("Stop")
    s.wait_for(lambda: primary.stats()["accepted"] >= 20, 15.0)
    code, took = s.terminate(worker, GRACE)
    problems = []
    if code is None:
        problems.append(f"the worker was still running {GRACE:g} s after SIGTERM")
        s.kill(worker)
    elif code != 0:
        problems.append(f"the worker exited {code} on SIGTERM (after {took:.1f} s), not 0:\n{worker.tail(5)}")
    primary.control(latency=0.005)  # the rest can go quickly
    s.start_worker()
    finished = s.run_until_final(time.monotonic() + TIMEOUT)
    verdict = s.verdict(finished=finished)
    verdict.problems += problems
    verdict.check()


def test_sigterm_mid_send_exits_0_and_nothing_accepted_is_resent(tmp_path: Path, demo_corebank: Path) -> None:
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank) as s:
        _stop_mid_send(s)
