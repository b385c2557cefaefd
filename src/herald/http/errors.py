"""One error shape for every REST answer that is not a success, and the request id behind each 500.

    {"error": {"code": "validation_error", "message": "...", "field": "campaignName" | null}}

herald's own errors map to a status through one table; FastAPI's request validation, unknown
routes and wrong methods are reshaped the same way; anything unexpected is logged with the
request id and answered 500 in the same shape, never with a stack trace.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.errors import (
    AuthenticationError,
    ConfigurationError,
    CoreBankError,
    HeraldError,
    LifecycleError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    ValidationError,
    WebhookError,
)
from herald.http.access_log import redact

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"

# Most specific first: the first class an error is an instance of decides.
STATUS_OF: tuple[tuple[type[HeraldError], int, str], ...] = (
    (LoginThrottledError, 429, "too_many_attempts"),
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (LifecycleError, 409, "lifecycle_conflict"),
    (ValidationError, 422, "validation_error"),
    (ProviderError, 502, "provider_error"),
    (CoreBankError, 503, "corebank_unavailable"),
    (ConfigurationError, 500, "configuration_error"),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """Every refusal and failure of the REST API."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in [
        (401, "No or invalid credentials"),
        (403, "The user's role does not allow this"),
        (422, "The request is invalid; `field` names the input"),
    ]
}
"""Documented on every /api/v1 route, so the OpenAPI spec says what a refusal looks like."""


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _herald_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HeraldError)
    if isinstance(exc, WebhookError):
        return error_response(exc.status, "refused" if exc.status in (401, 403) else "malformed", str(exc))
    status, code = next(((s, c) for cls, s, c in STATUS_OF if isinstance(exc, cls)), (500, "error"))
    if status >= 500:
        log.error("request %s failed: %s", _request_id(request), exc)
    response = error_response(status, code, str(exc), getattr(exc, "field", None))
    if isinstance(exc, LoginThrottledError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not errors:
        return error_response(422, "validation_error", "The request is invalid.")
    first = errors[0]
    # ("body", "campaignName") -> campaignName; ("query", "limit") -> limit: the name the caller used.
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header", "cookie")]
    field = ".".join(loc) or None
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    message = f"{field + ': ' if field else ''}{first.get('msg', 'invalid')}{more}."
    return error_response(422, "validation_error", message, field)


def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    response = error_response(exc.status_code, code, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers.setdefault(name, value)
    return response


def install(app: FastAPI) -> None:
    """Exception handlers and the request-id middleware, for the whole app."""
    app.add_exception_handler(HeraldError, _herald_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_middleware(RequestIdMiddleware)


def _request_id(request: Request) -> str:
    return str(request.scope.get("herald.request_id", "-"))


def _unstorable_query(scope: Scope) -> JSONResponse | None:
    """A 422 for a REST query parameter or path no database can compare with (a NUL byte), else None.

    The UI's pages treat such a search as one that finds nothing, on an HTML page (web/)."""
    path = str(scope.get("path", ""))
    if not path.startswith("/api/"):
        return None
    if "\x00" in path:
        return error_response(422, "validation_error", "The address contains a NUL byte (%00); remove it.")
    raw = scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):  # as Starlette reads it
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "%00")[:60]
            return error_response(
                422, "validation_error", f"{shown}: the value contains a NUL byte (%00); remove it.", shown
            )
    return None


class RequestIdMiddleware:
    """Tags each request with an id (echoed in X-Request-ID) and turns a crash into a logged 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope["herald.request_id"] = request_id
        started = False

        async def tagged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.lower().encode(), request_id.encode())]
            await send(message)

        if (refusal := _unstorable_query(scope)) is not None:
            # Before any route: a NUL in a filter would otherwise reach PostgreSQL, which refuses it with a 500.
            await refusal(scope, receive, tagged)
            return
        try:
            await self.app(scope, receive, tagged)
        except Exception:
            path = redact(str(scope.get("path", "")))  # a hook's path holds its secret
            log.exception("request %s %s %s failed", request_id, scope.get("method"), path)
            if started:  # the answer is half sent; the client sees a cut connection, the log has the cause
                return
            response = error_response(
                500, "internal_error", f"herald failed on this request; the log has the details under {request_id}."
            )
            await response(scope, receive, tagged)
