"""The FastAPI application: built from a Herald, serving the REST API, provider webhooks and Fineract's endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald import web
from herald.api import docs, fineract, v1, webhooks
from herald.app import Herald
from herald.http import errors, operations
from herald.http.auth import served_over_https
from herald.http.headers import SecurityHeaders
from herald.worker import Worker, sender_for


def create_app(herald: Herald, *, run_jobs: bool = False) -> FastAPI:
    """The app; with `run_jobs` the three jobs run in its event loop too (`herald serve`, unless --no-worker)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with herald.presence.alive():  # hook sends and "Run now" count among the sending processes
            jobs: asyncio.Task[None] | None = None
            worker = Worker(herald)
            if run_jobs:
                jobs = asyncio.create_task(worker.run_async(lambda: False, close_providers=False))
            try:
                yield
            finally:
                if jobs is not None:
                    worker.request_stop()
                    await asyncio.gather(jobs, return_exceptions=True)
                await herald.close_providers()  # their connections belong to the server's event loop

    app = FastAPI(
        title="herald",
        summary="SMS campaigns for Apache Fineract",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by herald.api.docs with its own copy of Swagger UI (no CDN)
        redoc_url=None,  # ReDoc would load its script from a CDN; /docs covers the same ground
    )
    app.state.herald = herald  # how auth dependencies (REST and UI) find the users' store
    errors.install(app)
    web.install(app)  # after the API's handlers: an unknown UI address gets a page, /api/ keeps its JSON
    app.add_middleware(SecurityHeaders, https=served_over_https(herald))  # outermost: every answer has them
    app.include_router(docs.router(app))
    app.include_router(operations.router(herald))  # /healthz, /readyz, /metrics: before any page's catch-all
    # Webhooks and Fineract's endpoints carry their own authentication (signatures, secrets): no user session.
    app.include_router(webhooks.router(herald))
    app.include_router(fineract.router(herald, sender_for(herald)))
    app.include_router(v1.router(herald))
    app.include_router(web.router(herald))  # the UI's pages, under /login, /campaigns, /jobs, /providers
    return app
