"""The office profiles (phone region, time zone) senders and rules read, kept per process and re-read when stale."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from herald.store import offices as office_store


class OfficeProfiles:
    """Each tenant's office profiles as senders and rules read them, re-read from the store when older than `fresh_for`.

    Every process keeps its own copy, so a profile changed by another process (the UI, the CLI)
    reaches a running worker within `fresh_for`, without a restart; `forget()` is immediate here.
    """

    def __init__(
        self,
        store: Engine,
        default_tenant: str,
        now: Callable[[], datetime],
        fresh_for: timedelta = timedelta(seconds=30),
    ) -> None:
        self._store = store
        self._default = default_tenant
        self._now = now
        self._fresh_for = fresh_for
        self._read: dict[str, tuple[datetime, dict[int, office_store.StoredProfile]]] = {}
        self._lock = threading.Lock()

    def _profiles(self, tenant: str | None) -> dict[int, office_store.StoredProfile]:
        key = tenant or self._default
        now = self._now()
        with self._lock:
            cached = self._read.get(key)
        if cached is not None and now - cached[0] < self._fresh_for:
            return cached[1]
        with self._store.connect() as conn:
            profiles = office_store.profiles_of_tenant(conn, key)
        with self._lock:
            self._read[key] = (now, profiles)
        return profiles

    def regions(self, tenant: str | None) -> dict[int, str]:
        """Phone region per office with a profile; other offices use the default region."""
        return {office: p.region for office, p in self._profiles(tenant).items()}

    def timezones(self, tenant: str | None) -> dict[int, str]:
        """Time zone per office with a profile (quiet hours are local)."""
        return {office: p.timezone for office, p in self._profiles(tenant).items()}

    def forget(self) -> None:
        with self._lock:
            self._read.clear()
