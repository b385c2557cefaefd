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
does not work during the wait, and a refused attempt costs no argon2 time. Refused attempts are
recorded as `login.throttled`, and do not lengthen the wait (hammering gains nothing, loses nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from herald.store.audit import latest_since

FAILED = "login.failed"


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


def retry_after(conn: Connection, username: str, address: str | None, now: datetime) -> timedelta:
    """How long this username (and this address, if known) must wait before the next login attempt."""
    failures, latest = latest_since(conn, FAILED, now - PER_USERNAME.window, actor=username)
    waits = [PER_USERNAME.wait(failures, latest, now)]
    if address:
        failures, latest = latest_since(conn, FAILED, now - PER_ADDRESS.window, address=address)
        waits.append(PER_ADDRESS.wait(failures, latest, now))
    return max(waits)


def seconds(wait: timedelta) -> int:
    """A wait as whole seconds for Retry-After and for people (rounded up: never too early)."""
    return max(math.ceil(wait.total_seconds()), 1)
