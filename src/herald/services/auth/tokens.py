"""API tokens for scripts: shown once at creation, stored only as a SHA-256, named and dated.

Tokens are 256 random bits, so a fast hash is enough (nobody can guess one to match a hash) and
lets a request find its token with one indexed lookup; passwords, low in entropy, get argon2.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from herald.app import Herald
from herald.errors import NotFoundError, ValidationError
from herald.services.auth.users import SYSTEM, Actor, User, audit_change, get_user, user_by_id
from herald.store.tables import api_tokens, users

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
    def from_row(cls, row: Row[Any]) -> ApiToken:
        return cls(row.id, row.name, row.username, row.created_at, row.last_used_at)


@dataclass(frozen=True)
class IssuedToken:
    token: str  # the only time herald has it in clear
    info: ApiToken


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(herald: Herald, username: str, name: str, *, by: Actor = SYSTEM) -> IssuedToken:
    """A new token for an active user; the caller shows `token` once and herald forgets it."""
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise ValidationError("A token needs a name of 1-100 characters, e.g. the script using it.", field="name")
    user = get_user(herald, username)
    if not user.active:
        raise ValidationError(f"User {username!r} is disabled; enable it before giving it a token.", field="username")
    token = PREFIX + secrets.token_urlsafe(32)
    now = herald.clock.now()
    with herald.store.begin() as conn:
        new_id = conn.execute(
            insert(api_tokens).values(user_id=user.id, name=label, token_hash=digest(token), created_at=now)
        ).inserted_primary_key
        assert new_id is not None
        audit_change(conn, by, "token.issue", user.username, now, token_id=int(new_id[0]), name=label)
    return IssuedToken(token, get_token(herald, int(new_id[0])))


def _query() -> Any:
    return select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)


def get_token(herald: Herald, token_id: int) -> ApiToken:
    with herald.store.connect() as conn:
        row = conn.execute(_query().where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise NotFoundError(f"No API token {token_id}.")
    return ApiToken.from_row(row)


def list_tokens(herald: Herald, username: str | None = None) -> list[ApiToken]:
    query = _query().order_by(api_tokens.c.id)
    if username is not None:
        query = query.where(users.c.username == username)
    with herald.store.connect() as conn:
        return [ApiToken.from_row(r) for r in conn.execute(query)]


def revoke_token(herald: Herald, token_id: int, *, by: Actor = SYSTEM) -> None:
    token = get_token(herald, token_id)
    now = herald.clock.now()
    with herald.store.begin() as conn:
        if conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id)).rowcount == 0:
            raise NotFoundError(f"No API token {token_id}.")
        audit_change(conn, by, "token.revoke", token.username, now, token_id=token_id, name=token.name)


def user_for_token(herald: Herald, token: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    now = herald.clock.now()
    with herald.store.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest(token))).first()
        user = user_by_id(conn, row.user_id) if row is not None else None
    if row is None or user is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
        with herald.store.begin() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now))
    return user
