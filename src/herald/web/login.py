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

from herald import auth
from herald.app import Herald
from herald.auth import SESSION_COOKIE, AuthenticationError
from herald.errors import ValidationError
from herald.web.pages import PageRoute, acting, render, safe_next, see_other, text

LOGIN_COOKIE = "herald_login"
LOGIN_FIELD = "login_token"


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    def login_form(request: Request, next_url: str, error: str | None = None, username: str = "") -> HTMLResponse:
        token = secrets.token_urlsafe(16)
        response = render(
            request,
            "login.html",
            status=401 if error else 200,
            error=error,
            username=username,
            next_url=safe_next(next_url),
            login_field=LOGIN_FIELD,
            login_token=token,
        )
        response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/login")
        return response

    @pages.get("/")
    async def home() -> Response:
        return see_other("/campaigns")

    @pages.get("/login")
    async def login_page(request: Request, next: Annotated[str, Query(max_length=500)] = "/campaigns") -> Response:
        if auth.current_user(request) is not None:
            return see_other(safe_next(next))
        return login_form(request, next)

    @pages.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        username, next_url = text(form, "username"), text(form, "next")
        password = form.get("password")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(expected, text(form, LOGIN_FIELD)):
            return login_form(request, next_url, "The login form had expired; please try again.", username)
        try:
            session_id = auth.login(herald, username, password if isinstance(password, str) else "")
        except (AuthenticationError, ValidationError) as exc:
            return login_form(request, next_url, str(exc), username)
        response = see_other(safe_next(next_url))
        auth.set_session_cookie(response, session_id, secure=request.url.scheme == "https")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @pages.post("/logout")
    async def logout(request: Request) -> Response:
        await acting(request, auth.Role.VIEWER)
        auth.logout(herald, request.cookies.get(SESSION_COOKIE, ""))
        response = see_other("/login")
        auth.clear_session_cookie(response)
        return response

    return pages
