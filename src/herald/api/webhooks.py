"""Provider webhooks: status callbacks, report batches and inbound replies, acknowledged only once stored.

Each configured provider has one URL, `/webhooks/<provider name>`; the adapter authenticates the
call (Twilio's signature, Infobip's secret) and parses it. The answer is 2xx only after the
reports and opt-outs are committed, so a provider retries anything herald could not keep.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Column, String

from herald.app import Herald
from herald.domain import wire
from herald.domain.phones import mask
from herald.domain.reports import DeliveryReport
from herald.errors import HeraldError, WebhookError
from herald.http.errors import error_response
from herald.providers.base import WebhookBatch, WebhookRequest
from herald.store import optouts
from herald.store import reports as report_store
from herald.store.tables import messages

log = logging.getLogger(__name__)


def router(herald: Herald) -> APIRouter:
    api = APIRouter(tags=["webhooks"])

    @api.get("/webhooks/{provider}", summary="Reachability check for a provider's webhook URL")
    async def reachable(provider: str) -> Response:
        if provider not in herald.providers:
            return error_response(404, "unknown_provider", f"No provider {provider!r} is configured.")
        return JSONResponse({"provider": provider, "ok": True})

    @api.post("/webhooks/{provider}", summary="Status callbacks, delivery reports and inbound SMS of a provider")
    async def receive(provider: str, request: Request) -> Response:
        adapter = herald.providers.get(provider)
        if adapter is None:
            return error_response(404, "unknown_provider", f"No provider {provider!r} is configured.")
        body = await request.body()
        incoming = WebhookRequest(
            url=_public_url(herald, request),
            method=request.method,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            query=dict(request.query_params),
        )
        try:
            batch = _keepable(adapter.parse_webhook(incoming))
        except WebhookError as exc:
            log.warning("webhook for %s refused (%s): %s", provider, exc.status, exc.message)
            return error_response(exc.status, "refused" if exc.status in (401, 403) else "malformed", exc.message)
        for reason in batch.skipped:
            log.warning("webhook for %s: %s; left out, the rest of the call is kept", provider, reason)
        try:
            stored = await to_thread.run_sync(_store, herald, provider, batch)
        except HeraldError as exc:
            return error_response(503, "not_stored", f"herald could not store the call, retry later: {exc}")
        return JSONResponse(stored | {"skipped": len(batch.skipped)})

    return api


def _length(column: Column[Any]) -> int:
    assert isinstance(column.type, String) and column.type.length is not None
    return column.type.length


_ID_LIMIT, _CODE_LIMIT, _TEXT_LIMIT = (
    _length(c) for c in (messages.c.external_id, messages.c.error_code, messages.c.error_text)
)


def _keepable(batch: WebhookBatch) -> WebhookBatch:
    """The batch without reports herald cannot store (whatever the provider), refused whole if none is left."""
    kept, skipped = [], list(batch.skipped)
    for report in batch.reports:
        problem = _report_problem(report)
        if problem:
            skipped.append(f"the report on {report.external_id[:40]!r} {problem}")
            continue
        if report.error_text is not None:
            report = replace(report, error_text=wire.cleaned(report.error_text, _TEXT_LIMIT))
        kept.append(report)
    if batch.reports and not kept and not batch.inbound:
        raise WebhookError(f"Nothing in the call can be kept: {'; '.join(skipped[:3])}.", status=400)
    return WebhookBatch(kept, batch.inbound, skipped)


def _report_problem(report: DeliveryReport) -> str | None:
    id_problem = wire.text_problem(report.external_id, _ID_LIMIT)
    if id_problem:
        return f"has a message id that {id_problem}"
    if report.error_code is not None and (code_problem := wire.text_problem(report.error_code, _CODE_LIMIT)):
        return f"has an error code that {code_problem}"
    try:
        report.at.astimezone(UTC)
    except OverflowError:
        return f"has a time out of range ({report.at.isoformat()})"
    return None


def _store(herald: Herald, provider: str, batch: WebhookBatch) -> dict[str, int]:
    now = herald.clock.now()
    stops = optouts.stop_requests(batch.inbound, herald.settings.default_region)
    for number in stops:
        log.info("opt-out from %s via %s", mask(number), provider)
    with herald.store.begin() as conn:
        changed = report_store.record(conn, provider, batch.reports, now)
        added = optouts.add(conn, stops, source=provider, detail="STOP reply", now=now)
    return {"reports": len(batch.reports), "applied": changed, "inbound": len(batch.inbound), "opted_out": added}


def _public_url(herald: Herald, request: Request) -> str:
    """The URL the provider called: herald's public base URL when it sits behind a proxy."""
    base = herald.settings.public_url
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return base.rstrip("/") + request.url.path + query
