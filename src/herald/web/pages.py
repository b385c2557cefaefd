"""The UI's page machinery: Jinja2 rendering, the login guard, role and CSRF checks, and readable error pages.

Page routes are plain `def`s, which FastAPI runs in its thread pool: their database reads, rule
runs and rendering never hold up the event loop that answers webhooks and Fineract's hooks. A
posted form reaches them through the `Form` dependency, read on the loop as it arrives.

Every UI route uses `PageRoute`, so a herald error raised anywhere in a page becomes an HTML page
with the sentence that says what to do (a missing login becomes a redirect to /login), and
anything unexpected becomes a 500 page naming the request id in the log, never a stack trace.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from anyio import to_thread
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from herald.domain.languages import language_name
from herald.domain.message import AWAITING_REPORT, COUNTED_AS_FAILED, OUTCOMES, TAB_ORDER, MessageStatus
from herald.domain.times import DEFAULT_FORMAT, last_run_text, local_text, schedule_text, utc_text
from herald.errors import HeraldError, ValidationError
from herald.http.auth import check_csrf, current_session, current_user, herald_of
from herald.http.errors import STATUS_OF
from herald.http.providers import without_userinfo
from herald.services.auth import CSRF_FIELD, AuthenticationError, PermissionDeniedError, Role, User, csrf_token

log = logging.getLogger(__name__)

templates = Environment(
    loader=PackageLoader("herald.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# The campaign page's tabs, in the seed's order, with the URL word of each.
TABS: tuple[tuple[str, MessageStatus], ...] = tuple((s.word, s) for s in TAB_ORDER)

# The tabs whose table has a Sent column (a provider has or had the message) and a Reason column
# (why it is not delivered: the provider's error, herald's reason, or the last retry's error).
templates.globals["SENT_COLUMN"] = frozenset(s.word for s in AWAITING_REPORT | OUTCOMES)
templates.globals["REASON_COLUMN"] = frozenset(s.word for s in COUNTED_AS_FAILED | {MessageStatus.PENDING})

# Short confirmations after an action; the URL carries only the key, so nothing a link sets is echoed.
NOTICES = {
    "created": "Campaign created. Check the preview, then activate it.",
    "saved": "Campaign saved.",
    "activated": "Campaign activated: the worker takes it from here.",
    "activated-idle": "Campaign activated, but no worker is running, so nothing is sent yet. "
    "Ask whoever runs herald to start it (the Jobs page shows when it is back).",
    "closed": "Campaign closed: nothing more is sent until it is reactivated.",
    "reactivated": "Campaign reactivated: nobody is messaged twice.",
    "reactivated-idle": "Campaign reactivated (nobody is messaged twice), but no worker is running, so nothing "
    "is sent yet. Ask whoever runs herald to start it (the Jobs page shows when it is back).",
    "deleted": "Campaign deleted with its messages.",
    "resent": "Failed messages queued again as new Pending messages.",
    "ran": "Job run finished; its counts are below.",
    "user-password": "Password set; that user's sessions ended (its API tokens stay).",
    "user-role": "Role changed.",
    "user-disabled": "User disabled: its sessions ended and its API tokens are revoked.",
    "user-enabled": "User enabled; it logs in with its password (old API tokens stay revoked).",
}


PAGE_HEADERS = {
    # No other site may frame a page and trick a click on Activate; pages hold client data, so no caching.
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def content_security_policy(nonce: str) -> str:
    """The pages' CSP: only herald's own stylesheet and the page's own inline script (by its nonce) run.

    A nonce rather than 'unsafe-inline': text that slipped into a page (a client's name, a message
    body) can never become a script, because it cannot know the nonce of the answer it is in.
    """
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",  # the live preview's fetch
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


@pass_context
def local_filter(context: Context, value: datetime | None, fmt: str = DEFAULT_FORMAT) -> str:
    """`{{ when|local }}`: the page's zone (a campaign's, else the institution's), said after the time."""
    return local_text(value, context["zone"], fmt)


templates.filters["without_userinfo"] = without_userinfo
templates.filters["local"] = local_filter
templates.filters["utc"] = utc_text
templates.globals["schedule_text"] = schedule_text
templates.globals["last_run_text"] = last_run_text
templates.globals["in_zone"] = local_text
templates.globals["language_label"] = language_name


