"""Running the external-event consumer beside the jobs, in a process of its own or in a thread.

The consumer stores what each batch of events produced (the transport acknowledges after) and says
which new messages are sendable; the worker's immediate sender sends them on its event loop, so a
repayment's receipt goes out without waiting for the send job's next tick.

Two ways to run it, one behaviour:
- `EventChild` (what `herald worker` and `herald serve` do): the consumer runs as
  `herald events consume --for-worker`, a process of its own with the worker's environment. Reading
  the broker, decoding and running the rules then never waits for the GIL behind the sending loop
  (a backlog drained at a fraction of the broker's pace when both shared one). The child writes one
  JSON line per stored batch to its stdout (`{"pending": [ids], "events": n, "created": n,
  "parked": n}`); the worker reads them and sends. The child stops when its stdin closes (the worker
  stopping, or killed: the pipe closes with it), on SIGTERM or SIGINT; a child that dies is started
  again after a pause. Nothing is lost either way: what a batch produced is stored before the line is
  written and before the broker's acknowledgement, and a message whose line never arrived waits for
  the send job.
- `EventStream.run` (tests, and `HERALD_EVENTS_CONSUMER=thread`): the same consumer in a thread of the
  worker's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from herald.events.transport import Delivery, EventSource
from herald.services.external_events import EventConsumer, Handled
from herald.services.immediate import ImmediateSender

log = logging.getLogger(__name__)

CHILD_ARGS = ("events", "consume", "--for-worker")
"""The command line (after `python -m herald`) of the consumer's own process."""
FIRST_RESTART = 1.0
LONGEST_RESTART = 30.0
_STEADY = 60.0  # a child that ran this long before it died is started again after the first pause
_IDS_PER_LINE = 2000  # about 20 KB a line, well within what the worker reads as one
_LINE_LIMIT = 1 << 20


@dataclass
class StreamState:
    """What the stream has done since this process started (for logs and the jobs page)."""

    batches: int = 0
    events: int = 0
    created: int = 0
    parked: int = 0
    last_at: datetime | None = None
    running: bool = False
    stopped: threading.Event = field(default_factory=threading.Event)

    def add(self, events: int, created: int, parked: int, at: datetime | None) -> None:
        self.batches += 1
        self.events += events
        self.created += created
        self.parked += parked
        self.last_at = at


class EventStream:
    """One subscription, consumed until `stop()`: `run_here` in the calling thread, `run` in a thread."""

    def __init__(self, source: EventSource, consumer: EventConsumer, immediate: ImmediateSender | None = None) -> None:
        """`immediate`: what sends the stored messages at once when run in a thread (`run`)."""
        self.source, self.consumer, self.immediate = source, consumer, immediate
        self.on_pending: Callable[[list[int]], None] | None = None  # told each batch's new sendable messages
        self.state = StreamState()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run_here(self) -> None:
        """Consume until stopped, in this thread; returns when the transport has let go of the broker."""

        def handle(batch: Sequence[Delivery]) -> None:
            done: Handled = self.consumer.handle(batch)
            self.state.add(done.events, done.created, done.parked, self.consumer.clock.now())
            if done.pending_ids and self.on_pending is not None:
                self.on_pending(list(done.pending_ids))

        self.state.running = True
        try:
            self.source.run(handle, self._stop)
        finally:
            self.state.running = False
            self.state.stopped.set()

    async def run(self) -> None:
        """Consume in a thread until stopped, the new messages sent by `immediate` on this loop."""
        loop = asyncio.get_running_loop()
        immediate = self.immediate
        assert immediate is not None, "EventStream.run sends: give it an ImmediateSender"

        def hand_over(ids: list[int]) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(immediate.submit, ids)

        self.on_pending = hand_over
        await asyncio.to_thread(self.run_here)


