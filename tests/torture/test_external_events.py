"""Fineract's external events through a real ActiveMQ to a counting provider: herald down, killed, restarted.

Repayments are booked in the core bank as Fineract books them and published as Fineract publishes
them (Avro envelopes in BytesMessages, some twice: Fineract's delivery is at least once). herald's
worker reads them from the broker with client acknowledgements. The verdict is counted at the
counting Twilio: every repayment's receipt accepted exactly once, whatever happened to the worker.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest

from herald.fakes.fineract_hooks import FineractHookSimulator
from tests.activemq import Broker, new_queue
from tests.fineract_events import EventWriter
from tests.torture.conftest import postgres_url, sqlite_url
from tests.torture.harness import Proc, Scenario, scenario

pytestmark = pytest.mark.xdist_group("activemq-torture")  # kills timed on 2 cores; its own worker's broker

TIMEOUT = 60.0
REPAYMENT = "LoanTransactionMakeRepaymentPostBusinessEvent"


def _events_env(broker: Broker, queue: str) -> dict[str, str]:
    return {"HERALD_EVENTS_URL": f"stomp://{broker.host}:{broker.stomp_port}/queue/{queue}"}


def _repayments(s: Scenario, count: int, seed: int) -> list[bytes]:
    """Book `count` repayments in the scenario's core bank; their events as Fineract publishes them."""
    teller = FineractHookSimulator(f"sqlite:///{s.corebank}", "http://127.0.0.1:9/unused/", seed=seed)
    writer = EventWriter()
    bodies = []
    for _ in range(count):
        response = teller.book_repayment()["response"]
        bodies.append(writer.event(REPAYMENT, {"id": response["resourceId"], "loanId": response["loanId"]}))
    teller.close()
    return bodies


def _all_made(s: Scenario, expected: int) -> bool:
    return s.wait_for(lambda: s.count_messages("Repaid") >= expected, TIMEOUT, step=0.2)


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_events_published_while_herald_is_down_are_each_sent_once_when_it_starts(
    tmp_path: Path, demo_corebank: Path, activemq: Broker, request: pytest.FixtureRequest, engine: str
) -> None:
    queue = new_queue()
    url = sqlite_url(tmp_path) if engine == "sqlite" else postgres_url(request.getfixturevalue("pg_server"))
    with scenario(tmp_path, url, demo_corebank, extra_env=_events_env(activemq, queue)) as s:
        s.provider("primary")
        s.triggered_campaign("Repaid", "primary")
        bodies = _repayments(s, 120, seed=11)
        activemq.send_many(queue, [*bodies, *bodies[::7]])  # herald is not running; some published twice
        worker = s.start_worker()
        s.wait_started(worker)
        made = _all_made(s, len(bodies))
        assert f"external events are read from stomp://{activemq.host}:{activemq.stomp_port}/queue/" in worker.tail(5)
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        s.verdict(finished=finished and made).check()
        assert s.count_messages("Repaid") == len(bodies)


def test_workers_killed_while_events_stream_in_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, demo_corebank: Path, activemq: Broker
) -> None:
    queue = new_queue()
    rng = random.Random(5)
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, extra_env=_events_env(activemq, queue)) as s:
        s.provider("primary", latency=0.01)
        s.triggered_campaign("Repaid", "primary")
        bodies = _repayments(s, 300, seed=12)
        redelivered = [*bodies, *rng.sample(bodies, 30)]

        def publish() -> None:  # Fineract's "Send Asynchronous Events" job, a few every few milliseconds
            for n in range(0, len(redelivered), 10):
                activemq.send_many(queue, redelivered[n : n + 10])
                time.sleep(0.03)

        publisher = threading.Thread(target=publish)
        worker = s.start_worker("worker")
        publisher.start()
        for round_ in range(4):  # kill -9 at random moments while events arrive, then start again
            time.sleep(rng.uniform(0.5, 2.0))
            s.kill(worker)
            worker = s.start_worker(f"worker-after-kill-{round_}")
        publisher.join()
        made = _all_made(s, len(bodies))
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        s.verdict(finished=finished and made).check()
        assert s.count_messages("Repaid") == len(bodies)


