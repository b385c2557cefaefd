"""API tokens for scripts: shown once at creation, stored only as a SHA-256, named and dated.

Tokens are 256 random bits, so a fast hash is enough (nobody can guess one to match a hash) and
lets a request find its token with one indexed lookup; passwords, low in entropy, get argon2.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from herald.clock import Clock
from herald.errors import NotFoundError, ValidationError
from herald.services.auth.users import SYSTEM, Actor, User, audit_change, get_user, user_by_id
from herald.store import credentials
from herald.store.credentials import StoredToken

PREFIX = "hrd_"  # makes a leaked token recognisable to secret scanners and to people
_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is a hint, not an audit log: no write per request


@dataclass(frozen=True)
class ApiToken:
    """A token's metadata; the token itself exists only in `IssuedToken`, once."""

    id: int
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, stored: StoredToken) -> ApiToken:
        return cls(stored.id, stored.name, stored.username, stored.created_at, stored.last_used_at)


@dataclass(frozen=True)
class IssuedToken:
    token: str  # the only time herald has it in clear
    info: ApiToken


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(username: str, name: str, *, store: Engine, clock: Clock, by: Actor = SYSTEM) -> IssuedToken:
    """A new token for an active user; the caller shows `token` once and herald forgets it."""
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise ValidationError("A token needs a name of 1-100 characters, e.g. the script using it.", field="name")
    user = get_user(username, store=store)
    if not user.active:
        raise ValidationError(f"User {username!r} is disabled; enable it before giving it a token.", field="username")
    token = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with store.begin() as conn:
        new_id = credentials.add_token(conn, user.id, label, digest(token), now)
        audit_change(conn, by, "token.issue", user.username, now, token_id=new_id, name=label)
    return IssuedToken(token, get_token(new_id, store=store))


def get_token(token_id: int, *, store: Engine) -> ApiToken:
    with store.connect() as conn:
        stored = credentials.token(conn, token_id)
    if stored is None:
        raise NotFoundError(f"No API token {token_id}.")
    return ApiToken.of(stored)


def list_tokens(username: str | None = None, *, store: Engine) -> list[ApiToken]:
    with store.connect() as conn:
        return [ApiToken.of(t) for t in credentials.tokens(conn, username)]


def revoke_token(token_id: int, *, store: Engine, clock: Clock, by: Actor = SYSTEM) -> None:
    token = get_token(token_id, store=store)
    now = clock.now()
    with store.begin() as conn:
        if not credentials.delete_token(conn, token_id):
            raise NotFoundError(f"No API token {token_id}.")
        audit_change(conn, by, "token.revoke", token.username, now, token_id=token_id, name=token.name)


def user_for_token(token: str, *, store: Engine, clock: Clock) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    now = clock.now()
    with store.connect() as conn:
        stored = credentials.token_by_hash(conn, digest(token))
        user = user_by_id(conn, stored.user_id) if stored is not None else None
    if stored is None or user is None:
        return None
    if stored.last_used_at is None or now - stored.last_used_at >= _TOUCH_EVERY:
        with store.begin() as conn:
            credentials.touch_token(conn, stored.id, now)
    return user
