"""The composition root: builds herald's parts from Settings, once, at the entry point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from herald.clock import Clock, SystemClock
from herald.config import Settings
from herald.errors import ConfigurationError
from herald.providers.base import DeliveryReport, Provider
from herald.providers.config import ProviderSettings, SimulatorSettings, load_providers
from herald.providers.registry import build_provider
from herald.store.database import open_store
from herald.store.tables import office_profiles


def corebank_engine(url: str) -> Engine:
    """A read-only engine on the core-banking database: herald never writes to Fineract."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_read_only)
            return engine
        if url.startswith("postgresql"):
            return create_engine(
                url, pool_pre_ping=True, connect_args={"options": "-c default_transaction_read_only=on"}
            )
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(f"Cannot use HERALD_COREBANK_URL: {exc}.") from None


def _sqlite_read_only(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.execute("PRAGMA query_only=ON")


@dataclass
class Herald:
    """Everything a command, job or request needs, wired once."""

    settings: Settings
    store: Engine
    corebank: Engine
    clock: Clock
    providers: dict[str, Provider] = field(default_factory=dict)
    provider_settings: dict[str, ProviderSettings] = field(default_factory=dict)
    _regions: dict[int, str] | None = None
    _timezones: dict[int, str] | None = None

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Herald:
        clock = clock or SystemClock()
        configured = load_providers(settings.providers_file, settings.providers)
        store = open_store(settings.own_database_url)
        corebank = corebank_engine(settings.corebank_database_url)
        herald = cls(settings, store, corebank, clock)
        default = SimulatorSettings(
            name="simulator",
            seed=settings.simulator_seed,
            sent_after=settings.simulator_sent_after,
            delivered_after=settings.simulator_delivered_after,
            failure_ratio=settings.simulator_failure_ratio,
            transient_ratio=settings.simulator_transient_ratio,
        )
        herald.provider_settings = {"simulator": default} | {c.name: c for c in configured}
        for name, config in herald.provider_settings.items():
            herald.providers[name] = build_provider(
                config, now=clock.now, public_url=settings.public_url, report_sink=herald.receive_reports
            )
        if settings.fallback_provider and settings.fallback_provider not in herald.providers:
            raise ConfigurationError(
                f"HERALD_FALLBACK_PROVIDER {settings.fallback_provider!r} is not a configured provider."
            )
        return herald

    async def receive_reports(self, provider: str, reports: Sequence[DeliveryReport]) -> None:
        """Store reports pushed on a provider's own connection (SMPP receipts): applied or parked."""
        from herald.store import reports as report_store

        with self.store.begin() as conn:
            report_store.record(conn, provider, reports, self.clock.now())

    async def close_providers(self) -> None:
        for provider in self.providers.values():
            await provider.close()

    def provider(self, name: str) -> Provider:
        try:
            return self.providers[name]
        except KeyError:
            raise ConfigurationError(
                f"Unknown provider {name!r}; configured providers: {', '.join(sorted(self.providers))}."
            ) from None

    def office_regions(self) -> dict[int, str]:
        """Phone region per office (from herald's office profiles); others use the default region."""
        if self._regions is None:
            with self.store.connect() as conn:
                self._regions = {r.office_id: r.region for r in conn.execute(select(office_profiles))}
        return self._regions

    def office_timezones(self) -> dict[int, str]:
        """Time zone per office with a profile (quiet hours are local)."""
        if self._timezones is None:
            with self.store.connect() as conn:
                self._timezones = {r.office_id: r.timezone for r in conn.execute(select(office_profiles))}
        return self._timezones

    def today(self, timezone: str | None, at: datetime | None = None) -> date:
        """The business date: the configured one, else the local date in `timezone` at `at`."""
        if self.settings.business_date is not None:
            return self.settings.business_date
        instant = at or self.clock.now()
        return instant.astimezone(ZoneInfo(timezone or self.settings.timezone)).date()

    def close(self) -> None:
        self.store.dispose()
        self.corebank.dispose()
