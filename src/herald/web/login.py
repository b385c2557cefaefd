"""Logging in and out of the UI: the login form, the session cookie, and the home page redirect.

There is no session before login, so the login form carries its own CSRF defence: a random
value in a short-lived cookie that the form must repeat (double submit). That stops another site
from logging an officer's browser into an account of its choosing.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from herald.app import Herald
from herald.errors import LoginThrottledError, ValidationError
from herald.http import auth as http_auth
from herald.http.auth import served_over_https
from herald.services import auth
from herald.services.auth import SESSION_COOKIE, AuthenticationError
from herald.web.pages import Form, PageRoute, acting, render, safe_next, see_other, text

LOGIN_COOKIE = "herald_login"
LOGIN_FIELD = "login_token"


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    secure = served_over_https(herald)

    def login_form(
        request: Request, next_url: str, error: str | None = None, username: str = "", status: int | None = None
    ) -> HTMLResponse:
        token = secrets.token_urlsafe(16)
        response = render(
            request,
            "login.html",
            status=status or (401 if error else 200),
            error=error,
            username=username,
            next_url=safe_next(next_url),
            login_field=LOGIN_FIELD,
            login_token=token,
        )
        response.set_cookie(
            LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=secure, path="/login"
        )
        return response

    @pages.get("/")
    def home() -> Response:
        return see_other("/campaigns")

    @pages.get("/login")
    def login_page(request: Request, next: Annotated[str, Query(max_length=500)] = "/campaigns") -> Response:
        if http_auth.current_user(request) is not None:
            return see_other(safe_next(next))
        return login_form(request, next)

    @pages.post("/login")
    def login(request: Request, form: Form) -> Response:
        # A plain def: argon2 takes tens of milliseconds of CPU, which must not hold up the event loop.
        username, next_url = text(form, "username"), text(form, "next")
        password = form.get("password")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        # As bytes: a str with non-ASCII characters (a forged field or cookie) would make compare_digest raise.
        if not expected or not hmac.compare_digest(expected.encode(), text(form, LOGIN_FIELD).encode()):
            return login_form(request, next_url, "The login form had expired; please try again.", username)
        address = request.client.host if request.client else None
        try:
            session_id = auth.login(
                username,
                password if isinstance(password, str) else "",
                address=address,
                via="ui",
                store=herald.store,
                clock=herald.clock,
            )
        except LoginThrottledError as exc:
            refused = login_form(request, next_url, str(exc), username, status=429)
            refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
        except (AuthenticationError, ValidationError) as exc:
            return login_form(request, next_url, str(exc), username)
        response = see_other(safe_next(next_url))
        http_auth.set_session_cookie(response, session_id, secure=secure)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @pages.post("/logout")
    def logout(request: Request, form: Form) -> Response:
        acting(request, auth.Role.VIEWER, form)
        auth.logout(request.cookies.get(SESSION_COOKIE, ""), store=herald.store)
        response = see_other("/login")
        http_auth.clear_session_cookie(response)
        return response

    return pages
