"""herald's users: roles, argon2 password hashes, and the refusals that keep at least one admin."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine

from herald.clock import Clock
from herald.errors import AuthenticationError, LifecycleError, NotFoundError, ValidationError
from herald.store import audit, credentials
from herald.store import users as user_store
from herald.store.audit import AuditEntry
from herald.store.users import StoredUser

MIN_PASSWORD = 10
MAX_USERNAME = 100
MAX_PASSWORD = 1024  # argon2 hashes anything, but a megabyte "password" is a cheap way to burn CPU
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Hashing is CPU by design (tens of ms a time): at most one per core but one runs at once, so a burst of
# logins leaves a core free for everything else the server does (webhooks, hooks, pages).
_HASHING = threading.BoundedSemaphore(max((os.cpu_count() or 2) - 1, 1))


def _hash(password: str) -> str:
    with _HASHING:
        return _hasher.hash(password)


def _verify(stored: str, password: str) -> None:
    with _HASHING:
        _hasher.verify(stored, password)


class Role(StrEnum):
    """What a user may do; each role can do everything the roles below it can."""

    VIEWER = "viewer"
    CAMPAIGN_MANAGER = "campaign_manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        word = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(word)
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise ValidationError(f"Unknown role {text!r}; choose one of {choices}.", field="role") from None


@dataclass(frozen=True)
class Actor:
    """Who makes a change to users or tokens, for the audit log: a username (None: herald itself) and the way in."""

    username: str | None
    via: str  # ui, api, cli, system


SYSTEM = Actor(None, "system")


def audit_change(conn: Connection, by: Actor, action: str, target: str, now: datetime, **detail: Any) -> None:
    """Record a user or token change in the audit log, in the change's own transaction."""
    audit.append(conn, AuditEntry(action, by.username, by.via, target=target, detail=detail or None), now)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, stored: StoredUser) -> User:
        return cls(stored.id, stored.username, Role(stored.role), stored.active, stored.created_at)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"A password needs at least {MIN_PASSWORD} characters.", field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"A password has at most {MAX_PASSWORD} characters.", field="password")


def create_user(username: str, role: Role, password: str, *, store: Engine, clock: Clock, by: Actor = SYSTEM) -> User:
    """A new active user; the password is stored only as an argon2id hash."""
    name = username.strip()
    if not _USERNAME.match(name):
        raise ValidationError(
            "A username is 1-100 letters, digits, dots, dashes, underscores or @, starting with a letter or digit.",
            field="username",
        )
    check_password(password)
    hashed = _hash(password)  # before the transaction: no write lock held through tens of ms of argon2
    now = clock.now()
    with store.begin() as conn:
        if user_store.exists(conn, name):
            raise ValidationError(f"A user named {name!r} already exists.", field="username")
        user_store.add(conn, name, role.value, hashed, now)
        audit_change(conn, by, "user.create", name, now, role=role.value)
    return get_user(name, store=store)


def get_user(username: str, *, store: Engine) -> User:
    with store.connect() as conn:
        stored = user_store.named(conn, username)
    if stored is None:
        raise NotFoundError(
            f"No user {username!r}.", hint="`herald users list` shows them.", page_hint="The Users page lists them."
        )
    return User.of(stored)


def user_by_id(conn: Connection, user_id: int) -> User | None:
    """The user with this id if it exists and is active (a disabled user's credentials open nothing)."""
    stored = user_store.active_by_id(conn, user_id)
    return User.of(stored) if stored is not None else None


def list_users(*, store: Engine) -> list[User]:
    with store.connect() as conn:
        return [User.of(u) for u in user_store.everyone(conn)]


def verify_credentials(username: str, password: str, *, store: Engine) -> User:
    """The active user these credentials belong to, or one AuthenticationError whatever was wrong."""
    with store.connect() as conn:
        stored = user_store.named(conn, username.strip())
    try:
        # An unknown user is checked against a dummy hash so the answer takes as long as a wrong password.
        _verify(stored.password_hash if stored is not None else _DUMMY_HASH, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        stored = None
    if stored is None or not stored.active:
        raise AuthenticationError("Wrong username or password, or the user is disabled.")
    if _hasher.check_needs_rehash(stored.password_hash):
        with store.begin() as conn:
            user_store.set_password_hash(conn, stored.id, _hash(password))
    return User.of(stored)


def set_password(username: str, password: str, *, store: Engine, clock: Clock, by: Actor = SYSTEM) -> int:
    """Change or reset a user's password; every session of that user ends (returned: how many).

    API tokens stay: they are separate credentials for scripts, revoked one by one (or all at once
    by disabling the user). A password reset after a suspected leak should revoke them too.
    """
    check_password(password)
    user = get_user(username, store=store)
    hashed = _hash(password)
    now = clock.now()
    with store.begin() as conn:
        user_store.set_password_hash(conn, user.id, hashed)
        ended = credentials.end_sessions_of(conn, user.id)
        audit_change(conn, by, "user.password", user.username, now, sessions_ended=ended)
    return ended


def update_user(
    username: str,
    *,
    store: Engine,
    clock: Clock,
    role: Role | None = None,
    active: bool | None = None,
    by: Actor = SYSTEM,
) -> User:
    """Change a user's role or disable / enable it.

    Disabling ends the user's sessions and revokes its API tokens for good: enabling it again
    brings back neither (an admin issues new tokens if the user still needs them).
    """
    user = get_user(username, store=store)
    now = clock.now()
    with store.begin() as conn:
        losing_admin = user.role is Role.ADMIN and user.active and (active is False or role not in (None, Role.ADMIN))
        if losing_admin and user_store.active_count(conn, Role.ADMIN.value) <= 1:
            raise LifecycleError(
                f"{user.username!r} is the last active admin; herald would have nobody to manage users.",
                hint="Make another user admin first.",
            )
        user_store.change(conn, user.id, role=role.value if role is not None else None, active=active)
        if role is not None and role is not user.role:
            audit_change(conn, by, "user.role", user.username, now, before=user.role.value, after=role.value)
        if active is False:
            credentials.end_sessions_of(conn, user.id)
            revoked = credentials.delete_tokens_of(conn, user.id)
            if user.active:
                audit_change(conn, by, "user.disable", user.username, now, tokens_revoked=revoked)
        elif active is True and not user.active:
            audit_change(conn, by, "user.enable", user.username, now)
    return get_user(username, store=store)


_DUMMY_HASH = _hasher.hash("herald-dummy-password-for-timing")