def consume_for_worker(stream: EventStream, stdin: IO[bytes], report: IO[bytes]) -> None:
    """The child's side of `EventChild`: consume, one JSON line per stored batch on `report`, until `stdin`
    closes or SIGTERM/SIGINT comes. A report that cannot be written (the worker is gone) stops the child;
    what the batch produced is stored already and the send job sends it."""

    def say(ids: list[int]) -> None:
        state = stream.state
        totals = {"events": state.events, "created": state.created, "parked": state.parked}
        try:
            for start in range(0, len(ids), _IDS_PER_LINE):  # a bulk event's thousands: lines the reader takes
                line = {"pending": ids[start : start + _IDS_PER_LINE], **totals}
                report.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            report.flush()
        except (OSError, ValueError):  # the worker is gone: its pipe is closed
            stream.stop()

    def watch_stdin() -> None:
        with contextlib.suppress(OSError, ValueError):
            while stdin.read(4096):
                pass
        stream.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stream.stop())
    stream.on_pending = say
    threading.Thread(target=watch_stdin, name="herald-events-stdin", daemon=True).start()
    stream.run_here()


class EventChild:
    """The consumer in a process of its own (`CHILD_ARGS`), its new messages sent by this loop's `immediate`."""

    def __init__(
        self, immediate: ImmediateSender, env: Mapping[str, str], *, argv: Sequence[str] | None = None
    ) -> None:
        self.immediate, self.env = immediate, dict(env)
        self.argv = list(argv) if argv is not None else [sys.executable, "-m", "herald", *CHILD_ARGS]
        self.state = StreamState()
        self.pid: int | None = None
        self._stopping = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None
        self._ending: asyncio.Future[None] | None = None  # the stopped child's end, once stop() is called
        self._grace = 10.0

    def stop(self) -> None:
        """Nothing more is taken from the broker: the child finishes its batch and exits (closing its stdin
        asks it to); one still there after the grace period is told (SIGTERM), then killed."""
        self._stopping.set()
        process = self._process
        if process is not None and process.returncode is None and self._ending is None:
            self._ending = asyncio.ensure_future(self._end(process, self._grace))

    async def run(self, grace: float = 10.0) -> None:
        """Run the child until `stop()`, starting it again (1 s, doubling to 30 s) whenever it dies."""
        pause, self._grace = FIRST_RESTART, grace
        self.state.running = True
        try:
            while not self._stopping.is_set():
                started = time.monotonic()
                try:
                    code: int | str | None = await self._once(grace)
                except OSError as e:  # it could not be started (no such program, no processes or files left)
                    code = f"none: it did not start ({type(e).__name__}: {e})"
                if self._stopping.is_set():
                    break
                if time.monotonic() - started >= _STEADY:
                    pause = FIRST_RESTART
                log.warning(
                    "the event consumer (pid %s) ended with code %s; starting it again in %.0f s",
                    self.pid, code, pause,
                )  # fmt: skip
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), pause)
                pause = min(pause * 2, LONGEST_RESTART)
        finally:
            self.state.running = False
            self.state.stopped.set()

    async def _once(self, grace: float) -> int | None:
        process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=self.env, limit=_LINE_LIMIT
        )
        self._process, self.pid = process, process.pid
        if self._stopping.is_set():
            self.stop()
        assert process.stdout is not None
        try:
            while True:
                try:
                    line = await process.stdout.readline()
                except ValueError:  # a line longer than any report: not the consumer speaking; it is ended
                    log.warning("the event consumer (pid %s) wrote a line of over %d bytes; ending it", self.pid,
                                _LINE_LIMIT)  # fmt: skip
                    break
                if not line:
                    break
                self._read(line)
            await self._end(process, grace)
            return process.returncode
        finally:
            await self._end(process, grace)
            self._process = None

    def _read(self, line: bytes) -> None:
        try:
            said: Any = json.loads(line)
            ids = [int(i) for i in said["pending"]]
            totals = (int(said["events"]), int(said["created"]), int(said["parked"]))
        except (ValueError, KeyError, TypeError):
            log.warning("the event consumer wrote a line that is not its report (%d bytes); ignored", len(line))
            return
        state = self.state
        state.batches += 1
        state.events, state.created, state.parked = totals
        if ids:
            self.immediate.submit(ids)

    @staticmethod
    async def _end(process: asyncio.subprocess.Process, grace: float) -> None:
        """The child gone for sure: asked (stdin closed), then told (SIGTERM), then killed."""
        if process.returncode is not None:
            return
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        for step in (process.terminate, process.kill):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), grace)
                return
            with contextlib.suppress(ProcessLookupError):
                step()
        await process.wait()