def test_events_that_arrive_while_the_core_bank_is_unreachable_are_never_acknowledged_and_each_sent_once_later(
    tmp_path: Path, demo_corebank: Path, activemq: Broker
) -> None:
    """The core bank down (a closed port): herald cannot find the events' recipients, so it must not take them off
    the queue. A worker on the core bank that answers again sends each once."""
    queue = new_queue()
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, extra_env=_events_env(activemq, queue)) as s:
        s.provider("primary")
        s.triggered_campaign("Repaid", "primary")
        bodies = _repayments(s, 40, seed=13)
        unreachable = s.env | {"HERALD_COREBANK_URL": "postgresql+psycopg://fineract@127.0.0.1:1/fineract_default"}
        down = s._spawn("worker-core-bank-down", ["worker"], unreachable)
        s.wait_started(down)
        activemq.send_many(queue, bodies)
        refused = s.wait_for(lambda: "handling a batch" in down.tail(40), TIMEOUT, step=0.2)
        assert refused, f"the worker never refused a batch:\n{down.tail(40)}"
        assert down.alive(), down.tail(40)
        assert s.count_messages("Repaid") == 0
        assert activemq.queue_depth(queue) == len(bodies), "an event was acknowledged without its messages"
        s.kill(down)
        worker = s.start_worker("worker-core-bank-back")
        s.wait_started(worker)
        made = _all_made(s, len(bodies))
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        s.verdict(finished=finished and made).check()
        assert s.count_messages("Repaid") == len(bodies)
        assert activemq.queue_depth(queue) == 0


def _consumer_of(worker: Proc) -> int | None:
    """The pid of the worker's event consumer (`herald events consume --for-worker`), if one runs."""
    pid = worker.popen.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    for child in children:
        try:
            if b"--for-worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
        except OSError:
            continue
    return None


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state == "Z"  # ended, not yet reaped by its (dead) parent's successor


def test_the_event_consumer_killed_under_its_worker_is_started_again_and_nothing_is_lost_or_sent_twice(
    tmp_path: Path, demo_corebank: Path, activemq: Broker
) -> None:
    """The worker reads the events in a process of its own: kill -9 that process (the OOM killer's pick) while
    events stream in; the worker starts another, and every repayment's receipt is accepted once."""
    queue = new_queue()
    rng = random.Random(9)
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, extra_env=_events_env(activemq, queue)) as s:
        s.provider("primary", latency=0.01)
        s.triggered_campaign("Repaid", "primary")
        bodies = _repayments(s, 240, seed=14)
        published = [*bodies, *rng.sample(bodies, 24)]
        worker = s.start_worker("worker")
        s.wait_started(worker)
        killed: list[int] = []
        for n in range(0, len(published), 8):
            activemq.send_many(queue, published[n : n + 8])
            if n % 64 == 0 and len(killed) < 3:
                found = s.wait_for(lambda: _consumer_of(worker) is not None, TIMEOUT, step=0.05)
                consumer = _consumer_of(worker)
                assert found and consumer is not None, f"no event consumer under the worker:\n{worker.tail(20)}"
                time.sleep(rng.uniform(0.05, 0.4))
                os.kill(consumer, signal.SIGKILL)
                killed.append(consumer)
            time.sleep(0.02)
        made = _all_made(s, len(bodies))
        assert worker.alive(), worker.tail(20)
        again = _consumer_of(worker)
        assert again is not None and again not in killed, "the worker did not start its consumer again"
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        s.verdict(finished=finished and made).check()
        assert s.count_messages("Repaid") == len(bodies)
        assert worker.tail(200).count("starting it again") >= len(killed), worker.tail(40)


def test_a_worker_killed_alone_takes_its_event_consumer_with_it_and_the_next_worker_sends_each_once(
    tmp_path: Path, demo_corebank: Path, activemq: Broker
) -> None:
    """kill -9 of the worker process only (not its group): its consumer must not read on unattended for ever.
    It finishes the batch in hand and exits; the next worker sends everything, each once."""
    queue = new_queue()
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank, extra_env=_events_env(activemq, queue)) as s:
        s.provider("primary", latency=0.01)
        s.triggered_campaign("Repaid", "primary")
        bodies = _repayments(s, 150, seed=15)
        worker = s.start_worker("worker")
        s.wait_started(worker)
        activemq.send_many(queue, bodies[:60])
        # the consumer idle when its worker dies: nothing to write that would tell it the worker is gone
        assert _all_made(s, 60), worker.tail(20)
        consumer = _consumer_of(worker)
        assert consumer is not None, worker.tail(20)
        os.kill(worker.popen.pid, signal.SIGKILL)
        worker.popen.wait()
        assert s.wait_for(lambda: _gone(consumer), 15.0, step=0.05), "the consumer outlived its worker"
        activemq.send_many(queue, bodies[60:])
        after = s.start_worker("worker-after")
        s.wait_started(after)
        made = _all_made(s, len(bodies))
        finished = s.run_until_final(time.monotonic() + TIMEOUT)
        s.verdict(finished=finished and made).check()
        assert s.count_messages("Repaid") == len(bodies)
