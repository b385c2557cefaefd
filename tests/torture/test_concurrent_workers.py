"""Several workers on one herald database, and `herald serve --worker` beside a worker: each message goes out once."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from herald.demo.servers import free_port
from herald.fakes.fineract_hooks import FineractHookSimulator
from tests.torture.conftest import postgres_url, sqlite_url
from tests.torture.harness import Scenario, Timings, scenario

pytestmark = pytest.mark.xdist_group("torture-load")  # races, rates and faults, one at a time

TIMEOUT = 40.0
# Small batches: many claims, back to back in every worker, so claims of different workers overlap.
RACY = Timings(batch_size=5)


def _race(s: Scenario, workers: int) -> None:
    s.provider("primary", latency=0.005)
    s.direct_campaign("Race", "primary", activate=False)
    # The workers run before the campaign is activated, as in production: they all wake to the same backlog.
    s.wait_started(*[s.start_worker(f"worker{n}") for n in range(workers)])
    s.activate("Race")
    finished = s.run_until_final(time.monotonic() + TIMEOUT)
    s.verdict(finished=finished).check()


def test_two_workers_on_one_sqlite_file_send_each_message_once(tmp_path: Path, demo_corebank: Path) -> None:
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, timings=RACY) as s:
        _race(s, 2)


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_sharing_one_postgresql_send_each_message_once(
    tmp_path: Path, demo_corebank: Path, pg_server: str, workers: int
) -> None:
    with scenario(tmp_path, postgres_url(pg_server), demo_corebank, timings=RACY) as s:
        _race(s, workers)


HOOKS = 120
HOOK_RATE = 40.0
SECRET = "torture-hook-secret"


def test_serve_with_its_worker_beside_a_worker_sends_hook_and_campaign_messages_once(
    tmp_path: Path, demo_corebank: Path
) -> None:
    """`herald serve --worker` sends each hook's message at once while it and a worker drain a Direct backlog."""
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, timings=RACY) as s:
        s.provider("primary", latency=0.005)
        s.triggered_campaign("Repaid", "primary")
        s.direct_campaign("Backlog", "primary", activate=False)
        port = free_port()
        s.wait_started(s.start_serve(port, SECRET), s.start_worker())
        assert s.wait_for(lambda: _listening(port), 20.0), "herald serve did not listen"
        s.activate("Backlog")
        tellers = FineractHookSimulator(f"sqlite:///{s.corebank}", f"http://127.0.0.1:{port}/fineract/hooks/{SECRET}/")
        try:
            asyncio.run(
                tellers.run(HOOK_RATE, HOOKS, amounts=lambda n: 1000 + n)
            )  # every amount, so every text, unique
        finally:
            tellers.close()
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        verdict = s.verdict(finished=finished)
        hooked = s.count_messages("Repaid")
        if tellers.stats.sent != HOOKS or hooked != HOOKS:
            verdict.problems.append(
                f"{HOOKS} hooks posted: {tellers.stats.sent} acknowledged, {tellers.stats.refused} refused,"
                f" {hooked} messages made from them"
            )
        verdict.check()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
