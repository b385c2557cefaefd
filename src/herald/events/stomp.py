"""Fineract's external events from ActiveMQ over STOMP: batches handed over, then acknowledged one by one.

Fineract's JMS producer puts each event on a queue as a persistent BytesMessage. `StompSource`
subscribes with `ack: client` and a bounded prefetch, gathers what arrives into batches (at
most `batch_most` messages, or what `batch_window` seconds bring), calls `handle` with a batch and
only then acknowledges it: one ACK of its last message, with a receipt. In `client` mode an ACK
covers every message the subscription delivered before it, which is exactly what was handled:
batches are taken and handled in the order the broker delivered them, one at a time (one ACK
per message cost the consumer a fifth of its time under a backlog). That
receipt is awaited before the next batch's acknowledgements go out, so the broker works through
one batch's acks while the next is handled, and at most one batch is acknowledged but not yet
confirmed. A crash at any point leaves the unacknowledged messages on the broker, which delivers
them again (`redelivered` set).

It speaks STOMP 1.2 (ActiveMQ Classic does since 5.9; 1.2 names each delivery's own ack id).

Threads: stomp.py reads the socket in its receiver thread and answers heart-beats in another;
`handle` runs in the caller's thread (the one in `run`), never in the receiver thread. A slow
`handle` (a database stall, a big batch) so blocks neither the heart-beats nor the reading of
incoming frames: stomp.py's own check that the broker is alive would otherwise fail while the
receiver waits on `handle`, and drop a healthy connection. The receiver only queues frames.

Failures: when the broker cannot be reached, refuses the login, drops the connection or stops
answering heart-beats, or when `handle` raises, the transport logs one line (the address, never
the password; for a connection that never began, also what in HERALD_EVENTS_URL to check),
closes the connection (so the broker takes back everything unacknowledged), waits (1 s,
doubling to 30 s; back to 1 s after a batch went through) and connects again. It returns within
a fraction of a second after `stop` is set (a batch being handled is finished and acknowledged
first).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import stomp  # type: ignore[import-untyped]

from herald.domain.redact import redact_phones
from herald.errors import ConfigurationError
from herald.events.transport import Delivery, Handler

log = logging.getLogger(__name__)

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0
_CONNECT_TIMEOUT = 10.0  # TCP connect, then the broker's CONNECTED frame
_RECEIPT_TIMEOUT = 30.0  # the broker's receipt for a batch's acknowledgements
_POLL = 0.1  # how often a waiting thread looks at `stop`
_CLOSED = object()  # queued by the receiver when the connection ends, so the batching thread wakes


def next_pause(previous: float, *, progressed: bool) -> float:
    """The pause before the next connection attempt: 1 s first and after a session that got a batch through,
    else twice the previous pause, at most 30 s."""
    if progressed or previous <= 0:
        return FIRST_PAUSE
    return min(previous * 2, LONGEST_PAUSE)


class _Lost(Exception):
    """A session ended without `stop`: the reason (one line) and whether any batch was acknowledged."""

    def __init__(self, reason: str, *, progressed: bool = False) -> None:
        super().__init__(reason)
        self.progressed = progressed


class _Inbox:
    """The listener stomp.py calls from its receiver thread: it only records and queues, never waits."""

    def __init__(self) -> None:
        self.frames: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.receipts: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.reason = ""

    def end(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason
        self.closed.set()
        self.frames.put(_CLOSED)

    def on_connected(self, frame: Any) -> None:
        self.connected.set()

    def on_message(self, frame: Any) -> None:
        self.frames.put(frame)

    def on_receipt(self, frame: Any) -> None:
        self.receipts.put(str(frame.headers.get("receipt-id", "")))

    def on_error(self, frame: Any) -> None:
        said = frame.headers.get("message") or _text(frame.body) or "no reason given"
        self.end(f"the broker answered ERROR: {said}")

    def on_heartbeat_timeout(self) -> None:
        self.end("no heart-beat from the broker in time")

    def on_disconnected(self) -> None:
        self.end("the broker closed the connection")


class _QuietStomp(logging.Filter):
    """stomp.py's log, made safe: its warnings repeat what StompSource says in one line (some with a
    traceback) and are dropped; its debug lines show each frame sent, and its own masking misses the
    CONNECT frame's passcode (9.0 logs `b'passcode:...'` in clear), so passwords are masked here."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return False
        text = record.getMessage()
        if "passcode" in text or any(secret in text for secret in self.secrets):
            for secret in self.secrets:
                text = text.replace(secret, "********")
            record.msg, record.args = _PASSCODE.sub(r"\1********", text), None
        return True


# the rest of the frame line, as stomp.py prints a frame (a list of bytes: b'passcode:...\n')
_PASSCODE = re.compile(r"(passcode:).*?(?=\\n['\"]|\n|$)", re.DOTALL)
_quiet = _QuietStomp()


