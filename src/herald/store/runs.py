"""The record of job runs in herald's store: one row per run, with its counts and the error that stopped it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select

from herald.domain.jobs import Job
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


def record(
    conn: Connection, job: Job, *, started: datetime, finished: datetime, counts: dict[str, Any], error: str | None
) -> None:
    conn.execute(
        insert(job_runs).values(job=job.slug, started_at=started, finished_at=finished, counts=counts, error=error)
    )


def recent(conn: Connection, job: Job | None = None, limit: int = 20) -> list[JobRun]:
    """The latest runs, newest first, of one job or of all three."""
    query: Select[Any] = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(job_runs.c.job == job.slug)
    return [JobRun.from_row(r) for r in conn.execute(query)]


def latest_per_job(conn: Connection) -> dict[Job, JobRun]:
    """Each job's latest run; a job that never ran is left out."""
    newest = select(job_runs.c.job, func.max(job_runs.c.id).label("id")).group_by(job_runs.c.job).subquery()
    rows = conn.execute(select(job_runs).join(newest, newest.c.id == job_runs.c.id))
    return {run.job: run for run in map(JobRun.from_row, rows)}
