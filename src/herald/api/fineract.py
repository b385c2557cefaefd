"""Fineract's side of herald: the hook receiver for triggered campaigns and the drop-in message gateway.

Fineract signs no hook, so the hook URL carries a secret path segment (and must end with "/",
Fineract's own rule). A hook is acknowledged as soon as its messages are stored; they are handed
to the provider right after the answer, without any job. The gateway endpoints check the
tenant's app key like Fineract's own message gateway does.
"""

from __future__ import annotations

import hmac
import logging

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse

from herald.app import Herald
from herald.errors import HeraldError, WebhookError
from herald.events import gateway
from herald.events.dispatch import materialize_event
from herald.events.hooks import parse_hook
from herald.jobs.send import LEASE, Sender
from herald.store import messages as message_store

log = logging.getLogger(__name__)


def router(herald: Herald, sender: Sender) -> APIRouter:
    api = APIRouter(tags=["fineract"])

    def secret_ok(secret: str) -> bool:
        expected = herald.settings.fineract_hook_secret
        return expected is not None and hmac.compare_digest(expected.get_secret_value().encode(), secret.encode())

    @api.get("/fineract/hooks/{secret}/", summary="Fineract's reachability check when a hook is saved")
    async def hook_reachable(secret: str) -> Response:
        if not secret_ok(secret):
            return _error(404, "not_found", "No such hook URL.")
        return JSONResponse({"ok": True})

    @api.post("/fineract/hooks/{secret}/", summary="Receive a Fineract Web hook (JSON content type)")
    async def hook(secret: str, request: Request, background: BackgroundTasks) -> Response:
        if not secret_ok(secret):
            return _error(404, "not_found", "No such hook URL.")
        body = await request.body()
        try:
            event = parse_hook(request.headers, body, herald.settings.tenant)
            if event.tenant not in herald.corebanks:
                raise WebhookError(f"Unknown tenant {event.tenant!r}; add it to HERALD_TENANTS.", status=400)
        except WebhookError as exc:
            return _error(exc.status, "malformed", exc.message)
        if not event.succeeded:
            return JSONResponse({"ignored": "the command failed in Fineract; nothing changed"})
        try:
            result = await to_thread.run_sync(materialize_event, herald, event)
        except HeraldError as exc:
            log.error("hook %s/%s not stored: %s", event.entity, event.action, exc)
            return _error(503, "not_stored", str(exc))
        pending = result.pop("pending_ids")
        if pending:
            background.add_task(send_now, herald, sender, pending)
        return JSONResponse(result | {"event": f"{event.entity}/{event.action}"})

    @api.post("/fineract/gateway/sms", status_code=202, summary="Fineract's outbound SMS (message gateway contract)")
    async def gateway_send(request: Request) -> Response:
        try:
            tenant = gateway.authenticate(herald, request.headers)
            batch = gateway.parse_send(await request.body())
        except WebhookError as exc:
            return _error(exc.status, "refused" if exc.status in (401, 403) else "malformed", exc.message)
        counts = await to_thread.run_sync(gateway.accept, herald, tenant, batch)
        return JSONResponse(counts, status_code=202)

    @api.post("/fineract/gateway/sms/report", summary="Fineract's delivery-report poll (message gateway contract)")
    async def gateway_report(request: Request) -> Response:
        try:
            tenant = gateway.authenticate(herald, request.headers)
            ids = gateway.parse_report(await request.body())
        except WebhookError as exc:
            return _error(exc.status, "refused" if exc.status in (401, 403) else "malformed", exc.message)
        return JSONResponse(await to_thread.run_sync(gateway.report, herald, tenant, ids))

    return api


async def send_now(herald: Herald, sender: Sender, ids: list[int]) -> None:
    """Hand a triggered event's new messages to their providers at once (the worker retries failures)."""
    try:
        with herald.store.begin() as conn:
            claimed = message_store.claim_pending(conn, herald.clock.now(), len(ids), LEASE, only=ids)
        if claimed:
            await sender.send_batch(claimed)
    except Exception:  # the messages stay PENDING: the worker's send job picks them up
        log.exception("immediate send of %d triggered messages failed", len(ids))


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
