"""herald's users as stored: named queries on the users table, rows handed out as `StoredUser` records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from herald.store.tables import users


@dataclass(frozen=True)
class StoredUser:
    """One row of users; `role` is the stored word (viewer, campaign_manager, admin)."""

    id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    password_hash: str

    @classmethod
    def from_row(cls, row: Row[Any]) -> StoredUser:
        return cls(row.id, row.username, row.role, bool(row.active), row.created_at, row.password_hash)


def named(conn: Connection, username: str) -> StoredUser | None:
    """The user with exactly this username, active or not."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return StoredUser.from_row(row) if row is not None else None


def active_by_id(conn: Connection, user_id: int) -> StoredUser | None:
    """The user with this id if it exists and is active (a disabled user's credentials open nothing)."""
    row = conn.execute(select(users).where(users.c.id == user_id, users.c.active.is_(True))).first()
    return StoredUser.from_row(row) if row is not None else None


def everyone(conn: Connection) -> list[StoredUser]:
    """Every user, by username."""
    return [StoredUser.from_row(r) for r in conn.execute(select(users).order_by(users.c.username))]


def exists(conn: Connection, username: str) -> bool:
    return conn.execute(select(users.c.id).where(users.c.username == username)).first() is not None


def add(conn: Connection, username: str, role: str, password_hash: str, now: datetime) -> None:
    """A new active user."""
    conn.execute(
        insert(users).values(username=username, role=role, password_hash=password_hash, active=True, created_at=now)
    )


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def change(conn: Connection, user_id: int, *, role: str | None = None, active: bool | None = None) -> None:
    """Set the role and/or the active flag; nothing given, nothing written."""
    values: dict[str, Any] = {}
    if role is not None:
        values["role"] = role
    if active is not None:
        values["active"] = active
    if values:
        conn.execute(update(users).where(users.c.id == user_id).values(**values))


def active_count(conn: Connection, role: str) -> int:
    """How many active users have this role (the last admin may not go)."""
    query = select(func.count()).select_from(users).where(users.c.role == role, users.c.active.is_(True))
    return int(conn.execute(query).scalar_one())
