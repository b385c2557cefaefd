"""A throw-away ActiveMQ Classic broker for the test session: installed from Debian when missing, started
on free ports with its own configuration and KahaDB store, restartable, killed and removed afterwards.

Fineract's JMS producer sends each external event as a persistent BytesMessage. Over STOMP, a SEND
that carries a `content-length` header and `persistent:true` is stored by ActiveMQ as exactly that
(an ActiveMQBytesMessage, in KahaDB), so `Broker.send_bytes` gives a STOMP reader what Fineract's
messages give it. Every send waits for the broker's receipt: when it returns, the message is stored.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import stomp

from herald.demo.servers import free_port
from tests.debian import apt_install

_HOME = Path("/usr/share/activemq")
_RUN_JAR = _HOME / "bin" / "activemq.jar"  # Main-Class org.apache.activemq.console.Main
_START_TIMEOUT = 60.0
# The one account of the broker's; anonymous access stays allowed so most tests need no login.
USER, PASSWORD = "herald", "broker-s3cret"

# JVM flags: a small heap and the module openings the package's own /usr/bin/activemq passes on
# Java > 8; for tests also the client compiler only, which starts faster (benchmarks use both).
_QUICK_START = ("-XX:TieredStopAtLevel=1",)
_JVM = (
    "-Xms48m",
    "-Xmx192m",
    "-XX:+UseSerialGC",
    "-Djava.awt.headless=true",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
)

_CONFIG = """<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans
    http://www.springframework.org/schema/beans/spring-beans.xsd
    http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="herald-tests" useJmx="false"
          persistent="true" advisorySupport="false" schedulerSupport="false" dataDirectory="{data}">
    <persistenceAdapter>
      <!-- a send is stored before its receipt rather than alongside dispatch; the store lives in
           /dev/shm when the machine offers it, where the journal's fsyncs cost nothing -->
      <kahaDB directory="{data}/kahadb" journalMaxFileLength="8mb" concurrentStoreAndDispatchQueues="false"/>
    </persistenceAdapter>
    <plugins>
      <simpleAuthenticationPlugin anonymousAccessAllowed="true">
        <users><authenticationUser username="{user}" password="{password}" groups="users"/></users>
      </simpleAuthenticationPlugin>
    </plugins>
    <systemUsage><systemUsage>
      <memoryUsage><memoryUsage limit="64 mb"/></memoryUsage>
      <storeUsage><storeUsage limit="1 gb"/></storeUsage>
      <tempUsage><tempUsage limit="256 mb"/></tempUsage>
    </systemUsage></systemUsage>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://127.0.0.1:{openwire}"/>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:{stomp}"/>
    </transportConnectors>
  </broker>
</beans>
"""

_LOG4J = """log4j.rootLogger=INFO, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=%d %-5p %c{1} - %m%n
"""


def _install() -> None:
    """Install Debian's activemq package when the machine has none (CI starts from a bare image)."""
    apt_install("activemq")
    if not _RUN_JAR.exists():
        raise RuntimeError(f"activemq was installed but {_RUN_JAR} is still missing")


def _java() -> str:
    found = shutil.which("java")
    if found is None:
        raise RuntimeError(
            "java is missing although the activemq package depends on a JRE: apt-get install default-jre"
        )
    return found


class _Replies(stomp.ConnectionListener):
    """Receipts, messages and errors of one STOMP connection, for a thread that waits on them."""

    def __init__(self) -> None:
        self.receipts: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.messages: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.errors: list[str] = []

    def on_receipt(self, frame: Any) -> None:
        self.receipts.put(frame.headers.get("receipt-id", ""))

    def on_message(self, frame: Any) -> None:
        self.messages.put(frame)

    def on_error(self, frame: Any) -> None:
        self.errors.append(frame.headers.get("message", "?"))