class StompSource:
    """A STOMP subscription to one ActiveMQ queue (an `EventSource`)."""

    def __init__(
        self,
        host: str,
        port: int,
        destination: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        prefetch: int = 1000,
        batch_most: int = 500,
        batch_window: float = 0.01,
        heartbeat_ms: int = 10000,
    ) -> None:
        if prefetch < 1 or batch_most < 1 or batch_window < 0 or heartbeat_ms < 0:
            raise ConfigurationError(
                f"ActiveMQ consumer settings out of range (prefetch {prefetch}, batch_most {batch_most},"
                f" batch_window {batch_window}, heartbeat_ms {heartbeat_ms}):"
                " prefetch and batch_most must be at least 1, batch_window and heartbeat_ms at least 0"
            )
        self.host, self.port = host, port
        # Fineract's property names the queue ("external-events"); STOMP names it /queue/external-events
        self.destination = destination if destination.startswith("/") else f"/queue/{destination}"
        self.username, self._password = username, password
        if password:
            _quiet.secrets.add(password)
        self.tls = tls
        self.prefetch, self.batch_most, self.batch_window = prefetch, batch_most, batch_window
        self.heartbeat_ms = heartbeat_ms
        who = f"{username}@" if username else ""
        self.where = f"stomp{'+ssl' if tls else ''}://{who}{host}:{port}{self.destination}"

    def __repr__(self) -> str:
        return f"StompSource({self.where})"

    def run(self, handle: Handler, stop: threading.Event) -> None:
        """Consume until `stop` is set, reconnecting (with a growing pause) whenever the broker is lost."""
        logging.getLogger("stomp.py").addFilter(_quiet)  # idempotent: a logger holds a filter once
        pause = 0.0
        while not stop.is_set():
            try:
                self._session(handle, stop)
                return
            except _Lost as lost:
                pause = next_pause(pause, progressed=lost.progressed)
                log.warning("events from %s: %s; connecting again in %.0f s", self.where, lost, pause)
                if stop.wait(pause):
                    return

    # -- one connection ------------------------------------------------------------------------

    def _session(self, handle: Handler, stop: threading.Event) -> None:
        """Connect, subscribe and consume until `stop` (returns) or until the connection is lost (raises _Lost)."""
        inbox = _Inbox()
        conn = self._connect(inbox, stop)
        if conn is None:
            return
        progressed = False
        unconfirmed: str | None = None
        try:
            conn.subscribe(
                self.destination,
                id="herald",
                ack="client",  # cumulative: see the module's docstring
                headers={"activemq.prefetchSize": str(self.prefetch)},
            )
            while not stop.is_set():
                batch = self._gather(inbox)
                if not batch:
                    continue
                deliveries = [_delivery(frame) for frame in batch]
                try:
                    handle(deliveries)
                except Exception as exc:  # any failure refuses the batch; it comes again
                    raise _Lost(
                        f"handling a batch of {len(batch)} failed ({type(exc).__name__}: {_one_line(exc)});"
                        " none of it acknowledged",
                        progressed=progressed,
                    ) from exc
                # at most one batch's acknowledgements unconfirmed: the broker works through them while
                # the next batch is handled, and a batch is confirmed before the one after next is handled
                if unconfirmed:
                    self._confirmed(inbox, unconfirmed, stop)
                unconfirmed = self._acknowledge(conn, batch)
                progressed = True
            if unconfirmed:
                self._confirmed(inbox, unconfirmed, stop)
        except _Lost as lost:
            raise _Lost(str(lost), progressed=progressed or lost.progressed) from lost
        except Exception as exc:  # stomp.py raises its own and socket errors when the link dies
            reason = f"the connection failed ({type(exc).__name__}: {_one_line(exc)})"
            raise _Lost(reason, progressed=progressed) from exc
        finally:
            _close(conn, inbox)

    def _connect(self, inbox: _Inbox, stop: threading.Event) -> Any | None:
        """A connected stomp.py connection, or None when `stop` was set meanwhile; raises _Lost on failure."""
        conn = self._connection(inbox)
        failure: list[str] = []
        abandoned = threading.Event()

        def attempt() -> None:
            # in a thread of its own: a TCP connect to an address that never answers would hold `run` past `stop`
            try:
                socket.create_connection((self.host, self.port), timeout=_CONNECT_TIMEOUT).close()
            except OSError as exc:
                failure.append(f"cannot reach {self.host}:{self.port} ({_one_line(exc) or type(exc).__name__})")
                return
            if abandoned.is_set():
                return
            try:
                conn.connect(self.username, self._password, wait=False)
            except Exception as exc:  # stomp.py's ConnectFailedException carries no reason
                failure.append(f"cannot connect to {self.host}:{self.port} ({type(exc).__name__})")

        connector = threading.Thread(target=attempt, name="herald-stomp-connect", daemon=True)
        connector.start()
        deadline = time.monotonic() + 2 * _CONNECT_TIMEOUT
        while not inbox.connected.wait(_POLL):
            if stop.is_set():
                abandoned.set()
                _close(conn, inbox)
                return None
            if failure or inbox.closed.is_set() or time.monotonic() > deadline:
                abandoned.set()
                _close(conn, inbox)
                said = failure[0] if failure else inbox.reason
                raise _Lost(self._unconnected(said or f"no answer to CONNECT within {2 * _CONNECT_TIMEOUT:.0f} s"))
        return conn

    def _unconnected(self, reason: str) -> str:
        """Why no session began, with what to check: the three ways a wrong HERALD_EVENTS_URL shows here."""
        if reason.startswith("cannot reach"):
            return f"{reason}: is ActiveMQ running there, with its STOMP connector on port {self.port}?"
        if reason.startswith("the broker answered ERROR") and re.search(r"password|user|login|auth", reason, re.I):
            return f"{reason}; check the user name and password in HERALD_EVENTS_URL"
        if reason == "the broker closed the connection":
            reason = "the broker closed the connection before answering CONNECT"
        if reason.startswith(("the broker closed", "no answer to CONNECT")):
            return (
                f"{reason}: is port {self.port} the broker's STOMP port"
                " (ActiveMQ's is 61613; 61616 is OpenWire, Fineract's side)?"
            )
        return reason

    def _connection(self, inbox: _Inbox) -> Any:
        hosts = [(self.host, self.port)]
        beat = (self.heartbeat_ms, self.heartbeat_ms)
        # one TCP attempt per connection: the pauses between attempts are ours (run), not stomp.py's
        conn = stomp.Connection12(
            hosts,
            heartbeats=beat,
            # ActiveMQ checks on a fixed period whether it wrote anything and sends a heart-beat only if it
            # did not, so after a message its next beat may come almost two periods after the last frame:
            # stomp.py's 1.5 dropped a healthy connection after one event in two
            heart_beat_receive_scale=2.5,
            auto_decode=False,
            reconnect_attempts_max=1,
            reconnect_sleep_initial=0,
            try_loopback_connect=False,
        )
        if self.tls:
            conn.set_ssl(for_hosts=hosts)
        conn.set_listener("herald", inbox)
        return conn

    def _gather(self, inbox: _Inbox) -> list[Any]:
        """The next batch: what is queued now, plus what arrives within batch_window, up to batch_most."""
        try:
            first = inbox.frames.get(timeout=_POLL)
        except queue.Empty:
            return []
        if first is _CLOSED:
            raise _Lost(inbox.reason)
        batch = [first]
        deadline = time.monotonic() + self.batch_window
        while len(batch) < self.batch_most:
            wait = deadline - time.monotonic()
            try:
                frame = inbox.frames.get(timeout=wait) if wait > 0 else inbox.frames.get_nowait()
            except queue.Empty:
                break
            if frame is _CLOSED:
                # the connection died under the batch: its acknowledgements could not reach the broker anyway
                raise _Lost(inbox.reason)
            batch.append(frame)
        return batch

    @staticmethod
    def _acknowledge(conn: Any, batch: Sequence[Any]) -> str:
        """ACK the batch (its last message, and so the ones before it), asking for a receipt; return its id."""
        receipt = uuid.uuid4().hex
        conn.ack(batch[-1].headers["ack"], receipt=receipt)  # 1.2: the delivery's ack header
        return receipt

    @staticmethod
    def _confirmed(inbox: _Inbox, receipt: str, stop: threading.Event) -> None:
        """Wait for the broker's receipt (receipts come in the order asked); raise _Lost if it cannot come."""
        deadline = time.monotonic() + _RECEIPT_TIMEOUT
        stopping_since: float | None = None
        while True:
            try:
                if inbox.receipts.get(timeout=_POLL) == receipt:
                    return
            except queue.Empty:
                pass
            now = time.monotonic()
            if inbox.closed.is_set():
                raise _Lost(f"{inbox.reason} before it confirmed the acknowledgements")
            if stop.is_set():
                # leaving soon: what the broker did not confirm it delivers again, which at-least-once allows
                stopping_since = stopping_since or now
                if now - stopping_since > 0.5:
                    return
            if now > deadline:
                raise _Lost(f"no receipt for the acknowledgements within {_RECEIPT_TIMEOUT:.0f} s")


def _delivery(frame: Any) -> Delivery:
    # a text body (a JMS TextMessage, or stomp.py decoding) is its UTF-8 bytes: bytes(str) raises, which
    # would refuse the batch at every redelivery instead of keeping the one message aside
    raw = frame.body or b""
    body = raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else bytes(raw)
    return Delivery(
        body=body,
        message_id=str(frame.headers.get("message-id", "")),
        redelivered=frame.headers.get("redelivered") == "true",
    )


def _close(conn: Any, inbox: _Inbox) -> None:
    """Close the connection without waiting long: the broker takes back whatever was not acknowledged."""
    try:
        if conn.is_connected():
            conn.disconnect()  # DISCONNECT; stomp.py closes the socket when the broker's receipt comes
            inbox.closed.wait(0.5)
    except Exception:  # the link may be dead already; closing the socket below is what counts
        pass
    with contextlib.suppress(Exception):  # as above
        conn.transport.disconnect_socket()


def _text(body: Any) -> str:
    raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body or "")
    return _one_line(raw)


def _one_line(value: object) -> str:
    """An error's text for the log: one line, short, any phone number in it (a database error quoting a row) masked."""
    return redact_phones(" ".join(str(value).split())[:300]) or ""
