"""UI sessions: a random id in an HttpOnly cookie, its SHA-256 and a CSRF token in the sessions table.

The CSRF defence is a synchronizer token per session: the UI renders `csrf_token(session)` into
every form (field `csrf_token`) or sends it as the `X-CSRF-Token` header, and `check_csrf`
compares it with the stored one. SameSite=Lax on the cookie is the second line.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from herald.clock import Clock
from herald.errors import AuthenticationError, LoginThrottledError
from herald.services.auth import throttle
from herald.services.auth.tokens import digest
from herald.services.auth.users import MAX_USERNAME, User, user_by_id, verify_credentials
from herald.store import audit, credentials
from herald.store.audit import AuditEntry

SESSION_COOKIE = "herald_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LIFETIME = timedelta(hours=12)  # one working day; after it the officer logs in again

log = logging.getLogger(__name__)
_STRIPES = tuple(threading.Lock() for _ in range(64))


@dataclass(frozen=True)
class Session:
    """A live UI session: who, until when, and the token its forms must carry."""

    id_hash: str
    user: User
    csrf: str
    expires_at: datetime


def login(
    username: str, password: str, *, store: Engine, clock: Clock, address: str | None = None, via: str = "ui"
) -> str:
    """Check the credentials and open a session; return the session id for the cookie (never stored).

    Throttled (see `throttle`): while the username or the address must wait, the attempt is refused
    with LoginThrottledError before the password is looked at. Every success and failure goes to
    the audit log, and the first refusal of each wait.
    """
    name = username.strip()[:MAX_USERNAME]
    # One lock per stripe of usernames: concurrent guesses at one account are checked one after the
    # other, so a burst of parallel requests cannot slip past the throttle before the first failure lands.
    with _STRIPES[hash(name) % len(_STRIPES)]:
        now = clock.now()
        with store.connect() as conn:
            verdict = throttle.check(conn, name, address, now)
            record = verdict.wait > timedelta(0) and throttle.first_refusal(conn, verdict)
        if verdict.wait > timedelta(0):
            seconds = throttle.seconds(verdict.wait)
            if record:
                detail = {"retry_after": seconds}
                _record(store, clock, AuditEntry(throttle.THROTTLED, name, via, address=address, detail=detail))
            raise LoginThrottledError(seconds)
        try:
            user = verify_credentials(name, password, store=store)
        except AuthenticationError:
            # Not logged as well: a name field sometimes holds a password typed in the wrong box.
            _record(store, clock, AuditEntry(throttle.FAILED, name, via, address=address))
            raise
    session_id = secrets.token_urlsafe(32)
    now = clock.now()
    with store.begin() as conn:
        credentials.delete_expired_sessions(conn, now)  # tidy as we go: no cleanup job needed
        audit.append(conn, AuditEntry("login", user.username, via, address=address), now)
        credentials.add_session(conn, digest(session_id), user.id, secrets.token_urlsafe(32), now, now + LIFETIME)
    log.info("user %s logged in", user.username)
    return session_id


def _record(store: Engine, clock: Clock, entry: AuditEntry) -> None:
    with store.begin() as conn:
        audit.append(conn, entry, clock.now())


def logout(session_id: str, *, store: Engine) -> None:
    with store.begin() as conn:
        credentials.delete_session(conn, digest(session_id))


def find_session(session_id: str, *, store: Engine, clock: Clock) -> Session | None:
    """The live session with this id whose user is still active, or None."""
    if not session_id or len(session_id) > 200:
        return None
    with store.connect() as conn:
        stored = credentials.live_session(conn, digest(session_id), clock.now())
        user = user_by_id(conn, stored.user_id) if stored is not None else None
    if stored is None or user is None:
        return None
    return Session(stored.id_hash, user, stored.csrf_token, stored.expires_at)


def csrf_token(session: Session) -> str:
    """The token the UI renders into its forms for this session."""
    return session.csrf


def csrf_matches(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf.encode(), (presented or "").encode())
