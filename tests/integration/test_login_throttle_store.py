"""The login throttle on both of herald's databases: the audit log is what several
`herald serve` processes share, so its counts and times must read back right on PostgreSQL as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.errors import AuthenticationError, LoginThrottledError
from herald.services import auth
from herald.services.auth import Role
from herald.services.auth import users as users_module
from herald.store.database import make_engine, upgrade

PASSWORD = "correct horse battery"


@pytest.fixture
def herald(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Herald]:
    # Cheap hashes: this test is about the throttle's bookkeeping, not argon2's cost.
    monkeypatch.setattr(users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    engine = make_engine(db_url)
    upgrade(engine)  # `herald db upgrade`, as on any PostgreSQL install
    engine.dispose()
    h = Herald.build(Settings(home=tmp_path, database_url=db_url), ManualClock(datetime(2026, 11, 20, 5, tzinfo=UTC)))
    auth.create_user("amina", Role.ADMIN, PASSWORD, store=h.store, clock=h.clock)
    yield h
    h.close()


def test_five_failures_then_a_wait_that_a_second_herald_on_the_same_database_enforces_too(
    herald: Herald, db_url: str, tmp_path: Path
) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationError) as refused:
            auth.login("amina", "wrong password", address="10.1.1.1", store=herald.store, clock=herald.clock)
        assert not isinstance(refused.value, LoginThrottledError)
    other = Herald.build(Settings(home=tmp_path, database_url=db_url), herald.clock)  # another process's view
    try:
        with pytest.raises(LoginThrottledError) as waiting:
            auth.login("amina", PASSWORD, address="10.2.2.2", store=other.store, clock=other.clock)
        assert waiting.value.retry_after == 1
        assert isinstance(herald.clock, ManualClock)
        herald.clock.advance(timedelta(seconds=1))
        assert auth.login("amina", PASSWORD, address="10.2.2.2", store=other.store, clock=other.clock)
    finally:
        other.close()
