"""StompSource against a real ActiveMQ: bodies byte for byte, nothing acknowledged before `handle` returned,
nothing lost when the consumer is killed or the broker restarts, and a clean retry when the broker refuses."""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from herald.demo.servers import free_port
from herald.errors import ConfigurationError
from herald.events.stomp import StompSource, next_pause
from herald.events.transport import Delivery
from tests.activemq import PASSWORD, USER, Broker, new_queue

pytestmark = pytest.mark.xdist_group("activemq")  # one broker for every module that uses it

_ROOT = Path(__file__).resolve().parents[2]
NUMBER = "254712345678"
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
                # as a database's error may quote a row: with a client's number in it
                raise RuntimeError(f"the database is down (a test's handle): key (+{NUMBER}) already exists")
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


def test_a_jms_bytes_message_sent_over_openwire_reads_over_stomp_as_send_bytes_makes_it(activemq: Broker) -> None:
    """The fixture's claim, checked: Fineract's kind of message (JMS BytesMessage, persistent, OpenWire)
    and tests.activemq.send_bytes give a STOMP reader the same bytes and the same headers."""
    bodies = [bytes(range(256)), b"\x00", b"\xc3\x01" + os.urandom(3000)]
    from_jms, from_stomp = new_queue(), new_queue()
    producer = str(_ROOT / "tests/events/java/OpenWireProducer.java")
    produced = subprocess.run(  # the JDK runs a single source file as it is; twice the bodies: two readers
        ["java", "-cp", "/usr/share/activemq/lib/*", producer, activemq.openwire_url, from_jms],
        input="".join(f"{body.hex()}\n" for body in bodies * 2),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert produced.returncode == 0, produced.stderr[-2000:]
    activemq.send_many(from_stomp, bodies)
    jms, ours = _read_frames(activemq, from_jms, len(bodies)), _read_frames(activemq, from_stomp, len(bodies))
    assert [f.body for f in jms] == [f.body for f in ours] == bodies
    varying = {"message-id", "timestamp", "destination", "ack"}
    assert [{k: v for k, v in f.headers.items() if k not in varying} for f in jms] == [
        {k: v for k, v in f.headers.items() if k not in varying} for f in ours
    ]
    assert all(f.headers["persistent"] == "true" and "content-length" in f.headers for f in jms)

    recorder = Recorder()  # and StompSource reads the JMS ones (the second copies) as bytes too
    with consuming(source(activemq, from_jms), recorder):
        recorder.wait_for(len(bodies))
    assert recorder.bodies() == bodies


def _read_frames(broker: Broker, queue_name: str, count: int) -> list[Any]:
    frames: queue.SimpleQueue[Any] = queue.SimpleQueue()

    class Reader:
        def on_message(self, frame: Any) -> None:
            frames.put(frame)

    conn = broker.connect()
    conn.set_listener("reader", Reader())
    # acknowledging only what it takes: the rest goes back to the queue when it disconnects
    conn.subscribe(f"/queue/{queue_name}", id="read", ack="client-individual")
    try:
        taken = [frames.get(timeout=_WAIT) for _ in range(count)]
        for frame in taken:
            conn.ack(frame.headers["ack"])
        return taken
    finally:
        conn.disconnect()


def test_a_handle_that_raises_gets_the_same_messages_again_and_none_was_acknowledged(
    activemq: Broker, caplog: pytest.LogCaptureFixture
) -> None:
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
    failed = [line for line in _warnings(caplog) if "handling a batch" in line]
    assert len(failed) == 2 and all("already exists" in line for line in failed), failed
    assert NUMBER[-9:] not in caplog.text, "a client's number in the log"


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
        # 20 lines: batch 1 was handled and acknowledged, batch 2 is in handle, stalled; batch 3 sits
        # unacknowledged in the consumer's prefetch. 20 on the queue: the broker took batch 1's acks.
        while _lines(record) < 20 or activemq.queue_depth(queue_name) > 20:
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
        # batch 1's receipt was awaited before batch 2's acks went out; batch 2's acks may still be on their way
        acknowledged = [d.body for d in recorder.batches[0]]
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
    assert len(acknowledged) == 10
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


def test_a_handle_slower_than_many_heart_beats_keeps_its_connection_and_its_batch_is_acknowledged_once(
    activemq: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    queue_name = new_queue()
    activemq.send_many(queue_name, [b"\x00slow", b"\x00next"])
    release = threading.Event()

    def slow_first(number: int) -> None:
        if number == 1:
            release.wait(3.0)  # a database stall: 6 heart-beat periods, 4 of the broker's read timeouts

    recorder = Recorder(on_batch=slow_first)
    slow = source(activemq, queue_name, heartbeat_ms=500, batch_most=1)
    with consuming(slow, recorder):
        recorder.wait_for(2)
    # had the stall kept heart-beats from flowing, the connection would have been dropped and the
    # stalled batch given again (redelivered), with a warning
    assert recorder.bodies() == [b"\x00slow", b"\x00next"]
    assert not any(d.redelivered for d in recorder.deliveries)
    assert _warnings(caplog) == []
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


def test_the_pause_between_attempts_starts_at_1_s_doubles_to_30_s_and_resets_after_a_batch_went_through() -> None:
    pauses = [next_pause(0.0, progressed=False)]
    for _ in range(7):
        pauses.append(next_pause(pauses[-1], progressed=False))
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert next_pause(30.0, progressed=True) == 1.0


def test_settings_out_of_range_are_refused_with_what_is_wrong() -> None:
    with pytest.raises(ConfigurationError, match="batch_most 0"):
        StompSource("127.0.0.1", 61613, "external-events", batch_most=0)
    assert StompSource("127.0.0.1", 61613, "external-events").destination == "/queue/external-events"


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        ("password", "; check the user name and password in HERALD_EVENTS_URL"),
        ("openwire port", ": is port {port} the broker's STOMP port (ActiveMQ's is 61613; 61616 is OpenWire"),
        ("nothing listening", ": is ActiveMQ running there, with its STOMP connector on port {port}?"),
    ],
)
def test_a_wrong_events_url_logs_what_to_check_as_well_as_what_failed(
    activemq: Broker, caplog: pytest.LogCaptureFixture, wrong: str, hint: str
) -> None:
    caplog.set_level(logging.WARNING)
    port = {"password": activemq.stomp_port, "openwire port": activemq.openwire_port}.get(wrong) or free_port()
    password = "not-the-Pa55word" if wrong == "password" else PASSWORD
    misled = StompSource(activemq.host, port, new_queue(), username=USER, password=password)
    with consuming(misled, Recorder()):
        deadline = time.monotonic() + _WAIT
        while not _warnings(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)
    [first, *_] = _warnings(caplog)
    assert hint.format(port=port) in first, first
    assert password not in caplog.text


def test_a_connection_that_got_a_message_between_the_brokers_heart_beats_is_kept(
    activemq: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    # ActiveMQ checks on a fixed period whether it wrote anything and sends a heart-beat only if not,
    # so after a message its next heart-beat can come almost two periods after the last frame
    caplog.set_level(logging.WARNING)
    queue_name = new_queue()
    recorder = Recorder()
    with consuming(source(activemq, queue_name, heartbeat_ms=1000), recorder):
        time.sleep(0.5)
        for number in range(8):
            activemq.send_bytes(queue_name, b"\x00" + bytes([number]))
            time.sleep(2.3)  # each message at another point of the broker's period; idle past 2 periods after
        recorder.wait_for(8)
    assert _warnings(caplog) == []
    assert not any(d.redelivered for d in recorder.deliveries)
