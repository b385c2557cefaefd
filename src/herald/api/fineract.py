"""Fineract's side of herald: the hook receiver for triggered campaigns and the drop-in message gateway.

Fineract signs no hook, so the hook URL carries a secret path segment (and must end with "/",
Fineract's own rule). A hook is acknowledged as soon as its messages are stored; they are handed
to the provider right after the answer, without any job. The gateway endpoints check the
tenant's app key like Fineract's own message gateway does.
"""

from __future__ import annotations

import hmac
import logging
from functools import partial

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from herald.app import Herald
from herald.errors import HeraldError, ParameterError, WebhookError
from herald.http.errors import error_response
from herald.services import gateway
from herald.services.gateway import GatewaySettings
from herald.services.hook_batches import HookBatches
from herald.services.hooks import parse_hook
from herald.services.immediate import ImmediateSender
from herald.services.send import Sender
from herald.services.triggered import materialize_events

log = logging.getLogger(__name__)


def router(herald: Herald, sender: Sender) -> APIRouter:
    api = APIRouter(tags=["fineract"])
    immediate = ImmediateSender(sender)
    store = partial(
        materialize_events,
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        date_format=herald.settings.date_format,
        default_region=herald.settings.default_region,
        alphabets=herald.providers.alphabets,
    )
    hooks = HookBatches(store, immediate.submit)  # hooks arriving together are stored together
    settings = GatewaySettings.of(herald.settings, herald.providers.alphabets)

    def secret_ok(secret: str) -> bool:
        expected = herald.settings.fineract_hook_secret
        return expected is not None and hmac.compare_digest(expected.get_secret_value().encode(), secret.encode())

    @api.get("/fineract/hooks/{secret}/", summary="Fineract's reachability check when a hook is saved")
    async def hook_reachable(secret: str) -> Response:
        if not secret_ok(secret):
            return error_response(404, "not_found", "No such hook URL.")
        return JSONResponse({"ok": True})

    @api.post("/fineract/hooks/{secret}/", summary="Receive a Fineract Web hook (JSON content type)")
    async def hook(secret: str, request: Request) -> Response:
        if not secret_ok(secret):
            return error_response(404, "not_found", "No such hook URL.")
        body = await request.body()
        try:
            event = parse_hook(request.headers, body, herald.settings.tenant)
            if event.tenant not in herald.corebanks:
                raise WebhookError(f"Unknown tenant {event.tenant!r}; add it to HERALD_TENANTS.", status=400)
        except WebhookError as exc:
            return error_response(exc.status, "malformed", exc.message)
        herald.telemetry.hook_received(f"{event.entity}/{event.action}")
        if not event.succeeded:
            return JSONResponse({"ignored": "the command failed in Fineract; nothing changed"})
        try:
            result = await hooks.store(event)
        except ParameterError as exc:  # the hook's own ids: Fineract sending it again changes nothing
            log.warning("hook %s/%s not usable: %s", event.entity, event.action, exc)
            return error_response(400, "unusable", str(exc))
        except HeraldError as exc:
            log.error("hook %s/%s not stored: %s", event.entity, event.action, exc)
            return error_response(503, "not_stored", str(exc))
        return JSONResponse(result | {"event": f"{event.entity}/{event.action}"})

    @api.post("/fineract/gateway/sms", status_code=202, summary="Fineract's outbound SMS (message gateway contract)")
    async def gateway_send(request: Request) -> Response:
        try:
            tenant = gateway.authenticate(
                request.headers, app_keys=herald.settings.gateway_keys, corebanks=herald.corebanks
            )
            batch = gateway.parse_send(await request.body())
        except WebhookError as exc:
            return error_response(exc.status, "refused" if exc.status in (401, 403) else "malformed", exc.message)
        accept = partial(gateway.accept, tenant, batch, store=herald.store, clock=herald.clock, settings=settings)
        counts = await to_thread.run_sync(accept)
        return JSONResponse(counts, status_code=202)

    @api.post("/fineract/gateway/sms/report", summary="Fineract's delivery-report poll (message gateway contract)")
    async def gateway_report(request: Request) -> Response:
        try:
            tenant = gateway.authenticate(
                request.headers, app_keys=herald.settings.gateway_keys, corebanks=herald.corebanks
            )
            ids = gateway.parse_report(await request.body())
        except WebhookError as exc:
            return error_response(exc.status, "refused" if exc.status in (401, 403) else "malformed", exc.message)
        report = partial(gateway.report, tenant, ids, store=herald.store, clock=herald.clock, settings=settings)
        return JSONResponse(await to_thread.run_sync(report))

    return api