def render(request: Request, name: str, status: int = 200, *, zone: str | None = None, **context: Any) -> HTMLResponse:
    """A full page (or fragment) with the logged-in user, the CSRF token and the page's time zone at hand.

    Times are shown in `zone` (a campaign page passes its campaign's), else the institution's time zone.
    """
    session = current_session(request)
    timezone = herald_of(request).settings.timezone
    zone = zone or timezone
    notice = NOTICES.get(request.query_params.get("notice", ""))
    nonce = secrets.token_urlsafe(16)
    html = templates.get_template(name).render(
        csp_nonce=nonce,
        user=session.user if session else None,
        csrf_field=CSRF_FIELD,
        csrf=csrf_token(session) if session else "",
        timezone=timezone,
        zone=zone,
        local=lambda value, fmt=DEFAULT_FORMAT: local_text(value, zone, fmt),
        notice=notice,
        job_runners=getattr(request.state, "job_runners", None),
        Role=Role,
        **context,
    )
    headers = {**PAGE_HEADERS, "Content-Security-Policy": content_security_policy(nonce)}
    return HTMLResponse(html, status_code=status, headers=headers)


def see_other(url: str) -> RedirectResponse:
    """The answer to a successful form post: the browser loads `url` with GET (no re-post on reload)."""
    return RedirectResponse(url, status_code=303)


def viewer(request: Request) -> User:
    """The logged-in user; without a live session the page redirects to /login (see PageRoute)."""
    user = current_user(request)
    if user is None:
        raise AuthenticationError("Please log in.")
    return user


def allowed(user: User, role: Role) -> None:
    if not user.role.allows(role):
        needed = role.value.replace("_", " ")
        raise PermissionDeniedError(
            f"This needs the {needed} role; you ({user.username}) are {user.role.value.replace('_', ' ')}.",
            hint="Ask an admin if you should be able to do this.",
        )


async def read_form(request: Request) -> FormData:
    """A page's posted form, read on the event loop (a dependency) so the route itself can be a plain `def`."""
    try:
        return await request.form()
    except StarletteHTTPException as exc:  # Starlette refuses a form of over 1,000 fields or a broken multipart body
        raise ValidationError(f"This form could not be read ({exc.detail}); send it again from its page.") from None


Form = Annotated[FormData, Depends(read_form)]


def acting(request: Request, role: Role, form: FormData) -> tuple[User, FormData]:
    """For a form post: the user (logged in, right role) and the form, whose CSRF token has been checked."""
    user = viewer(request)
    token = form.get(CSRF_FIELD)
    check_csrf(request, token if isinstance(token, str) else None)
    allowed(user, role)
    return user, form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this site, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/campaigns"
    return target


def error_page(request: Request, exc: HeraldError) -> HTMLResponse:
    status = next((s for cls, s, _ in STATUS_OF if isinstance(exc, cls)), 500)
    if status >= 500:
        log.error("page %s failed: %s", request.url.path, exc)
    back = request.headers.get("referer") or "/campaigns"
    if urlsplit(back).netloc not in ("", request.url.netloc):
        back = "/campaigns"
    return render(request, "error.html", status=status, message=exc.on_page(), back=back, code=status)


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class PageRoute(APIRoute):
    """A UI route: errors become HTML pages and a missing login becomes a redirect to /login."""

    def get_route_handler(self) -> Endpoint:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                # The session lookup is a database read: done in a worker thread, once, so that nothing a
                # page does afterwards (guards, render, error pages) touches the database on the event loop.
                session = await to_thread.run_sync(current_session, request)
                if session is not None:
                    # The header says whether anything sends: an activated campaign with no worker waits. A
                    # form sent back with its preview or an error, or a confirmation asked again, says it too.
                    request.state.job_runners = await to_thread.run_sync(herald_of(request).presence.job_runners)
                return await original(request)
            except AuthenticationError:
                path = request.url.path if request.method == "GET" else "/campaigns"
                if request.url.query and request.method == "GET":
                    path += "?" + request.url.query
                return see_other(f"/login?next={quote(path, safe='')}")
            except HeraldError as exc:
                return error_page(request, exc)
            except RequestValidationError:
                return error_page(request, ValidationError("That address or form is not valid here."))  # a 422
            except Exception:
                request_id = request.scope.get("herald.request_id", "-")
                log.exception("page %s %s failed (request %s)", request.method, request.url.path, request_id)
                message = f"herald failed on this page; the log has the details under {request_id}."
                return render(request, "error.html", status=500, message=message, back="/campaigns", code=500)

        return handler
