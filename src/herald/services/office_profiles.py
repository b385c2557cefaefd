"""The office profiles (phone region, time zone, default language) senders and rules read, kept per process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from herald.store import offices as office_store
from herald.store.offices import StoredProfile


class OfficeProfiles:
    """Every tenant's office profiles as senders and rules read them, re-read when older than `fresh_for`.

    Every process keeps its own copy, so a profile changed by another process (the UI, the CLI)
    reaches a running worker within `fresh_for`, without a restart; `forget()` is immediate here.
    Office ids are per tenant: a campaign's messages are judged by its own tenant's profiles.
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
        self._read: tuple[datetime, dict[str, dict[int, StoredProfile]]] | None = None
        self._lock = threading.Lock()

    def _all(self) -> dict[str, dict[int, StoredProfile]]:
        """tenant -> office id -> profile, as read at most `fresh_for` ago (one query for every tenant)."""
        now = self._now()
        with self._lock:
            cached = self._read
        if cached is not None and now - cached[0] < self._fresh_for:
            return cached[1]
        with self._store.connect() as conn:
            profiles = office_store.all_profiles(conn)
        with self._lock:
            self._read = (now, profiles)
        return profiles

    def regions(self, tenant: str | None) -> dict[int, str]:
        """Phone region per office of `tenant` (None: the default) with a profile; others use the default region."""
        return {office: p.region for office, p in self._all().get(tenant or self._default, {}).items()}

    def languages(self, tenant: str | None) -> dict[int, str]:
        """Default language per office of `tenant` (None: the default one) whose profile names one."""
        return {office: p.language for office, p in self._all().get(tenant or self._default, {}).items() if p.language}

    def timezones(self, tenant: str | None) -> dict[int, str]:
        """Time zone per office of `tenant` (None: the default one) with a profile (quiet hours are local)."""
        return {office: p.timezone for office, p in self._all().get(tenant or self._default, {}).items()}

    def timezones_by_tenant(self) -> dict[str, dict[int, str]]:
        """Every tenant's time zone per office with a profile: what a claim across all campaigns needs."""
        return {tenant: {o: p.timezone for o, p in offices.items()} for tenant, offices in self._all().items()}

    def forget(self) -> None:
        with self._lock:
            self._read = None
