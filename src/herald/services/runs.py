"""The three jobs' names, and the record of each run (when, how long, what it did)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select

from herald.app import Herald
from herald.store.tables import job_runs


class Job(StrEnum):
    """The seed's three jobs; the value is the name a Mifos user knows."""

    UPDATE_OUTBOUND = "Update SMS Outbound with Campaign Message"
    SEND = "Send Messages to SMS Gateway"
    DELIVERY_REPORTS = "Get Delivery Reports from SMS Gateway"

    @property
    def slug(self) -> str:
        return {"UPDATE_OUTBOUND": "update-outbound", "SEND": "send", "DELIVERY_REPORTS": "delivery-reports"}[self.name]

    @classmethod
    def from_slug(cls, text: str) -> Job:
        from herald.errors import ValidationError

        for job in cls:
            if text in (job.slug, job.value, job.name.lower()):
                return job
        names = ", ".join(j.slug for j in cls)
        raise ValidationError(f"Unknown job {text!r}; the jobs are: {names}.", field="job")


@contextmanager
def recorded(herald: Herald, job: Job, *, keep_idle: bool = True) -> Iterator[dict[str, Any]]:
    """Record a job run once it ends; the caller fills the yielded dict with its counts.

    The worker passes keep_idle=False so that its many idle ticks leave no rows behind.
    """
    counts: dict[str, Any] = {}
    started = herald.clock.now()
    error: str | None = None
    try:
        yield counts
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if keep_idle or error is not None or any(counts.values()):
            with herald.store.begin() as conn:
                conn.execute(
                    insert(job_runs).values(
                        job=job.slug,
                        started_at=started,
                        finished_at=herald.clock.now(),
                        counts=counts,
                        error=error,
                    )
                )


def recent_runs(herald: Herald, limit: int = 20) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)).all())
