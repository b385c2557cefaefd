"""Provider webhooks: status callbacks, report batches and inbound replies, acknowledged only once stored.

Each configured provider has one URL, `/webhooks/<provider name>`; the adapter authenticates the
call (Twilio's signature, Infobip's secret) and parses it. The answer is 2xx only after the
reports and opt-outs are committed, so a provider retries anything herald could not keep; calls
that arrive together are committed together (services/batches.py), each answered about itself. An
adapter that expects a particular 2xx body (Twilio wants TwiML for an inbound SMS) says so through
`webhook_answer`; refusals keep their JSON error body and status.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from herald.app import Herald
from herald.errors import HeraldError, WebhookError
from herald.http.errors import error_response
from herald.providers.base import AnswersWebhooks, WebhookRequest
from herald.services.batches import Batches, Then
from herald.services.inbound import Call, keep_many, keepable

log = logging.getLogger(__name__)

_TWILIO_SIGNATURE = "x-twilio-signature"  # a signed GET is a call, not someone checking the URL


def router(herald: Herald) -> APIRouter:
    api = APIRouter(tags=["webhooks"])

    def keep_all(waiting: Sequence[Call]) -> tuple[list[dict[str, int]], Then]:
        kept = keep_many(waiting, store=herald.store, clock=herald.clock, default_region=herald.settings.default_region)
        return kept, None

    # Calls that arrive together are kept in one transaction: Africa's Talking posts one report per
    # call, and one commit per report held a big campaign's reports to a few hundred a second.
    calls: Batches[Call, dict[str, int]] = Batches(keep_all)

    @api.get("/webhooks/{provider}", summary="Reachability check for a provider's webhook URL")
    async def reachable(provider: str, request: Request) -> Response:
        if provider not in herald.providers:
            return error_response(404, "unknown_provider", f"No provider {provider!r} is configured.")
        if _TWILIO_SIGNATURE in request.headers:  # Twilio's incoming-message webhook set to HTTP GET
            return await receive(provider, request)
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
            batch = keepable(adapter.parse_webhook(incoming))
        except WebhookError as exc:
            log.warning("webhook for %s refused (%s): %s", provider, exc.status, exc.message)
            return error_response(exc.status, "refused" if exc.status in (401, 403) else "malformed", exc.message)
        for reason in batch.skipped:
            log.warning("webhook for %s: %s; left out, the rest of the call is kept", provider, reason)
        try:
            stored = await calls.store(Call(provider, batch, tuple(herald.providers.sharing(provider))))
        except HeraldError as exc:
            return error_response(503, "not_stored", f"herald could not store the call, retry later: {exc}")
        answer = adapter.webhook_answer(batch) if isinstance(adapter, AnswersWebhooks) else None
        if answer is not None:
            return Response(answer.body, media_type=answer.media_type)
        return JSONResponse(stored | {"skipped": len(batch.skipped)})

    return api


def _public_url(herald: Herald, request: Request) -> str:
    """The URL the provider called: herald's public base URL when it sits behind a proxy."""
    base = herald.settings.public_url
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return base.rstrip("/") + request.url.path + query
