"""This process's presence among herald's sending processes: its heartbeat, and what follows from the others'.

One Presence per process, owned by the composition root. While anything in the process sends
(`alive()`), a heartbeat every `heartbeat_seconds` renews the leases of the messages it holds,
settles the claims of processes that went silent, and sets every provider gate's share of the rate
limit to 1 / live processes. A process whose own heartbeat has not been written for a while stops
handing messages over (`fresh`): the others may already be settling its claims.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine

from herald.providers.gate import Gates
from herald.store import workers

log = logging.getLogger(__name__)


RUNS_JOBS = "jobs"
"""The kind of a process that runs the three jobs continuously (`herald worker`, `herald serve`)."""


class Presence:
    def __init__(
        self,
        store: Engine,
        gates: Gates,
        now: Callable[[], datetime],
        kind: str,
        *,
        lease: timedelta,
        heartbeat_seconds: float,
        timeout: timedelta,
        settle_after: timedelta = timedelta(seconds=11),
    ) -> None:
        self.store, self.gates, self.now, self.kind = store, gates, now, kind
        self.host = socket.gethostname()
        self.id = f"{self.host}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease = lease  # renewed at each heartbeat for the messages this process holds
        self.interval = heartbeat_seconds
        self.timeout = timeout  # silent for longer: dead, its claims are settled by the others
        self.settle_after = settle_after  # how long a dead process's requests may still be on their way
        self.last_beat: datetime | None = None
        self._abandoned: set[int] = set()  # claims whose batch failed before recording: handed back at the next beat
        self._users = 0
        self._task: asyncio.Task[None] | None = None
        # Its own thread: a heartbeat queued behind the send job's database work would look like a dead process.
        self._beater = ThreadPoolExecutor(max_workers=1, thread_name_prefix="herald-heartbeat")

    def beat(self) -> int:
        """One heartbeat (synchronous, a short write transaction); returns the live sending processes."""
        now = self.now()
        abandoned = list(self._abandoned)
        with self.store.begin() as conn:
            if abandoned:
                workers.release(conn, [self.id], abandoned)
            live = workers.beat(
                conn,
                self.id,
                host=self.host,
                pid=os.getpid(),
                kind=self.kind,
                now=now,
                lease=self.lease,
                timeout=self.timeout,
                settle_after=self.settle_after,
            )
        self.last_beat = now
        self._abandoned.difference_update(abandoned)
        self.gates.set_share(1.0 / live)
        return live

    def abandon(self, ids: list[int]) -> None:
        """Claims this process will not settle (their batch failed): hand them back at the next heartbeat."""
        self._abandoned.update(ids)

    def fresh(self, now: datetime) -> bool:
        """Whether this process may still hand a message over: its heartbeats are being written.

        They go on while a request is out, so only a heartbeat that failed for half the timeout
        (the database away, the loop stalled) stops sending, well before anybody may take our claims.
        """
        return self.last_beat is not None and now - self.last_beat < self.timeout / 2

    async def ensure(self, *, now: bool = False) -> None:
        """Make sure this process has said it is here (the first send of a one-off run); `now`: beat anyway
        (what it says of itself, its kind, has just changed).

        A heartbeat that cannot be written (the database busy or away) is not fatal: `fresh` then
        keeps this process from sending until one is."""
        if now or self.last_beat is None or self.now() - self.last_beat > timedelta(seconds=self.interval):
            try:
                await asyncio.get_running_loop().run_in_executor(self._beater, self.beat)
            except Exception as exc:
                log.warning("heartbeat not written: %s", exc)

    @asynccontextmanager
    async def alive(self) -> AsyncIterator[None]:
        """Heartbeat while inside (nested uses share one heartbeat)."""
        await self.ensure()  # a pass that starts after a long quiet spell starts with a fresh heartbeat
        self._users += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._beat_forever())
        try:
            yield
        finally:
            self._users -= 1
            if self._users == 0 and self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
                self._task = None

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.get_running_loop().run_in_executor(self._beater, self.beat)
            except Exception as exc:  # the database is away: keep trying; `fresh` stops our sends meanwhile
                log.warning("heartbeat not written: %s", exc)

    def job_runners(self) -> list[workers.LiveProcess]:
        """The live processes that run the three jobs: none means an activated campaign is not being sent."""
        with self.store.connect() as conn:
            return [p for p in workers.live(conn, self.now(), self.timeout) if p.kind == RUNS_JOBS]

    def mark_stopping(self) -> None:
        """This process stops: the others stop counting it for rate shares."""
        with self.store.begin() as conn:
            workers.stopping(conn, self.id)

    def leave(self) -> int:
        """Hand back what this process still holds and remove its row (a clean stop)."""
        with self.store.begin() as conn:
            released = workers.leave(conn, self.id)
        self.last_beat = None
        return released
