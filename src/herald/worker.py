"""The worker: runs the three jobs continuously, each at its own interval, in one event loop.

Provider connections (HTTP sessions, the SMPP bind) live as long as the loop; breakers and rate
limits belong to the process (the composition root's gates). The jobs run in three lanes:
materializing, CPU- and database-bound, in a thread, where every chunk it writes wakes the send job,
which sends while the rest is still being written; sending on its own, so a long delivery-report
pull never keeps new messages waiting; the other jobs in turn. A watch of the campaigns table
starts materializing as soon as a campaign becomes due (activated here, in the server or by the CLI
of another machine) instead of at the job's next interval. SIGTERM or SIGINT stops it gracefully: nothing more
is claimed, what is being sent is finished (or, past the grace period, handed back in doubt for the
next worker to ask about), and the process leaves the workers' table.

It is also where the jobs are wired from a Herald's parts for the other entry points (the CLI's
one-off runs, the server's Run now and hook sends): `sender_for`, `puller_for`, `run_now`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from herald.app import Herald
from herald.config import settings_environment
from herald.domain.campaign import Campaign
from herald.domain.jobs import Job
from herald.errors import CoreBankError
from herald.events.sources import open_source
from herald.services import on_demand
from herald.services.audit import Actor
from herald.services.catchup import CatchUp
from herald.services.corebank_health import CoreBankHealth
from herald.services.event_stream import EventChild, EventStream
from herald.services.immediate import ImmediateSender
from herald.services.loop import run_loop
from herald.services.materialize import MaterializePolicy, Materializer
from herald.services.outbound import Outbound, due_campaigns
from herald.services.presence import RUNS_JOBS
from herald.services.reports import ReportPuller
from herald.services.runs import JobRun, nothing_to_do, recorded
from herald.services.send import Sender, SendPolicy
from herald.services.transient_resend import TransientResender, TransientResendPolicy

log = logging.getLogger(__name__)


SEND_SLICE = 5.0
"""Seconds one send pass may last before the other jobs get their turn (a backlog resumes at once)."""

GRACE = 8.0
"""Seconds a stopping worker gives the requests in flight before it hands their messages back."""

WATCH_EVERY = 0.025
"""Seconds between two looks for a campaign that became due: an activation anywhere is seen this soon."""

SEND_WHILE_WRITING = 0.1
"""Seconds at most between two send passes while materializing runs (another process's chunks wake nobody)."""


def sender_for(herald: Herald) -> Sender:
    """A sender on this process's parts: its store, providers and their gates, presence, clock and offices."""
    return Sender(
        store=herald.store,
        providers=herald.providers,
        gates=herald.gates,
        presence=herald.presence,
        clock=herald.clock,
        offices=herald.offices,
        policy=SendPolicy.of(herald.settings),
        telemetry=herald.telemetry,
    )


def outbound_for(herald: Herald) -> Outbound:
    """The materialize job on this process's store, core banks, office profiles, clock and calendar."""
    materializer = Materializer(
        store=herald.store,
        corebanks=herald.corebanks,
        offices=herald.offices,
        clock=herald.clock,
        policy=MaterializePolicy.of(herald.settings, herald.providers.alphabets),
    )
    return Outbound(herald.store, materializer, herald.clock, herald.calendar)


def puller_for(herald: Herald) -> ReportPuller:
    """The delivery-report job on this process's store, providers and clock, with the re-send policy."""
    resender = TransientResender(
        store=herald.store,
        clock=herald.clock,
        offices=herald.offices,
        calendar=herald.calendar,
        policy=TransientResendPolicy.of(herald.settings),
    )
    return ReportPuller(herald.store, herald.providers, herald.clock, herald.settings.reports_poll_after, resender)


def catchup_for(herald: Herald) -> CatchUp:
    """The catch-up job on this process's store, core banks, office profiles, calendar and clock."""
    return CatchUp(
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        date_format=herald.settings.date_format,
        default_region=herald.settings.default_region,
        alphabets=herald.providers.alphabets,
        batch=herald.settings.catchup_batch,
        settle=timedelta(seconds=herald.settings.catchup_settle),
    )


async def run_now(herald: Herald, job: Job, actor: Actor) -> JobRun:
    """One run of `job` by hand (the API's and the UI's Run now), in the server's loop, audited."""
    return await on_demand.run_now(
        job,
        store=herald.store,
        clock=herald.clock,
        outbound=outbound_for(herald).run_due,
        sender=sender_for(herald),
        puller=puller_for(herald),
        catchup=catchup_for(herald).run,
        actor=actor,
    )


def event_stream_for(herald: Herald) -> EventStream | None:
    """The subscription to Fineract's external events that HERALD_EVENTS_URL names, or None when unset."""
    address = herald.settings.events_broker
    if address is None:
        return None
    # The dead letters' retry builds its consumer the same way: what one would do with a message, the other does.
    return EventStream(open_source(address), herald.event_consumer())


def events_consumer_for(herald: Herald, sender: Sender, *, apart: bool) -> EventChild | EventStream | None:
    """What reads Fineract's external events beside the jobs, when HERALD_EVENTS_URL is set: a process of its
    own with this herald's settings (`apart`), or a thread of this process. Either hands the messages it
    stored to `sender` at once."""
    address = herald.settings.events_broker
    if address is None:
        return None
    immediate = ImmediateSender(sender)
    if apart:
        return EventChild(immediate, settings_environment(herald.settings, os.environ))
    return EventStream(open_source(address), herald.event_consumer(), immediate)


class Worker:
    """Runs the jobs when their interval has passed; `tick()` does one pass, `run()` loops."""

    def __init__(
        self, herald: Herald, monotonic: Callable[[], float] = time.monotonic, *, events_apart: bool | None = None
    ) -> None:
        """`events_apart`: read Fineract's external events in a process of its own (None: as
        HERALD_EVENTS_CONSUMER says, a process unless it says thread)."""
        self.herald = herald
        self.events_apart = herald.settings.events_consumer == "process" if events_apart is None else events_apart
        self.sender = sender_for(herald)
        self.puller = puller_for(herald)
        self.health = CoreBankHealth(store=herald.store, corebanks=herald.corebanks, clock=herald.clock)
        self.stop_requested = False
        self.on_stop: Callable[[str], None] | None = None  # where to say what a stop is doing
        self._monotonic = monotonic
        settings = herald.settings
        self.intervals = {
            Job.UPDATE_OUTBOUND: settings.materialize_interval,
            Job.SEND: settings.send_interval,
            Job.DELIVERY_REPORTS: settings.reports_interval,
            Job.CATCH_UP: settings.catchup_interval,
        }
        self._next = dict.fromkeys(self.intervals, 0.0)
        self._wake = asyncio.Event()  # set: the other jobs' wait ends now
        self._send_wake = asyncio.Event()  # set: the send job's wait ends now (a chunk written, a stop)
        self._materializing: asyncio.Task[None] | None = None  # the run going on beside the loop
        self._ending = False  # the loop has ended: the send lane finishes its pass and ends too
        self._again = False  # a campaign became due during that run: another one right after it
        self._pulling: asyncio.Task[dict[str, Any]] | None = None  # the delivery-report pull of the loop, if any
        self.stream: EventChild | EventStream | None = None  # Fineract's external events, while run() runs

    async def _run_job(self, job: Job) -> dict[str, Any]:
        herald = self.herald
        try:
            with recorded(herald.store, herald.clock, job, keep_idle=False) as counts:
                if job is Job.UPDATE_OUTBOUND:
                    counts.update(await asyncio.to_thread(self._materialize, self._written_soon()))
                elif job is Job.SEND:
                    counts.update(await self.sender.run(max_seconds=SEND_SLICE))
                elif job is Job.CATCH_UP:
                    counts.update(await asyncio.to_thread(self._catch_up))
                else:
                    counts.update(await self.puller.pull())
        except Exception:  # a failing job must not stop the others; the run is recorded with its error
            log.exception("job %s failed", job.slug)
            return {}
        return counts

    def _written_soon(self) -> Callable[[int], None]:
        """What materializing calls, from its thread, after each chunk it stored: wake the send job."""
        loop = asyncio.get_running_loop()

        def written(_: int) -> None:
            loop.call_soon_threadsafe(self._chunk_written)

        return written

    def _chunk_written(self) -> None:
        self._next[Job.SEND] = 0.0
        self._send_wake.set()
        self.sender.written()  # a pass waiting on its requests claims the new ones now

    def _materialize(self, progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """The materialize job past broken core banks: their tenants' campaigns wait, the others run.

        A core bank that does not answer (or a campaign whose rule it cannot run) is recorded for
        the jobs page and logged once, not raised: it is the database's state, not a failed run.
        """
        failures = self.health.probe()

        def failed(campaign: Campaign, error: CoreBankError) -> None:
            failures.setdefault(campaign.tenant, error)

        counts = outbound_for(self.herald).run_due(progress, skip_tenants=set(failures), on_corebank_error=failed)
        self.health.record(Job.UPDATE_OUTBOUND, failures)
        return counts

    def _catch_up(self) -> dict[str, int]:
        """The catch-up job: a campaign whose core bank does not answer waits (logged, counted as failed)."""
        return catchup_for(self.herald).run()

    async def tick_async(self, force: bool = False) -> dict[Job, dict[str, Any]]:
        """Run each job whose interval has passed (all of them when `force`), one after the other:
        materializing has finished when the send job looks (one pass: tests, `herald jobs run`)."""
        done: dict[Job, dict[str, Any]] = {}
        for job in self.intervals:
            if force or self._due(job):
                done[job] = await self._run_job(job)
                self._ran(job, done[job])
                if self.stop_requested:
                    break
        return done

    def _due(self, job: Job) -> bool:
        return self._monotonic() >= self._next[job]

    def _ran(self, job: Job, counts: dict[str, Any]) -> None:
        """When `job` is due again after a run that counted `counts`."""
        self._next[job] = self._monotonic() + self.intervals[job]
        if job in (Job.UPDATE_OUTBOUND, Job.CATCH_UP) and counts.get("created"):
            self._next[Job.SEND] = 0.0  # new messages: send them now, not at the next tick
        if job is Job.SEND and counts.get("more"):
            self._next[Job.SEND] = 0.0  # a backlog: carry on as soon as the others had their turn
        if job is Job.SEND and self._materializing is not None:
            self._next[Job.SEND] = min(self._next[Job.SEND], self._monotonic() + SEND_WHILE_WRITING)
        if job is Job.CATCH_UP and counts.get("behind"):
            self._next[Job.CATCH_UP] = 0.0  # a long outage: the next batch at the next pass

    async def _pass(self) -> None:
        """One pass of the loop over the jobs that are not sending: materializing starts beside it when
        due, delivery reports and catch-up run in turn."""
        self._wake.clear()  # what sets it from here on ends the wait after this pass
        for job in self.intervals:
            if self.stop_requested:
                break
            if job is Job.UPDATE_OUTBOUND:
                if self._due(job):
                    self._start_materializing()
            elif job is Job.DELIVERY_REPORTS and self._due(job):
                # A pull asks about every waiting message, a thousand to a page, and can take longer than
                # the grace period; a stop cancels it (it only reads: what it did not record is asked again).
                self._pulling = asyncio.create_task(self._run_job(job))
                try:
                    self._ran(job, await self._pulling)
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if not self._pulling.cancelled() or (task is not None and task.cancelling()):
                        raise  # the loop itself is being cancelled, not only the pull
                    break
                finally:
                    self._pulling = None
            elif job is not Job.SEND and self._due(job):
                self._ran(job, await self._run_job(job))

    def _start_materializing(self) -> None:
        if self._materializing is None and not self.stop_requested and not self._ending:
            self._materializing = asyncio.create_task(self._materialize_beside())

    async def _materialize_beside(self) -> None:
        try:
            self._ran(Job.UPDATE_OUTBOUND, await self._run_job(Job.UPDATE_OUTBOUND))
        finally:
            self._materializing = None
            self._send_wake.set()
            if self._again:
                self._again = False
                self._start_materializing()

    async def _send_lane(self) -> None:
        """The send job on its own: a long delivery-report pull or catch-up never keeps new messages
        waiting, and a written chunk is sent as soon as it is stored."""
        while not self.stop_requested and not self._ending:
            if self._due(Job.SEND):
                self._send_wake.clear()
                self._ran(Job.SEND, await self._run_job(Job.SEND))
                if self._send_wake.is_set():  # a chunk was written after the pass last looked
                    self._next[Job.SEND] = 0.0
                continue
            wait = self._next[Job.SEND] - self._monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._send_wake.wait(), wait)
                self._send_wake.clear()

    async def _watch(self) -> None:
        """Start materializing as soon as a campaign becomes due: activated in this process, in the
        server or through the API of another. Only a campaign newly due counts, so one whose core bank
        is down (it stays due) waits for the job's interval instead of being tried in a loop."""
        herald = self.herald
        seen: set[int] = set()
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                due = await asyncio.to_thread(due_campaigns, herald.store, herald.clock.now())
            except Exception as error:  # the store is busy or away: the job's interval still runs it
                log.debug("watching for due campaigns: %s", error)
                continue
            if due - seen:
                if self._materializing is None:
                    self._start_materializing()
                else:
                    self._again = True
            seen = due

    def tick(self, force: bool = False) -> dict[Job, dict[str, Any]]:
        """One pass in a loop of its own (tests, `herald jobs run`)."""

        async def once() -> dict[Job, dict[str, Any]]:
            try:
                async with self.herald.presence.alive():
                    return await self.tick_async(force)
            finally:
                await self.herald.close_providers()
                await asyncio.to_thread(self.herald.presence.leave)

        return run_loop(once())

    def request_stop(self) -> None:
        """Stop claiming; the current pass finishes what is in flight (SIGTERM, SIGINT, server shutdown)."""
        if not self.stop_requested:
            self.stop_requested = True
            self.sender.stopping = True
            self._send_wake.set()
            if self._pulling is not None:
                self._pulling.cancel()
            if self.stream is not None:
                self.stream.stop()  # nothing more is taken from the broker; what it holds stays there
            self._say("Stopping: nothing more is claimed; finishing what is being sent.")

    def _say(self, text: str) -> None:
        log.info(text)
        if self.on_stop is not None:
            self.on_stop(text)

    async def run_async(
        self,
        should_stop: Callable[[], bool],
        on_tick: Callable[[], None] | None = None,
        *,
        signals: bool = False,
        close_providers: bool = True,
    ) -> None:
        """Loop until `should_stop()` or a stop request; `signals` makes SIGTERM/SIGINT request one."""
        loop = asyncio.get_running_loop()
        if signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
        self.herald.presence.kind = RUNS_JOBS  # written with the next heartbeat: the UI shows a worker is alive
        streaming: asyncio.Task[None] | None = None
        try:
            async with self.herald.presence.alive():
                await self.herald.presence.ensure(now=True)
                self.stream = events_consumer_for(self.herald, self.sender, apart=self.events_apart)
                if self.stream is not None:
                    address = self.herald.settings.events_broker
                    where = "a process of its own" if self.events_apart else "a thread"
                    log.info(
                        "reading Fineract's external events from %s in %s", address.shown() if address else "?", where
                    )
                    streaming = asyncio.create_task(self.stream.run())
                ticking = asyncio.create_task(self._loop(should_stop, on_tick))
                while not ticking.done():
                    await asyncio.wait({ticking}, timeout=0.1)
                    if self.stop_requested and not ticking.done():
                        await asyncio.to_thread(self.herald.presence.mark_stopping)
                        _, late = await asyncio.wait({ticking}, timeout=GRACE)
                        if late:
                            ticking.cancel()
                            await asyncio.gather(ticking, return_exceptions=True)
                if not ticking.cancelled():
                    ticking.result()  # a failure of the loop itself surfaces here
        finally:
            if streaming is not None and self.stream is not None:
                self.stream.stop()
                _, late = await asyncio.wait({streaming}, timeout=GRACE)
                if late:  # the child is told, then killed, as its task ends; a thread is left to finish
                    streaming.cancel()
                    await asyncio.wait({streaming}, timeout=GRACE)
            if signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
            if close_providers:
                await self.herald.close_providers()
            released = await asyncio.to_thread(self.herald.presence.leave)
            if self.stop_requested:
                extra = f"; {released:,} claimed messages handed back for the next worker" if released else ""
                self._say(f"Stopped{extra}.")

    async def _loop(self, should_stop: Callable[[], bool], on_tick: Callable[[], None] | None) -> None:
        """The jobs in three lanes: materializing in a thread (started by its interval or by the watch),
        sending on its own, and the others in turn here, where `should_stop` and `on_tick` are heard."""
        self._ending = False
        self._wake, self._send_wake = asyncio.Event(), asyncio.Event()  # this loop's own
        watching = asyncio.create_task(self._watch())
        sending = asyncio.create_task(self._send_lane())
        try:
            while not should_stop() and not self.stop_requested:
                await self._pass()
                if on_tick is not None:
                    on_tick()
                if sending.done():
                    sending.result()  # a failure of the lane itself surfaces here
                others = [at for job, at in self._next.items() if job is not Job.SEND]
                wait = min(others) - self._monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(max(wait, 0.02), 0.25))
        finally:
            self._ending = True
            self._send_wake.set()
            watching.cancel()
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Cancelled past the grace period while a job of this loop ran: the lanes are not
                # waited for either (cancelled while awaited below, they would be anyway).
                sending.cancel()
                if self._materializing is not None:
                    self._materializing.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            await sending  # the pass it is in finishes what it took; a stop makes that short
            if self._materializing is not None:  # its thread finishes the chunk it is on, then the run
                await self._materializing

    def run(
        self, should_stop: Callable[[], bool], on_tick: Callable[[], None] | None = None, *, signals: bool = False
    ) -> None:
        run_loop(self.run_async(should_stop, on_tick, signals=signals))

    def idle(self) -> bool:
        """Nothing left to do now: no sendable message, nothing awaiting a report, nothing due."""
        return nothing_to_do(self.herald.store, self.herald.clock.now())
