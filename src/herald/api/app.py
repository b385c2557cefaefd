"""The FastAPI application: built from a Herald, serving provider webhooks (and later the REST API and UI)."""

from __future__ import annotations

from fastapi import FastAPI

from herald.api import fineract, webhooks
from herald.app import Herald
from herald.jobs.send import Sender


def create_app(herald: Herald) -> FastAPI:
    app = FastAPI(title="herald", summary="SMS campaigns for Apache Fineract", version="0.1.0")
    app.include_router(webhooks.router(herald))
    app.include_router(fineract.router(herald, Sender(herald)))

    @app.get("/healthz", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.on_event("shutdown")
    async def _close() -> None:
        await herald.close_providers()

    return app
