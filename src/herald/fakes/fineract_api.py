"""A stand-in for Fineract's REST API on 127.0.0.1: its hooks and its external event configuration.

It answers as Fineract does: HTTP Basic authentication (401 otherwise), the tenant header
`Fineract-Platform-TenantId` (400 without a known one), a permission per endpoint (403), and
Fineract's shapes:

    GET  /hooks                          [{"id": 1, "name": "Web", "isActive": true, "events": [...], "config": [...]}]
    POST /hooks                          {"resourceId": 1}
    GET  /externalevents/configuration   {"externalEventConfiguration": [{"type": "...", "enabled": false}, ...]}
    PUT  /externalevents/configuration   {"externalEventConfigurations": {"<type>": true}} -> {"changes": {...}}

A PUT naming a type Fineract does not have is refused whole with 404, as Fineract's
ExternalEventConfigurationNotFoundException is, and changes nothing. Every request is kept in
`received` (without its Authorization header) for a test to count.

    with FakeFineractApi() as fineract:
        fineract.url   # http://127.0.0.1:<port>/fineract-provider/api/v1
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from herald.events.kinds import KINDS

BASE = "/fineract-provider/api/v1"
ALL = "ALL_FUNCTIONS"

OTHER_TYPES = (
    "CentersCreateBusinessEvent",
    "GroupsCreateBusinessEvent",
    "LoanCreatedBusinessEvent",
    "LoanDisbursalTransactionBusinessEvent",
    "LoanStatusChangedBusinessEvent",
    "LoanBalanceChangedBusinessEvent",
    "SavingsCreateBusinessEvent",
    "SavingsPostInterestBusinessEvent",
)
"""A few of the types Fineract seeds besides herald's (it seeds 104, all disabled)."""


@dataclass
class FineractUser:
    password: str
    permissions: frozenset[str] = frozenset({ALL})


@dataclass
class Received:
    method: str
    path: str
    tenant: str | None
    body: Any


@dataclass
class FakeFineractApi:
    """Fineract's API for hooks and external events, served in a thread until `close()` (or the `with`)."""

    users: dict[str, FineractUser] = field(default_factory=lambda: {"mifos": FineractUser("password")})
    tenants: frozenset[str] = frozenset({"default"})
    event_types: Iterable[str] | None = None  # default: herald's KINDS and OTHER_TYPES
    events: dict[str, bool] = field(init=False)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        types = list(self.event_types) if self.event_types is not None else [*KINDS, *OTHER_TYPES]
        self.events = dict.fromkeys(sorted(types), False)
        self._lock = threading.Lock()
        self._tls: list[ThreadingHTTPServer] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{BASE}"

    def also_over_tls(self, certfile: str, keyfile: str) -> str:
        """Serve the same API over TLS on a second port (as Fineract does, self-signed); its base URL."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._tls.append(server)
        return f"https://127.0.0.1:{server.server_port}{BASE}"

    def puts(self) -> list[Received]:
        return [r for r in self.received if r.method == "PUT"]

    def close(self) -> None:
        for server in [self._server, *self._tls]:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FakeFineractApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- what Fineract does ---------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        tenant = headers.get("fineract-platform-tenantid")
        with self._lock:
            self.received.append(Received(method, path, tenant, body))
        if not path.startswith(BASE + "/"):
            return 404, _error(404, "error.msg.resource.not.found", f"No resource at {path}.")
        if not tenant:
            return 400, _error(
                400,
                "error.msg.tenant.identifier.missing",
                "No tenant identifier found: Add request header of 'Fineract-Platform-TenantId' or add the "
                "parameter 'tenantIdentifier' to query string of request URL.",
            )
        if tenant not in self.tenants:
            return 400, _error(
                400, "error.msg.invalid.tenant.identifier", f"The tenant identifier: {tenant} is invalid."
            )
        user = self._authenticated(headers.get("authorization", ""))
        if user is None:
            return 401, _error(401, "error.msg.not.authenticated", "Unauthenticated. Please login.")
        route = path[len(BASE) :].split("?")[0].rstrip("/")
        if route == "/externalevents/configuration" and method in {"GET", "PUT"}:
            needed = "READ_EXTERNAL_EVENT_CONFIGURATION" if method == "GET" else "UPDATE_EXTERNAL_EVENT_CONFIGURATION"
            if not user.permissions & {ALL, needed}:
                return 403, _error(403, "error.msg.not.authorized", f"User has no authority to: {needed}")
            return self._events_get() if method == "GET" else self._events_put(body)
        if route == "/hooks" and method in {"GET", "POST"}:
            needed = "READ_HOOK" if method == "GET" else "CREATE_HOOK"
            if not user.permissions & {ALL, needed}:
                return 403, _error(403, "error.msg.not.authorized", f"User has no authority to: {needed}")
            return self._hooks(method, body)
        return 404, _error(404, "error.msg.resource.not.found", f"No resource at {route}.")

    def _authenticated(self, authorization: str) -> FineractUser | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        user = self.users.get(username)
        return user if user is not None and user.password == password else None

    def _events_get(self) -> tuple[int, Any]:
        with self._lock:
            items = [{"type": t, "enabled": on} for t, on in self.events.items()]
        return 200, {"externalEventConfiguration": items}

    def _events_put(self, body: Any) -> tuple[int, Any]:
        wanted = body.get("externalEventConfigurations") if isinstance(body, dict) else None
        if not isinstance(wanted, dict) or not all(isinstance(v, bool) for v in wanted.values()):
            return 400, _error(
                400,
                "validation.msg.validation.errors.exist",
                "The parameter `externalEventConfigurations` must map event types to true or false.",
            )
        with self._lock:
            unknown = [t for t in wanted if t not in self.events]
            if unknown:  # Fineract's transaction fails on the first unknown type: nothing changes
                return 404, _error(
                    404,
                    "error.msg.external.event.configuration.not.found",
                    f"External event configuration not found for type {unknown[0]}",
                )
            self.events.update(wanted)
        return 200, {"changes": {"externalEventConfigurations": wanted}}

    def _hooks(self, method: str, body: Any) -> tuple[int, Any]:
        with self._lock:
            if method == "GET":
                return 200, list(self.hooks)
            if not isinstance(body, dict):
                return 400, _error(400, "validation.msg.validation.errors.exist", "The hook must be a JSON object.")
            resource = len(self.hooks) + 1
            config = body.get("config") or {}
            self.hooks.append(
                {
                    "id": resource,
                    "name": body.get("name"),
                    "displayName": body.get("displayName"),
                    "isActive": bool(body.get("isActive")),
                    "events": list(body.get("events") or []),
                    "config": [{"fieldName": k, "fieldValue": v} for k, v in config.items()],
                }
            )
        return 200, {"resourceId": resource}


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    """Fineract's error body (ApiGlobalErrorResponse)."""
    return {
        "developerMessage": message,
        "httpStatusCode": str(status),
        "defaultUserMessage": message,
        "userMessageGlobalisationCode": code,
        "errors": [{"developerMessage": message, "defaultUserMessage": message, "userMessageGlobalisationCode": code}],
    }


def _handler(api: FakeFineractApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                status, answer = 400, _error(400, "error.msg.invalid.json", "The request body is not JSON.")
            else:
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = api.answer(self.command, self.path, headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: object) -> None:
            return None

    return Handler
