"""Authentication at the HTTP edge: who is calling (bearer token or session cookie) and may they.

`require(role)` is the FastAPI dependency every REST route declares. A bearer token needs no CSRF
check (a browser never attaches it by itself); a session cookie does, so an unsafe REST call made
with the cookie must carry the session's token in `X-CSRF-Token`. UI form posts (outside /api)
call `check_csrf(request, form_value)` themselves, because the token travels in the form body.
Provider and Fineract webhooks declare none of this: they authenticate with their own secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from herald.app import Herald
from herald.errors import AuthenticationError, PermissionDeniedError
from herald.services.auth.sessions import CSRF_HEADER, LIFETIME, SESSION_COOKIE, Session, csrf_matches, find_session
from herald.services.auth.tokens import user_for_token
from herald.services.auth.users import Role, User

_UNSET = object()
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="An API token from `herald users token` (hrd_...).")


def herald_of(request: Request) -> Herald:
    """The Herald the app was built with (create_app puts it on app.state)."""
    herald: Herald = request.app.state.herald
    return herald


def current_session(request: Request) -> Session | None:
    """The caller's live UI session, if the request carries a valid session cookie."""
    cached = getattr(request.state, "herald_session", _UNSET)
    if cached is not _UNSET:
        return cached if isinstance(cached, Session) else None
    cookie = request.cookies.get(SESSION_COOKIE)
    herald = herald_of(request)
    session = find_session(cookie, store=herald.store, clock=herald.clock) if cookie else None
    request.state.herald_session = session  # looked up once per request, however many guards ask
    return session


def current_user(request: Request) -> User | None:
    """The logged-in user of a UI request (session cookie), or None: the UI decides to redirect."""
    session = current_session(request)
    return session.user if session is not None else None


def check_csrf(request: Request, form_value: str | None = None) -> None:
    """Refuse a cookie-authenticated unsafe request whose CSRF token (form field or header) is wrong."""
    if request.method in _SAFE_METHODS:
        return
    session = current_session(request)
    presented = form_value or request.headers.get(CSRF_HEADER)
    if session is None or not csrf_matches(session, presented):
        raise PermissionDeniedError(
            "The form's CSRF token is missing or wrong.", hint="Reload the page and submit the form again."
        )


def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    """The caller of a REST route: a bearer token first, else a session cookie; 401 without either."""
    if request.headers.get("authorization"):
        herald = herald_of(request)
        token = credentials.credentials if credentials is not None else None
        user = user_for_token(token, store=herald.store, clock=herald.clock) if token is not None else None
        if user is None:
            raise AuthenticationError("The API token is not valid (unknown, revoked, or its user is disabled).")
        return user
    session = current_session(request)
    if session is None:
        raise AuthenticationError(
            "Authentication required.", hint="Send `Authorization: Bearer <token>` (see `herald users token`)."
        )
    if request.url.path.startswith("/api/"):
        check_csrf(request)
    return session.user


def require(role: Role) -> Callable[[User], User]:
    """A dependency that lets through users whose role is `role` or above, and refuses others with 403."""

    def dependency(user: Annotated[User, Depends(authenticated)]) -> User:
        if not user.role.allows(role):
            raise PermissionDeniedError(f"This needs the {role.value} role; {user.username!r} is {user.role.value}.")
        return user

    return dependency


Viewer = Annotated[User, Depends(require(Role.VIEWER))]
CampaignManager = Annotated[User, Depends(require(Role.CAMPAIGN_MANAGER))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]


def served_over_https(herald: Herald) -> bool:
    """Whether users reach herald over HTTPS: decided by HERALD_PUBLIC_URL, not by the hop from a proxy.

    Behind a TLS-terminating proxy the request herald sees may be plain HTTP (or claim https only
    if the proxy's address is trusted); the public URL is what the browser actually uses.
    """
    return (herald.settings.public_url or "").lower().startswith("https://")


def set_session_cookie(response: Response, session_id: str, *, secure: bool) -> None:
    """Put a session id in the cookie: HttpOnly (no script reads it), SameSite=Lax, Secure over HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
