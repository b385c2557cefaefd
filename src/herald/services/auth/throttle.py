"""Login throttling: how long a username and a client address must wait, derived from failed logins in the audit log.

The audit log is the one record every herald process shares, so the throttle holds across
several servers on one PostgreSQL without anything else to run. Each key gets a few free
failures, then the wait after its latest failure doubles with every further one, up to a cap:

- per username (from any address): 5 free in 15 minutes, then 1, 2, 4 ... seconds, at most 60.
  The cap is short on purpose: anyone can type a user's name, so a long lockout would let an
  attacker keep a real officer out for good; a minute between guesses still makes guessing
  an argon2-hashed password of 10+ characters hopeless.
- per client address (over all usernames): 10 free in an hour, then doubling up to 15 minutes,
  which stops one machine from guessing across many accounts.

While a key must wait, a login is refused before its password is checked: the right password
does not work during the wait, and a refused attempt costs no argon2 time. The first refused
attempt of each wait is recorded as `login.throttled`; refused attempts do not lengthen the wait
(hammering gains nothing, loses nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from herald.store.audit import latest_since

FAILED = "login.failed"
THROTTLED = "login.throttled"


@dataclass(frozen=True)
class Backoff:
    """Free failures within a window, then a doubling wait after the latest failure, capped."""

    free: int
    window: timedelta
    cap: timedelta

    def wait(self, failures: int, latest: datetime | None, now: datetime) -> timedelta:
        """How long from `now` until the next attempt is allowed (zero: allowed now)."""
        if failures < self.free or latest is None:
            return timedelta(0)
        exponent = min(failures - self.free, 30)  # 2**30 s is far past any cap; keeps the float finite
        delay = min(timedelta(seconds=2**exponent), self.cap)
        return max(latest + delay - now, timedelta(0))


PER_USERNAME = Backoff(free=5, window=timedelta(minutes=15), cap=timedelta(minutes=1))
PER_ADDRESS = Backoff(free=10, window=timedelta(hours=1), cap=timedelta(minutes=15))


@dataclass(frozen=True)
class Verdict:
    """How long to wait (zero: go ahead), counted from which key's latest failure."""

    wait: timedelta
    since: datetime | None
    actor: str | None = None  # the key that must wait: a username ...
    address: str | None = None  # ... or a client address


def check(conn: Connection, username: str, address: str | None, now: datetime) -> Verdict:
    """How long this username (and this address, if known) must wait before the next login attempt."""
    failures, latest = latest_since(conn, FAILED, now - PER_USERNAME.window, actor=username)
    verdicts = [Verdict(PER_USERNAME.wait(failures, latest, now), latest, actor=username)]
    if address:
        failures, latest = latest_since(conn, FAILED, now - PER_ADDRESS.window, address=address)
        verdicts.append(Verdict(PER_ADDRESS.wait(failures, latest, now), latest, address=address))
    return max(verdicts, key=lambda v: v.wait)


def first_refusal(conn: Connection, verdict: Verdict) -> bool:
    """Whether this is the first refused attempt of this wait of this key: only that one is recorded.

    One `login.throttled` entry per wait, not per request: hammering a throttled login (or spraying
    names from a throttled address) must not fill the audit log, and the disk, at request rate.
    """
    if verdict.since is None:
        return True
    found, _ = latest_since(conn, THROTTLED, verdict.since, actor=verdict.actor, address=verdict.address)
    return found == 0


def seconds(wait: timedelta) -> int:
    """A wait as whole seconds for Retry-After and for people (rounded up: never too early)."""
    return max(math.ceil(wait.total_seconds()), 1)
