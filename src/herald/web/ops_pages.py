"""The jobs page (the three jobs, their last runs, Run now) and the providers page (no secrets, live health)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from herald.app import Herald
from herald.domain.jobs import Job
from herald.http.providers import check, describe
from herald.services import dead_letters
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.services.corebank_health import outages
from herald.services.runs import last_runs, recent
from herald.web.pages import Form, PageRoute, acting, render, see_other, viewer
from herald.worker import run_now

RECENT_RUNS = 15


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    @pages.get("/jobs")
    def jobs_page(request: Request) -> Response:
        viewer(request)
        return render(
            request,
            "jobs.html",
            jobs=last_runs(herald.store),
            runs=recent(herald.store, None, RECENT_RUNS),
            corebank_outages=outages(herald.store),
            dead_letters=dead_letters.count(store=herald.store),  # external events kept aside: admins see why
            job_intervals={  # this installation's settings, which its workers share
                Job.UPDATE_OUTBOUND: herald.settings.materialize_interval,
                Job.SEND: herald.settings.send_interval,
                Job.DELIVERY_REPORTS: herald.settings.reports_interval,
                Job.CATCH_UP: herald.settings.catchup_interval,
            },
        )

    @pages.post("/jobs/{slug}/run")
    async def run_job(request: Request, slug: Annotated[str, Path(max_length=40)], form: Form) -> Response:
        # async: the send and report jobs run on the loop that owns the providers' connections (see on_demand)
        user, _ = acting(request, Role.CAMPAIGN_MANAGER, form)
        job = Job.from_slug(slug)
        await run_now(herald, job, Actor.ui(user.username))
        return see_other(f"/jobs?notice=ran#{job.slug}")

    @pages.get("/providers")
    async def providers_page(request: Request) -> Response:
        viewer(request)  # no database read: PageRoute looked the session up in a thread
        configured = list(herald.providers.settings.values())
        # Checked side by side: the page waits for the slowest provider, not for the sum of them.
        health = await asyncio.gather(*(check(herald, c.name) for c in configured))
        return render(
            request,
            "providers.html",
            providers=[(describe(herald, c), h) for c, h in zip(configured, health, strict=True)],
        )

    return pages
