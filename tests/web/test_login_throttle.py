"""Login throttling over plain HTTP: wrong passwords in a row make the login form wait, and say for how long.

The clock is the test's: waiting out a backoff is moving the clock, not sleeping.
"""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.errors import AuthenticationError, LoginThrottledError
from herald.services import auth
from herald.services.auth import Role
from herald.store.tables import audit_log
from tests.web.conftest import PASSWORD, USERNAMES, login_token

MANAGER = USERNAMES[Role.CAMPAIGN_MANAGER]


def attempt(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    token = login_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "login_token": token, "next": "/campaigns"}
    )


def actions(herald: Herald, username: str) -> list[str]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log.c.action).where(audit_log.c.actor == username).order_by(audit_log.c.id))
        return [r.action for r in rows]


def test_forty_wrong_passwords_then_the_right_one_is_refused_until_the_wait_is_over(
    client: TestClient, herald: Herald, clock: ManualClock
) -> None:
    for _ in range(40):
        attempt(client, MANAGER, "not the password")
    right = attempt(client, MANAGER, PASSWORD)
    assert right.status_code == 429
    wait = int(right.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert re.search(rf"Try again in {wait} seconds?\.", right.text), right.text
    assert auth.SESSION_COOKIE not in right.cookies
    clock.advance(timedelta(seconds=wait - 1))
    assert attempt(client, MANAGER, PASSWORD).status_code == 429  # not a second early
    clock.advance(timedelta(seconds=1))
    done = attempt(client, MANAGER, PASSWORD)
    assert done.status_code == 303 and done.cookies.get(auth.SESSION_COOKIE)
    recorded = actions(herald, MANAGER)
    assert recorded.count("login.failed") == 5  # the rest were refused unchecked
    assert recorded.count("login.throttled") == 1  # one per wait, not one per refused request
    assert recorded[-1] == "login"


def test_the_wait_doubles_with_each_failure_and_refused_attempts_do_not_lengthen_it(
    herald: Herald, clock: ManualClock
) -> None:
    waits: list[int] = []
    for _ in range(30):
        if len(waits) == 6:
            break
        try:
            auth.login(MANAGER, "wrong password!", address="10.0.0.1", store=herald.store, clock=herald.clock)
        except LoginThrottledError as exc:
            waits.append(exc.retry_after)
            for _ in range(3):  # hammering while refused
                try:
                    auth.login(MANAGER, "wrong password!", address="10.0.0.1", store=herald.store, clock=herald.clock)
                except LoginThrottledError as again:
                    assert again.retry_after == exc.retry_after
            clock.advance(timedelta(seconds=exc.retry_after))
            continue
        except AuthenticationError:
            pass
    assert waits[:6] == [1, 2, 4, 8, 16, 32]


def test_an_attacker_guessing_from_many_addresses_never_keeps_the_real_user_out_for_more_than_a_minute(
    herald: Herald, clock: ManualClock
) -> None:
    for n in range(30):
        try:
            auth.login(MANAGER, "a guess of mine", address=f"198.51.100.{n}", store=herald.store, clock=herald.clock)
        except LoginThrottledError as exc:
            assert exc.retry_after <= 60
            clock.advance(timedelta(seconds=exc.retry_after))
        except AuthenticationError:
            pass
    try:
        auth.login(MANAGER, PASSWORD, address="192.0.2.7", store=herald.store, clock=herald.clock)
    except LoginThrottledError as exc:
        assert exc.retry_after <= 60
        clock.advance(timedelta(seconds=exc.retry_after))
    assert auth.login(MANAGER, PASSWORD, address="192.0.2.7", store=herald.store, clock=herald.clock)


def test_one_address_guessing_across_accounts_is_slowed_down_too(herald: Herald, clock: ManualClock) -> None:
    names = [f"nobody{n}" for n in range(10)]
    for name in names:  # one failure per account: no account reaches its own limit
        with contextlib.suppress(AuthenticationError):
            auth.login(name, "a guess of mine", address="203.0.113.9", store=herald.store, clock=herald.clock)
    try:
        auth.login(MANAGER, PASSWORD, address="203.0.113.9", store=herald.store, clock=herald.clock)
        raise AssertionError("the address's 11th attempt went through")
    except LoginThrottledError:
        pass
    assert auth.login(
        MANAGER, PASSWORD, address="192.0.2.8", store=herald.store, clock=herald.clock
    )  # another address is not held back
    assert actions(herald, "nobody3") == ["login.failed"]
    for n in range(20):  # spraying more names while the address waits: refused, and not one audit row each
        with contextlib.suppress(LoginThrottledError):
            auth.login(f"spray{n}", "a guess of mine", address="203.0.113.9", store=herald.store, clock=herald.clock)
            raise AssertionError("a throttled address got through")
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log.c.action).where(audit_log.c.address == "203.0.113.9")).all()
    assert [r.action for r in rows].count("login.throttled") == 1


def test_every_failed_and_successful_login_is_in_the_audit_log_with_its_address(
    client: TestClient, herald: Herald
) -> None:
    attempt(client, MANAGER, "not the password")
    attempt(client, "ghost", "not the password")
    attempt(client, MANAGER, PASSWORD)
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.address.is_not(None)).order_by(audit_log.c.id)).all()
    assert [(r.action, r.actor, r.via, r.address) for r in rows] == [
        ("login.failed", MANAGER, "ui", "testclient"),
        ("login.failed", "ghost", "ui", "testclient"),
        ("login", MANAGER, "ui", "testclient"),
    ]
