"""What a browser gets for an address the app does not have: the styled "Not found" page, not the API's JSON.

Starlette answers an unknown path or a wrong method with an HTTPException before any route runs,
and the REST API's handler (http/errors.py) turns every one into a JSON problem. That is right
for /api/, provider webhooks and Fineract's endpoints, whose callers are programs; an officer who
mistypes an address or follows an old link should see a page of herald with a way back instead.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from herald.errors import HeraldError, NotFoundError
from herald.http.errors import http_error
from herald.web.pages import error_page

MACHINE_PREFIXES = ("/api/", "/webhooks/", "/fineract/", "/openapi.json", "/docs", "/healthz", "/readyz", "/metrics")
"""Paths whose callers are programs: they keep the JSON problem whatever went wrong."""

_SENTENCES = {
    404: NotFoundError("herald has no page at this address.", hint="Check the link, or start again from Campaigns."),
    405: NotFoundError("This address is not a page to open.", hint="Go back and use the page's buttons instead."),
}


def _for_people(path: str) -> bool:
    return not path.startswith(MACHINE_PREFIXES)


def page_or_problem(request: Request, exc: Exception) -> Response:
    """A plain function on purpose: Starlette runs it in a thread, and the page reads the session from the database."""
    assert isinstance(exc, StarletteHTTPException)
    sentence: HeraldError | None = _SENTENCES.get(exc.status_code)
    if sentence is None or not _for_people(request.url.path):
        return http_error(request, exc)
    response = error_page(request, sentence)
    response.status_code = exc.status_code
    if exc.status_code == 405 and exc.headers:
        response.headers.update(exc.headers)  # Allow: which methods the address does take
    return response


def install(app: FastAPI) -> None:
    """Replace the JSON handler of HTTPExceptions with the one above, which falls back to it for programs."""
    app.add_exception_handler(StarletteHTTPException, page_or_problem)
