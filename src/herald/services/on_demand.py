"""Running one of the three jobs once, now, from inside the API server's event loop, and reading past runs.

The CLI's one-off runs start their own event loop and close the providers afterwards; the API
server already runs a loop that owns the providers' connections, so the send and report jobs are
awaited in it, and the outbound job (database-bound, synchronous) goes to a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anyio import to_thread
from sqlalchemy import func, select

from herald.app import Herald
from herald.services import audit, outbound
from herald.services.audit import SYSTEM, Actor
from herald.services.reports import pull_reports
from herald.services.runs import Job, recorded
from herald.services.send import Sender
from herald.store.tables import job_runs


@dataclass(frozen=True)
class JobRun:
    """One recorded run: when, how long, what it did, and the error that stopped it if any."""

    id: int | None
    job: Job
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    error: str | None

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    @classmethod
    def from_row(cls, row: Any) -> JobRun:
        return cls(row.id, Job.from_slug(row.job), row.started_at, row.finished_at, dict(row.counts or {}), row.error)


async def run_now(herald: Herald, job: Job, actor: Actor = SYSTEM) -> JobRun:
    """Run `job` once, by hand, and return its recorded run (the audit log says who asked)."""
    try:
        if job is Job.UPDATE_OUTBOUND:
            await to_thread.run_sync(outbound.run, herald)
        else:
            with recorded(herald, job) as counts:
                counts.update(await (Sender(herald).run() if job is Job.SEND else pull_reports(herald)))
    finally:  # a run that failed was run by hand all the same
        latest = record_run(herald, job, actor)
    assert latest is not None, "recorded() always stores a run it was asked to keep"
    return latest


def record_run(herald: Herald, job: Job, actor: Actor) -> JobRun | None:
    """Put the run of `job` that just ended in the audit log, with what it did (or the error that stopped it)."""
    latest = recent(herald, job, 1)
    if not latest:
        return None
    run = latest[0]
    detail: dict[str, Any] = {"run": run.id, "counts": run.counts}
    if run.error:
        detail["error"] = run.error[:200]
    with herald.store.begin() as conn:
        audit.record(conn, actor, "job.run", herald.clock.now(), target=job.value, detail=detail)
    return run


def recent(herald: Herald, job: Job | None = None, limit: int = 20) -> list[JobRun]:
    """The latest runs, newest first, of one job or of all three."""
    query = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(job_runs.c.job == job.slug)
    with herald.store.connect() as conn:
        return [JobRun.from_row(r) for r in conn.execute(query)]


def last_runs(herald: Herald) -> dict[Job, JobRun | None]:
    """Each job's latest run (None if it never ran)."""
    newest = select(job_runs.c.job, func.max(job_runs.c.id).label("id")).group_by(job_runs.c.job).subquery()
    with herald.store.connect() as conn:
        rows = conn.execute(select(job_runs).join(newest, newest.c.id == job_runs.c.id)).all()
    found = {r.job: JobRun.from_row(r) for r in rows}
    return {job: found.get(job.slug) for job in Job}
