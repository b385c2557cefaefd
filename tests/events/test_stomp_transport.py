"""StompSource against a real ActiveMQ: bodies byte for byte, nothing acknowledged before `handle` returned,
nothing lost when the consumer is killed or the broker restarts, and a clean retry when the broker refuses."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from herald.demo.servers import free_port
from herald.events.stomp import StompSource
from herald.events.transport import Delivery
from tests.activemq import PASSWORD, USER, Broker, new_queue

pytestmark = pytest.mark.xdist_group("activemq")  # one broker for every module that uses it

_ROOT = Path(__file__).resolve().parents[2]
_WAIT = 60.0  # a bound for things that happen in milliseconds; reaching it is a failure, not a measurement


class Recorder:
    """A handle that keeps every delivery it was given, in order; `fail_first` batches raise instead."""

    def __init__(self, *, fail_first: int = 0, on_batch: Callable[[int], None] | None = None) -> None:
        self.batches: list[list[Delivery]] = []
        self.refused: list[list[Delivery]] = []
        self._fail_first = fail_first
        self._on_batch = on_batch
        self._changed = threading.Condition()

    def __call__(self, batch: Sequence[Delivery]) -> None:
        with self._changed:
            if len(self.refused) < self._fail_first:
                self.refused.append(list(batch))
                self._changed.notify_all()
                raise RuntimeError("the database is down (a test's handle)")
        if self._on_batch is not None:
            self._on_batch(len(self.batches) + 1)
        with self._changed:
            self.batches.append(list(batch))
            self._changed.notify_all()

    @property
    def deliveries(self) -> list[Delivery]:
        with self._changed:
            return [d for batch in self.batches for d in batch]

    def bodies(self) -> list[bytes]:
        return [d.body for d in self.deliveries]

    def wait_for(self, count: int, *, refused: int = 0) -> None:
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: sum(map(len, self.batches)) >= count and len(self.refused) >= refused, timeout=_WAIT
            )
        assert arrived, f"{sum(map(len, self.batches))} of {count} deliveries and {len(self.refused)} refusals"


@contextmanager
def consuming(source: StompSource, handle: Callable[[Sequence[Delivery]], None]) -> Iterator[threading.Thread]:
    """Run source.run(handle, stop) in a thread; set stop after the block and wait for run to return."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            source.run(handle, stop)
        except BaseException as exc:  # a crash of run is what the tests look for
            failures.append(exc)

    thread = threading.Thread(target=run, name="stomp-source-under-test", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "run did not return after stop was set"
    assert not failures, f"run raised {failures[0]!r}"


def source(broker: Broker, queue_name: str, **options: object) -> StompSource:
    return StompSource(broker.host, broker.stomp_port, queue_name, **options)  # type: ignore[arg-type]


def numbered(count: int, *, size: int = 16) -> list[bytes]:
    """Distinct bodies with a NUL and bytes >= 0x80 in each, as Avro's single-object encoding has."""
    return [b"\xc3\x01" + i.to_bytes(4, "big") + b"\x00\xff" * (size // 2) for i in range(count)]


def test_bodies_arrive_byte_for_byte_with_nul_high_bytes_and_64_kb(activemq: Broker) -> None:
    queue_name = new_queue()
    bodies = [
        bytes(range(256)),
        b"\x00",
        b"\x00\x00\n\r\n\x00",  # what STOMP's framing would cut at, were content-length missing
        b"\xc3\x01" + os.urandom(200),
        os.urandom(64 * 1024),
        b"\x00" * (64 * 1024),
        "Ksh 1,500 – asante".encode(),
    ]
    for body in bodies:
        activemq.send_bytes(queue_name, body)
    recorder = Recorder()
    with consuming(source(activemq, queue_name), recorder):
        recorder.wait_for(len(bodies))
    assert recorder.bodies() == bodies
    assert all(type(d.body) is bytes and d.message_id and not d.redelivered for d in recorder.deliveries)
    assert activemq.queue_depth(queue_name) == 0  # each was acknowledged once handled


def test_a_handle_that_raises_gets_the_same_messages_again_and_none_was_acknowledged(activemq: Broker) -> None:
    queue_name = new_queue()
    bodies = numbered(50)
    activemq.send_many(queue_name, bodies)
    recorder = Recorder(fail_first=2)
    with consuming(source(activemq, queue_name, batch_most=20, batch_window=0.5), recorder):
        recorder.wait_for(len(bodies), refused=2)
    # each refusal was followed by a reconnection, and the broker gave the refused messages again
    for refused in recorder.refused:
        assert {d.body for d in refused} <= set(recorder.bodies())
    assert Counter(recorder.bodies()) == Counter(bodies)  # once each after the refusals: nothing acknowledged early
    assert all(d.redelivered for d in recorder.deliveries if d.body in {r.body for r in recorder.refused[0]})
    assert activemq.queue_depth(queue_name) == 0


def test_a_consumer_killed_mid_batch_leaves_its_unacknowledged_messages_to_the_next_and_only_those(
    activemq: Broker, tmp_path: Path
) -> None:
    queue_name = new_queue()
    bodies = numbered(30)
    activemq.send_many(queue_name, bodies)
    record = tmp_path / "handled"
    where = [activemq.host, str(activemq.stomp_port), queue_name]
    consumer = subprocess.Popen(
        [sys.executable, "-m", "tests.events.stomp_consumer", *where, str(record), "10"],
        cwd=_ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + _WAIT
        # 20 lines: batch 1 was handled and acknowledged (the receipt came before batch 2 was taken),
        # batch 2 is in handle, stalled; batch 3 sits unacknowledged in the consumer's prefetch
        while _lines(record) < 20:
            assert consumer.poll() is None, consumer.stderr.read() if consumer.stderr else ""
            assert time.monotonic() < deadline, f"the consumer handled {_lines(record)} of 20 messages"
            time.sleep(0.05)
    finally:
        consumer.kill()
        consumer.wait()
    handled = [line.split() for line in record.read_text().splitlines()]
    first_batch = {bytes.fromhex(body) for number, body in handled if number == "1"}
    assert len(first_batch) == 10 and len(handled) == 20

    recorder = Recorder()
    with consuming(source(activemq, queue_name), recorder):
        recorder.wait_for(20)
    again = recorder.bodies()
    assert Counter(again) == Counter(b for b in bodies if b not in first_batch)  # batches 2 and 3, each once
    assert activemq.queue_depth(queue_name) == 0  # and batch 1 is not waiting somewhere either


def test_a_broker_restart_while_consuming_loses_nothing_and_acknowledged_batches_come_once(
    activemq: Broker,
) -> None:
    queue_name = new_queue()
    before, after = numbered(100), [b"after" + b for b in numbered(50)]
    activemq.send_many(queue_name, before)
    in_third_batch, release = threading.Event(), threading.Event()

    def stall_third(number: int) -> None:
        if number == 3:
            in_third_batch.set()
            assert release.wait(_WAIT)

    recorder = Recorder(on_batch=stall_third)
    with consuming(source(activemq, queue_name, batch_most=10, batch_window=0.5), recorder):
        assert in_third_batch.wait(_WAIT)
        acknowledged = recorder.bodies()  # batches 1 and 2: their receipts came before batch 3 was taken
        try:
            activemq.restart(hard=True)  # a crash: KahaDB must still hold every unacknowledged message
        finally:
            release.set()
        activemq.send_many(queue_name, after)
        recorder.wait_for(len(before) + len(after))
        # the consumer reconnected by itself; now wait until everything is acknowledged
        deadline = time.monotonic() + _WAIT
        while activemq.queue_depth(queue_name) and time.monotonic() < deadline:
            time.sleep(0.1)
    got = Counter(recorder.bodies())
    assert len(acknowledged) == 20
    assert set(got) == set(before) | set(after)  # every body at least once
    assert all(got[b] == 1 for b in acknowledged)  # exactly once where the ack was confirmed before the crash
    assert activemq.queue_depth(queue_name) == 0


def test_messages_sent_while_no_consumer_runs_survive_a_broker_restart_and_arrive_when_it_starts(
    activemq: Broker,
) -> None:
    queue_name = new_queue()
    bodies = numbered(300, size=1024)
    activemq.send_many(queue_name, bodies)
    activemq.restart()
    assert activemq.queue_depth(queue_name) == len(bodies)
    recorder = Recorder()
    with consuming(source(activemq, queue_name), recorder):
        recorder.wait_for(len(bodies))
    assert recorder.bodies() == bodies  # all of them, once, in the order sent
    assert activemq.queue_depth(queue_name) == 0


@pytest.mark.parametrize("where", ["connected and idle", "nothing listening", "address that never answers"])
def test_run_returns_once_stop_is_set(activemq: Broker, where: str) -> None:
    host, port = {
        "connected and idle": (activemq.host, activemq.stomp_port),
        "nothing listening": ("127.0.0.1", free_port()),
        "address that never answers": ("10.255.255.1", 61613),  # unroutable: a TCP connect there hangs
    }[where]
    idle = StompSource(host, port, new_queue())
    with consuming(idle, Recorder()) as thread:
        time.sleep(0.3)  # let it connect, or fail and start its pause; stop must end either
        assert thread.is_alive()  # still trying, not crashed
    # consuming() asserts run returned after stop; bench/stomp_transport.py measures how fast


def test_a_wrong_password_logs_one_clear_line_per_attempt_retries_and_never_logs_the_password(
    activemq: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    queue_name = new_queue()
    activemq.send_bytes(queue_name, b"\x00kept")
    refused = source(activemq, queue_name, username=USER, password="not-the-Pa55word")
    recorder = Recorder()
    with consuming(refused, recorder) as thread:
        deadline = time.monotonic() + _WAIT
        while len(_warnings(caplog)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert thread.is_alive()
    lines = _warnings(caplog)
    assert len(lines) >= 2, lines  # it tried again after its pause
    for line in lines:
        assert "\n" not in line
        assert f"stomp://{USER}@{activemq.host}:{activemq.stomp_port}/queue/{queue_name}" in line
        assert "User name [herald] or password is invalid" in line
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)
    assert "not-the-Pa55word" not in caplog.text
    assert recorder.deliveries == [] and activemq.queue_depth(queue_name) == 1

    accepted = source(activemq, queue_name, username=USER, password=PASSWORD)
    with consuming(accepted, recorder):
        recorder.wait_for(1)
    assert recorder.bodies() == [b"\x00kept"]
    assert PASSWORD not in caplog.text


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "herald.events.stomp" and r.levelno >= logging.WARNING]


def _lines(path: Path) -> int:
    try:
        return len(path.read_text().splitlines())
    except FileNotFoundError:
        return 0
