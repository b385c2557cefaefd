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
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from herald.app import Herald
from herald.errors import AuthenticationError, LifecycleError, NotFoundError, ValidationError
from herald.store import audit
from herald.store.audit import AuditEntry
from herald.store.tables import api_tokens, sessions, users

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
    def from_row(cls, row: Row[Any]) -> User:
        return cls(row.id, row.username, Role(row.role), bool(row.active), row.created_at)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"A password needs at least {MIN_PASSWORD} characters.", field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"A password has at most {MAX_PASSWORD} characters.", field="password")


def create_user(herald: Herald, username: str, role: Role, password: str, *, by: Actor = SYSTEM) -> User:
    """A new active user; the password is stored only as an argon2id hash."""
    name = username.strip()
    if not _USERNAME.match(name):
        raise ValidationError(
            "A username is 1-100 letters, digits, dots, dashes, underscores or @, starting with a letter or digit.",
            field="username",
        )
    check_password(password)
    hashed = _hash(password)  # before the transaction: no write lock held through tens of ms of argon2
    now = herald.clock.now()
    with herald.store.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == name)).first() is not None:
            raise ValidationError(f"A user named {name!r} already exists.", field="username")
        conn.execute(
            insert(users).values(username=name, role=role.value, password_hash=hashed, active=True, created_at=now)
        )
        audit_change(conn, by, "user.create", name, now, role=role.value)
    return get_user(herald, name)


def get_user(herald: Herald, username: str) -> User:
    with herald.store.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFoundError(f"No user {username!r}.", hint="`herald users list` shows them.")
    return User.from_row(row)


def user_by_id(conn: Connection, user_id: int) -> User | None:
    """The user with this id if it exists and is active (a disabled user's credentials open nothing)."""
    row = conn.execute(select(users).where(users.c.id == user_id, users.c.active.is_(True))).first()
    return User.from_row(row) if row is not None else None


def list_users(herald: Herald) -> list[User]:
    with herald.store.connect() as conn:
        return [User.from_row(r) for r in conn.execute(select(users).order_by(users.c.username))]


def verify_credentials(herald: Herald, username: str, password: str) -> User:
    """The active user these credentials belong to, or one AuthenticationError whatever was wrong."""
    with herald.store.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username.strip())).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        # An unknown user is checked against a dummy hash so the answer takes as long as a wrong password.
        _verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        row = None
    if row is None or not row.active:
        raise AuthenticationError("Wrong username or password, or the user is disabled.")
    if _hasher.check_needs_rehash(row.password_hash):
        with herald.store.begin() as conn:
            conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_hash(password)))
    return User.from_row(row)


def set_password(herald: Herald, username: str, password: str, *, by: Actor = SYSTEM) -> int:
    """Change or reset a user's password; every session of that user ends (returned: how many).

    API tokens stay: they are separate credentials for scripts, revoked one by one (or all at once
    by disabling the user). A password reset after a suspected leak should revoke them too.
    """
    check_password(password)
    user = get_user(herald, username)
    hashed = _hash(password)
    now = herald.clock.now()
    with herald.store.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(password_hash=hashed))
        ended = conn.execute(delete(sessions).where(sessions.c.user_id == user.id)).rowcount
        audit_change(conn, by, "user.password", user.username, now, sessions_ended=ended)
    return int(ended)


def update_user(
    herald: Herald, username: str, *, role: Role | None = None, active: bool | None = None, by: Actor = SYSTEM
) -> User:
    """Change a user's role or disable / enable it.

    Disabling ends the user's sessions and revokes its API tokens for good: enabling it again
    brings back neither (an admin issues new tokens if the user still needs them).
    """
    user = get_user(herald, username)
    now = herald.clock.now()
    with herald.store.begin() as conn:
        losing_admin = user.role is Role.ADMIN and user.active and (active is False or role not in (None, Role.ADMIN))
        if losing_admin and _active_admins(conn) <= 1:
            raise LifecycleError(
                f"{user.username!r} is the last active admin; herald would have nobody to manage users.",
                hint="Make another user admin first.",
            )
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = role.value
        if active is not None:
            values["active"] = active
        if values:
            conn.execute(update(users).where(users.c.id == user.id).values(**values))
        if role is not None and role is not user.role:
            audit_change(conn, by, "user.role", user.username, now, before=user.role.value, after=role.value)
        if active is False:
            conn.execute(delete(sessions).where(sessions.c.user_id == user.id))
            revoked = conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user.id)).rowcount
            if user.active:
                audit_change(conn, by, "user.disable", user.username, now, tokens_revoked=revoked)
        elif active is True and not user.active:
            audit_change(conn, by, "user.enable", user.username, now)
    return get_user(herald, username)


def _active_admins(conn: Connection) -> int:
    query = select(func.count()).select_from(users).where(users.c.role == Role.ADMIN.value, users.c.active.is_(True))
    return int(conn.execute(query).scalar_one())


_DUMMY_HASH = _hasher.hash("herald-dummy-password-for-timing")
