"""Credentials as stored: API tokens and UI sessions, each kept only as a SHA-256 of the secret, read as records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, insert, select, update

from herald.store.tables import api_tokens, sessions, users


@dataclass(frozen=True)
class StoredToken:
    """One API token's row with its user's name; the token itself is never stored."""

    id: int
    user_id: int
    username: str
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> StoredToken:
        return cls(row.id, row.user_id, row.username, row.name, row.created_at, row.last_used_at)


@dataclass(frozen=True)
class StoredSession:
    """One UI session's row."""

    id_hash: str
    user_id: int
    csrf_token: str
    expires_at: datetime


def _tokens() -> Select[Any]:
    return select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)


def add_token(conn: Connection, user_id: int, name: str, token_hash: str, now: datetime) -> int:
    """Store a new token's hash; its id."""
    new_id = conn.execute(
        insert(api_tokens).values(user_id=user_id, name=name, token_hash=token_hash, created_at=now)
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def token(conn: Connection, token_id: int) -> StoredToken | None:
    row = conn.execute(_tokens().where(api_tokens.c.id == token_id)).first()
    return StoredToken.from_row(row) if row is not None else None


def token_by_hash(conn: Connection, token_hash: str) -> StoredToken | None:
    row = conn.execute(_tokens().where(api_tokens.c.token_hash == token_hash)).first()
    return StoredToken.from_row(row) if row is not None else None


def tokens(conn: Connection, username: str | None = None) -> list[StoredToken]:
    """Every token (or one user's), oldest first."""
    query = _tokens().order_by(api_tokens.c.id)
    if username is not None:
        query = query.where(users.c.username == username)
    return [StoredToken.from_row(r) for r in conn.execute(query)]


def delete_token(conn: Connection, token_id: int) -> bool:
    """Whether there was such a token."""
    return bool(conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id)).rowcount)


def delete_tokens_of(conn: Connection, user_id: int) -> int:
    """Revoke every token of a user; how many there were."""
    return int(conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id)).rowcount)


def touch_token(conn: Connection, token_id: int, now: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))


def add_session(
    conn: Connection, id_hash: str, user_id: int, csrf_token: str, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        insert(sessions).values(
            id_hash=id_hash, user_id=user_id, csrf_token=csrf_token, created_at=now, expires_at=expires_at
        )
    )


def live_session(conn: Connection, id_hash: str, now: datetime) -> StoredSession | None:
    """The session with this hash unless it has expired."""
    row = conn.execute(select(sessions).where(sessions.c.id_hash == id_hash, sessions.c.expires_at > now)).first()
    return StoredSession(row.id_hash, row.user_id, row.csrf_token, row.expires_at) if row is not None else None


def delete_session(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))


def delete_expired_sessions(conn: Connection, now: datetime) -> None:
    conn.execute(delete(sessions).where(sessions.c.expires_at <= now))


def end_sessions_of(conn: Connection, user_id: int) -> int:
    """End every session of a user; how many there were."""
    return int(conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount)
