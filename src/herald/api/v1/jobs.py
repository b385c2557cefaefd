"""REST: the three jobs under the seed's names: their last runs, running one now, and recent runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from herald.app import Herald
from herald.domain.jobs import Job
from herald.http.auth import CampaignManager, Viewer
from herald.services.audit import Actor
from herald.services.runs import JobRun, last_runs, recent
from herald.worker import run_now


class JobSlug(StrEnum):
    """The jobs' URL names (Job.slug), as an enum so the OpenAPI spec lists them."""

    UPDATE_OUTBOUND = "update-outbound"
    SEND = "send"
    DELIVERY_REPORTS = "delivery-reports"
    CATCH_UP = "catch-up"


class RunOut(BaseModel):
    id: int | None
    job: str = Field(description="update-outbound, send, delivery-reports or catch-up.")
    name: str = Field(description="The seed's name of the job.")
    startedAt: datetime
    finishedAt: datetime | None
    seconds: float | None
    counts: dict[str, Any]
    error: str | None

    @classmethod
    def of(cls, run: JobRun) -> RunOut:
        return cls(
            id=run.id,
            job=run.job.slug,
            name=run.job.value,
            startedAt=run.started_at,
            finishedAt=run.finished_at,
            seconds=run.seconds,
            counts=run.counts,
            error=run.error,
        )


class WorkerOut(BaseModel):
    host: str
    pid: int
    startedAt: datetime
    heartbeatAt: datetime = Field(description="Its last heartbeat; one silent for longer than the timeout is gone.")


class JobOut(BaseModel):
    job: str
    name: str
    lastRun: RunOut | None


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/jobs", tags=["jobs"])

    @api.get("", summary="The three jobs with their last runs")
    def list_jobs(user: Viewer) -> list[JobOut]:
        return [
            JobOut(job=job.slug, name=job.value, lastRun=RunOut.of(run) if run else None)
            for job, run in last_runs(herald.store).items()
        ]

    @api.get("/workers", summary="The processes running the three jobs now; empty: nothing is being sent")
    def workers(user: Viewer) -> list[WorkerOut]:
        return [
            WorkerOut(host=p.host, pid=p.pid, startedAt=p.started_at, heartbeatAt=p.heartbeat_at)
            for p in herald.presence.job_runners()
        ]

    @api.get("/runs", summary="Recent runs with their counts and durations, newest first")
    def runs(
        user: Viewer,
        job: Annotated[JobSlug | None, Query(description="Only this job's runs.")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 20,
    ) -> list[RunOut]:
        wanted = Job.from_slug(job.value) if job is not None else None
        return [RunOut.of(r) for r in recent(herald.store, wanted, limit)]

    @api.post("/{job}/run", summary="Run one job once, now; answers when it is done, with its counts")
    async def run(user: CampaignManager, job: JobSlug) -> RunOut:
        return RunOut.of(await run_now(herald, Job.from_slug(job.value), Actor.api(user.username)))

    return api