class Broker:
    """One ActiveMQ process of the tests': its ports, its directory, and what tests do with it."""

    host = "127.0.0.1"

    def __init__(self, root: Path, *, quick_start: bool = True) -> None:
        self.root = root
        self.quick_start = quick_start
        self.stomp_port = free_port()
        self.openwire_port = free_port()
        self.log = root / "broker.log"
        self.startup_seconds: list[float] = []  # one figure per start, for the report and the bench
        self._process: subprocess.Popen[bytes] | None = None
        self._producer: tuple[stomp.Connection12, _Replies] | None = None
        self._lock = threading.Lock()
        conf, data = root / "conf", root / "data"
        conf.mkdir(parents=True)
        data.mkdir()
        (conf / "activemq.xml").write_text(
            _CONFIG.format(data=data, user=USER, password=PASSWORD, openwire=self.openwire_port, stomp=self.stomp_port)
        )
        (conf / "log4j.properties").write_text(_LOG4J)

    @property
    def openwire_url(self) -> str:
        """What Fineract's `fineract.events.external.producer.jms.broker-url` would say."""
        return f"tcp://{self.host}:{self.openwire_port}"

    # -- the process ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the broker (same directory, same ports) and return once it answers a STOMP CONNECT."""
        if not _RUN_JAR.exists():
            _install()
        conf, data = self.root / "conf", self.root / "data"
        began = time.monotonic()
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    _java(),
                    *_JVM,
                    *(_QUICK_START if self.quick_start else ()),
                    f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}",
                    f"-Dactivemq.home={_HOME}",
                    f"-Dactivemq.base={self.root}",
                    f"-Dactivemq.conf={conf}",
                    f"-Dactivemq.data={data}",
                    "-jar",
                    str(_RUN_JAR),
                    "start",
                    f"xbean:file:{conf / 'activemq.xml'}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() kills the JVM and anything it started
            )
        self._wait_until_ready()
        self.startup_seconds.append(time.monotonic() - began)

    def stop(self, *, hard: bool = False) -> None:
        """Stop the broker: SIGTERM (a clean KahaDB shutdown) or, with `hard`, SIGKILL as a crash would."""
        self._drop_producer()
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # the ports must be free again before a restart binds them
        for port in (self.stomp_port, self.openwire_port):
            _wait_port_closed(port)

    def restart(self, *, hard: bool = False) -> None:
        """Stop and start the same broker: same data directory, same ports, the stored messages kept."""
        self.stop(hard=hard)
        self.start()

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"ActiveMQ exited with {self._process.returncode} while starting; its log ({self.log}) ends:\n"
                    f"{self.log_tail()}"
                )
            if _port_open(self.stomp_port) and self._stomp_answers():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"ActiveMQ did not accept a STOMP CONNECT on port {self.stomp_port} within {_START_TIMEOUT:.0f} s;"
                    f" its log ({self.log}) ends:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _stomp_answers(self) -> bool:
        conn = stomp.Connection12([(self.host, self.stomp_port)], reconnect_attempts_max=1, auto_decode=False)
        try:
            conn.connect(wait=True)
        except Exception:  # not ready yet, whatever the reason; the caller's deadline decides
            return False
        conn.disconnect()
        return True

    # -- messages ------------------------------------------------------------------------------

    def connect(self, *, username: str | None = None, password: str | None = None) -> stomp.Connection12:
        """A plain stomp.py connection to this broker (bytes bodies), for tests that read side by side."""
        conn = stomp.Connection12([(self.host, self.stomp_port)], reconnect_attempts_max=1, auto_decode=False)
        conn.connect(username, password, wait=True)
        return conn

    def send_bytes(self, queue_name: str, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Store one persistent BytesMessage on the queue, as Fineract's JMS producer does; returns once stored."""
        self.send_many(queue_name, [body], headers)

    def send_many(self, queue_name: str, bodies: Iterable[bytes], headers: Mapping[str, str] | None = None) -> int:
        """Store many BytesMessages, in order, and return how many; the last one's receipt says all are stored.

        (The broker handles one connection's frames in order, and a SEND asking for a receipt is stored
        before the receipt is sent.)
        """
        pending = list(bodies)
        with self._lock:
            conn, replies = self._producer_connection()
            receipt = uuid.uuid4().hex
            for number, body in enumerate(pending, 1):
                frame_headers = _bytes_message_headers(body, headers)
                if number == len(pending):
                    frame_headers["receipt"] = receipt
                conn.send(_destination(queue_name), body, headers=frame_headers)
            if pending:
                self._await_receipt(replies, receipt)
            return len(pending)

    def queue_depth(self, queue_name: str) -> int:
        """Messages the queue holds, not acknowledged yet (delivered or not): a STOMP queue browser counts them."""
        conn = stomp.Connection12([(self.host, self.stomp_port)], reconnect_attempts_max=1, auto_decode=False)
        replies = _Replies()
        conn.set_listener("depth", replies)
        conn.connect(wait=True)
        try:
            conn.subscribe(_destination(queue_name), id="depth", ack="auto", headers={"browser": "true"})
            count = 0
            while True:
                frame = replies.messages.get(timeout=30)
                if frame.headers.get("browser") == "end":
                    return count
                count += 1
        finally:
            conn.disconnect()

    def _producer_connection(self) -> tuple[stomp.Connection12, _Replies]:
        if self._producer is None or not self._producer[0].is_connected():
            conn = stomp.Connection12([(self.host, self.stomp_port)], reconnect_attempts_max=1, auto_decode=False)
            replies = _Replies()
            conn.set_listener("producer", replies)
            conn.connect(wait=True)
            self._producer = (conn, replies)
        return self._producer

    def _await_receipt(self, replies: _Replies, receipt: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                if replies.receipts.get(timeout=max(0.0, deadline - time.monotonic())) == receipt:
                    return
            except queue.Empty:
                raise RuntimeError(f"ActiveMQ sent no receipt within 30 s (its errors: {replies.errors})") from None

    def _drop_producer(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):  # the broker may be gone already
                self._producer[0].disconnect()
            self._producer = None


def _destination(queue_name: str) -> str:
    return queue_name if queue_name.startswith("/") else f"/queue/{queue_name}"


def _bytes_message_headers(body: bytes, extra: Mapping[str, str] | None) -> dict[str, str]:
    # content-length makes ActiveMQ store a BytesMessage (without it: a TextMessage);
    # persistent because JMS producers, Fineract's among them, default to DeliveryMode.PERSISTENT
    return {"content-length": str(len(body)), "persistent": "true", **(extra or {})}


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_port_closed(port: int) -> None:
    deadline = time.monotonic() + 10
    while _port_open(port) and time.monotonic() < deadline:
        time.sleep(0.05)


def new_queue() -> str:
    """A queue name of one test's own, so tests share the session's broker safely."""
    return f"herald-test-{uuid.uuid4().hex}"


@contextmanager
def activemq_broker(*, quick_start: bool = True) -> Iterator[Broker]:
    """Yield a started broker of the tests' own; kill its process group and delete its directory afterwards."""
    shm = Path("/dev/shm")
    scratch = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="herald-activemq-", dir=scratch))
    broker = Broker(root, quick_start=quick_start)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop(hard=True)
        shutil.rmtree(root, ignore_errors=True)
