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

import errno
import hmac
import ipaddress
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from herald.app import Herald
from herald.errors import HeraldError
from herald.http.errors import error_response
from herald.services.health import readiness
from herald.services.metrics import InstallationCollector


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address at all (a unix socket, a test client's name)
        return False


def _installation(herald: Herald) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)  # describing would read the database at start
    registry.register(
        InstallationCollector(
            store=herald.store, presence=herald.presence, providers=lambda: herald.providers.settings.keys()
        )
    )
    return registry


class _Both(Collector):
    """The installation's series and this process's, for a worker's own metrics port."""

    def __init__(self, *registries: CollectorRegistry) -> None:
        self.registries = registries

    def collect(self) -> Iterator[Metric]:
        for registry in self.registries:
            yield from registry.collect()


def serve_worker_metrics(herald: Herald, port: int) -> str:
    """`herald worker --metrics-port`: this worker's /metrics on 127.0.0.1 only, in a thread; returns its URL.

    A separate worker's in-process series (its sends' latency and errors, its breakers) exist only
    in it. Its port has no token check, so it listens on the loopback address alone; a scraper
    elsewhere goes through the machine's own Prometheus agent or an SSH tunnel.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Both(_installation(herald), herald.telemetry.registry))
    try:
        start_http_server(port, addr="127.0.0.1", registry=registry)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise HeraldError(
                f"Port {port} on 127.0.0.1 is already in use; choose another with --metrics-port."
            ) from None
        raise HeraldError(f"Cannot serve metrics on 127.0.0.1:{port}: {exc.strerror}.") from None
    return f"http://127.0.0.1:{port}/metrics"


def router(herald: Herald) -> APIRouter:
    ops = APIRouter(tags=["health"])
    installation = _installation(herald)

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
