"""What a send pass takes now: per provider, as much as its gate's budget allows, outside quiet hours.

A provider that could not take a request now (breaker open, paused) still has its messages
claimed when a fallback would take them: its own fallbacks first, else only the messages of
campaigns that fall back to a provider that is usable. Quiet hours are local: each message is
judged by the time zone of its office in its campaign's own tenant (offices without a profile
follow the default time zone).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.quiet import QuietHours
from herald.domain.sending import Claimed
from herald.providers.gate import Gate, Gates
from herald.providers.registry import Providers
from herald.services.office_profiles import OfficeProfiles
from herald.store import messages as message_store
from herald.store.messages import OfficeFilter

Batches = list[tuple[list[Claimed], Gate | None]]
"""Claimed batches, each with the gate whose claim budget it took (None: not counted against one)."""


class Claimer:
    """Claims for one process (`worker`, its presence's id) with the given lease and batch size."""

    def __init__(
        self,
        *,
        store: Engine,
        providers: Providers,
        gates: Gates,
        clock: Clock,
        offices: OfficeProfiles,
        worker: str,
        lease: timedelta,
        batch_size: int,
        quiet: QuietHours | None,
        timezone: str,
    ) -> None:
        self.store, self.providers, self.gates, self.clock, self.offices = store, providers, gates, clock, offices
        self.worker, self.lease, self.batch_size = worker, lease, batch_size
        self.quiet, self.timezone = quiet, timezone

    def claim(self, room: int, orphans: bool = False) -> Batches:
        """Claim for each provider what it can take now, in one write transaction (runs in a thread).

        With `orphans`, also messages of a provider removed from the configuration (claimed to say why they wait).
        """
        now = self.clock.now()
        offices = self.office_filter(now)
        batches: Batches = []
        with self.store.begin() as conn:
            for name in self.providers:
                if room <= 0:
                    break
                size, campaign_fallbacks, gate = self._claim_size(name, now, room)
                if size <= 0:
                    continue
                batch = message_store.claim_pending(
                    conn,
                    now,
                    size,
                    self.lease,
                    offices,
                    worker=self.worker,
                    provider=name,
                    campaign_fallbacks=campaign_fallbacks,
                )
                if batch:
                    room -= len(batch)
                    batches.append((batch, gate))
            if orphans:
                found = message_store.claim_orphans(
                    conn, now, min(room, 100), self.lease, list(self.providers), self.worker
                )
                if found:
                    batches.append((found, None))
        return batches

    def claim_these(self, ids: list[int]) -> list[Claimed]:
        """Claim these messages if they are sendable now, quiet hours included (an event's immediate send)."""
        now = self.clock.now()
        with self.store.begin() as conn:
            return message_store.claim_pending(
                conn, now, len(ids), self.lease, self.office_filter(now), only=ids, worker=self.worker
            )

    def office_filter(self, now: datetime) -> OfficeFilter | None:
        """Which offices are inside quiet hours now, per tenant (None without quiet hours)."""
        if self.quiet is None:
            return None
        by_tenant = self.offices.timezones_by_tenant()  # each campaign's own tenant's offices decide
        asleep = {tz: self._is_quiet(now, tz) for zones in by_tenant.values() for tz in set(zones.values())}
        return OfficeFilter(
            quiet={t: frozenset(o for o, tz in zones.items() if asleep[tz]) for t, zones in by_tenant.items()},
            quiet_by_default=self._is_quiet(now, self.timezone),
            profiled={t: frozenset(zones) for t, zones in by_tenant.items()},
        )

    def _is_quiet(self, now: datetime, timezone: str) -> bool:
        assert self.quiet is not None
        return self.quiet.contains(now.astimezone(ZoneInfo(timezone)).time())

    def _claim_size(self, name: str, now: datetime, room: int) -> tuple[int, list[str] | None, Gate]:
        """How many of `name`'s messages to claim now, whether only those of campaigns with a usable
        fallback, and the gate whose budget they take."""
        gate = self.gates[name]
        config = self.providers.settings.get(name)
        chain = [n for n in (config.fallback if config else None, self.providers.fallback) if n]
        route: Gate | None = gate if gate.accepting(now) else None
        campaign_fallbacks: list[str] | None = None
        if route is None:
            route = next((self.gates[n] for n in chain if n in self.providers and self.gates[n].accepting(now)), None)
        if route is None:
            usable = [n for n in self.providers if n != name and self.gates[n].accepting(now)]
            if not usable:
                return 0, None, gate
            campaign_fallbacks, route = usable, self.gates[usable[0]]
        budget = route.budget(self.lease)
        size = room if budget is None else min(room, budget - route.holding)
        return min(size, self.batch_size), campaign_fallbacks, route
