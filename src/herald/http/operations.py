"""The IT person's endpoints: /healthz (the process answers), /readyz (it can work) and /metrics (Prometheus).

/healthz and /readyz are open, as load balancers and orchestrators call them without credentials;
they say nothing but which part failed. /metrics tells volumes and provider names, so it answers
only a scraper on this machine (127.0.0.1 or ::1) unless HERALD_METRICS_TOKEN is set, in which
case every scraper, local or not, must send it as `Authorization: Bearer <token>` (behind a
reverse proxy on the same machine every request looks local, so the token is the rule there).
No label holds a phone number, a token or a password: providers, statuses, codes, jobs, events.
/readyz and /metrics stay out of the REST API's spec: they are the operator's, and a 503 is an
answer /readyz gives by design.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from herald.app import Herald
from herald.http.errors import error_response
from herald.services.health import readiness
from herald.services.metrics import InstallationCollector


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address at all (a unix socket, a test client's name)
        return False


def router(herald: Herald) -> APIRouter:
    ops = APIRouter(tags=["health"])
    installation = CollectorRegistry(auto_describe=True)
    installation.register(
        InstallationCollector(
            store=herald.store, presence=herald.presence, providers=lambda: herald.providers.settings.keys()
        )
    )

    def refusal(request: Request) -> Response | None:
        """Why this request may not scrape, or None when it may."""
        token = herald.settings.metrics_token
        if token is not None:
            scheme, _, sent = request.headers.get("authorization", "").partition(" ")
            expected = token.get_secret_value().encode()
            if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), expected):
                return None
            answer = error_response(
                401, "unauthorized", "Send HERALD_METRICS_TOKEN as `Authorization: Bearer <token>` to read /metrics."
            )
            answer.headers["WWW-Authenticate"] = 'Bearer realm="herald metrics"'
            return answer
        if _loopback(request.client.host if request.client else None):
            return None
        return error_response(
            403,
            "forbidden",
            "/metrics answers only scrapers on this machine (127.0.0.1); to scrape from elsewhere, set "
            "HERALD_METRICS_TOKEN and send it as `Authorization: Bearer <token>`.",
        )

    @ops.get("/healthz", summary="Alive: 200 as long as the process answers")
    async def health() -> dict[str, str]:  # async on purpose: answers from the loop, no thread needed
        return {"status": "ok"}

    @ops.get("/readyz", include_in_schema=False)
    def ready() -> Response:  # a thread: the checks are database round trips
        checks = readiness(store=herald.store, corebanks=herald.corebanks, presence=herald.presence)
        ok = all(c.ok for c in checks)
        body = {
            "status": "ready" if ok else "not ready",
            "failed": [c.name for c in checks if not c.ok],
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @ops.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        refused = refusal(request)
        if refused is not None:
            return refused
        text = generate_latest(installation) + generate_latest(herald.telemetry.registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    return ops
