"""The record of each job run (when, how long, what it did), kept around the run itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.jobs import Job
from herald.store import runs as run_store
from herald.store import workload
from herald.store.runs import JobRun

__all__ = ["JobRun", "last_runs", "recent", "recorded"]


@contextmanager
def recorded(store: Engine, clock: Clock, job: Job, *, keep_idle: bool = True) -> Iterator[dict[str, Any]]:
    """Record a job run once it ends; the caller fills the yielded dict with its counts.

    The worker passes keep_idle=False so that its many idle ticks leave no rows behind.
    """
    counts: dict[str, Any] = {}
    started = clock.now()
    error: str | None = None
    try:
        yield counts
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if keep_idle or error is not None or any(counts.values()):
            with store.begin() as conn:
                run_store.record(conn, job, started=started, finished=clock.now(), counts=counts, error=error)


def recent(store: Engine, job: Job | None = None, limit: int = 20) -> list[JobRun]:
    """The latest runs, newest first, of one job or of all three."""
    with store.connect() as conn:
        return run_store.recent(conn, job, limit)


def last_runs(store: Engine) -> dict[Job, JobRun | None]:
    """Each job's latest run (None if it never ran)."""
    with store.connect() as conn:
        found = run_store.latest_per_job(conn)
    return {job: found.get(job) for job in Job}


def nothing_to_do(store: Engine, now: datetime) -> bool:
    """No sendable message, nothing awaiting a report and no campaign due: the jobs would find no work."""
    with store.connect() as conn:
        return workload.open_messages(conn) == 0 and workload.due_campaigns(conn, now) == 0
