"""Running one of the three jobs once, now, from inside the API server's event loop, and auditing the run.

The CLI's one-off runs start their own event loop and close the providers afterwards; the API
server already runs a loop that owns the providers' connections, so the send and report jobs are
awaited in it, and the outbound job (database-bound, synchronous) goes to a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.jobs import Job
from herald.services import audit
from herald.services.audit import SYSTEM, Actor
from herald.services.reports import ReportPuller
from herald.services.runs import JobRun, recent, recorded
from herald.services.send import Sender


async def run_now(
    job: Job,
    *,
    store: Engine,
    clock: Clock,
    outbound: Callable[[], dict[str, int]],
    sender: Sender,
    puller: ReportPuller,
    catchup: Callable[[], dict[str, int]] | None = None,
    actor: Actor = SYSTEM,
) -> JobRun:
    """Run `job` once, by hand, and return its recorded run (the audit log says who asked).

    `outbound` and `catchup` are one pass of those jobs (synchronous: they run in a worker thread).
    """
    try:
        with recorded(store, clock, job) as counts:
            if job is Job.UPDATE_OUTBOUND:
                counts.update(await to_thread.run_sync(outbound))
            elif job is Job.CATCH_UP:
                assert catchup is not None, "the catch-up job needs its pass"
                counts.update(await to_thread.run_sync(catchup))
                if counts.get("created"):
                    await sender.run()  # what it made goes out now, as a hook's messages would have
            else:
                counts.update(await (sender.run() if job is Job.SEND else puller.pull()))
    finally:  # a run that failed was run by hand all the same
        latest = record_run(store, clock, job, actor)
    assert latest is not None, "recorded() always stores a run it was asked to keep"
    return latest


def record_run(store: Engine, clock: Clock, job: Job, actor: Actor) -> JobRun | None:
    """Put the run of `job` that just ended in the audit log, with what it did (or the error that stopped it)."""
    latest = recent(store, job, 1)
    if not latest:
        return None
    run = latest[0]
    detail: dict[str, Any] = {"run": run.id, "counts": run.counts}
    if run.error:
        detail["error"] = run.error[:200]
    with store.begin() as conn:
        audit.record(conn, actor, "job.run", clock.now(), target=job.value, detail=detail)
    return run
