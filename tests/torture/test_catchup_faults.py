"""The catch-up job under faults: workers racing over one backlog on PostgreSQL, and kill -9 between storing a
batch's messages and moving the mark past it. Counted at a counting Twilio: every message once, none lost.

The repayments are written to the core bank as Fineract's tellers write them, and their hooks are
lost (never posted): only the catch-up job can find them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from herald.fakes.fineract_hooks import FineractHookSimulator
from tests.torture.conftest import postgres_url
from tests.torture.harness import Scenario, Timings, scenario

pytestmark = [pytest.mark.xdist_group("torture-kill"), pytest.mark.postgres]

TIMEOUT = 60.0
EVENTS = 150
BATCH = 20


def _lost_hooks(s: Scenario, count: int) -> None:
    """`count` repayments booked in Fineract (each with its own amount, so each text is unique), no hook sent."""
    tellers = FineractHookSimulator(f"sqlite:///{s.corebank}", "http://127.0.0.1:9/never-posted/")
    try:
        for n in range(count):
            tellers.book_repayment(chosen=1000 + n)
    finally:
        tellers.close()


def _mark(s: Scenario) -> int | None:
    with s.engine.connect() as conn:
        value = conn.execute(sa.text("SELECT last_id FROM catchup_marks")).scalar_one()
    return int(value) if value is not None else None


def test_workers_racing_over_one_catch_up_backlog_on_postgresql_send_each_message_once(
    tmp_path: Path, demo_corebank: Path, pg_server: str
) -> None:
    # The repayments are moments old; with no settling time the marks move as the workers race over them.
    env = {"HERALD_CATCHUP_INTERVAL": "0.05", "HERALD_CATCHUP_BATCH": str(BATCH), "HERALD_CATCHUP_SETTLE": "0"}
    with scenario(tmp_path, postgres_url(pg_server), demo_corebank, timings=Timings(batch_size=10), extra_env=env) as s:
        s.provider("primary", latency=0.002)
        s.triggered_campaign("Repaid", "primary")  # activation sets the mark: the demo's own repayments are history
        start = _mark(s)
        _lost_hooks(s, EVENTS)
        workers = [s.start_worker(f"worker{n}") for n in range(3)]  # all wake to the same marks, at once
        s.wait_started(*workers)
        assert s.wait_for(lambda: s.count_messages("Repaid") == EVENTS and s.pending() == 0, TIMEOUT, step=0.2)
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        verdict = s.verdict(finished=finished)
        if s.count_messages("Repaid") != EVENTS:
            verdict.problems.append(f"{EVENTS} repayments, {s.count_messages('Repaid')} messages")
        mark = _mark(s)
        if start is None or mark is None or mark <= start:
            verdict.problems.append(f"the mark did not move forward: {start} -> {mark}")
        verdict.check()


def test_kill_9_after_a_batch_is_stored_and_before_the_mark_moves_repeats_it_harmlessly(
    tmp_path: Path, demo_corebank: Path, pg_server: str
) -> None:
    env = {"HERALD_CATCHUP_BATCH": str(BATCH), "HERALD_CATCHUP_SETTLE": "0"}  # the repayments are moments old
    with scenario(tmp_path, postgres_url(pg_server), demo_corebank, extra_env=env) as s:
        s.provider("primary")
        s.triggered_campaign("Repaid", "primary")
        start = _mark(s)
        _lost_hooks(s, BATCH + 7)
        # The test holds the campaign's mark row: the job stores its batch's messages (other rows), then
        # waits on the mark, where it is killed, as a power cut between the two would.
        holder = s.engine.connect()
        held = holder.begin()
        holder.execute(sa.text("SELECT last_id FROM catchup_marks FOR UPDATE"))
        try:
            job = s._spawn("catch-up", ["jobs", "run", "catch-up"])
            stored = s.wait_for(lambda: s.count_messages("Repaid") == BATCH, TIMEOUT, step=0.05)
            assert stored, f"the job stored {s.count_messages('Repaid')} of its batch of {BATCH}:\n{job.tail()}"
            assert job.alive(), f"the job ended while its mark was held:\n{job.tail()}"
            s.kill(job)
        finally:
            held.rollback()
            holder.close()
        assert _mark(s) == start, "the mark moved although the job died before moving it"
        assert s.pending() == BATCH  # stored, not sent: nothing sends them but the next worker

        # The next run reads the batch again (its messages exist: skipped), goes on past it to the rest and
        # moves the mark past all of them; a third run makes nothing.
        again = s.cli("jobs", "run", "catch-up")
        assert s.count_messages("Repaid") == BATCH + 7, again
        newest = _mark(s)
        assert start is not None and newest is not None and newest >= start + BATCH + 7
        s.cli("jobs", "run", "catch-up")
        assert s.count_messages("Repaid") == BATCH + 7
        s.wait_started(s.start_worker())
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        verdict = s.verdict(finished=finished)
        if s.count_messages("Repaid") != BATCH + 7:
            verdict.problems.append(f"{BATCH + 7} repayments, {s.count_messages('Repaid')} messages")
        verdict.check()
