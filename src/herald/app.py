"""The composition root: builds herald's parts from Settings, once, at the entry point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from herald.clock import Clock, SystemClock
from herald.config import Settings
from herald.errors import ConfigurationError
from herald.jobs.presence import Presence
from herald.providers.base import DeliveryReport, InboundMessage, Provider
from herald.providers.config import ProviderSettings, SimulatorSettings, load_providers
from herald.providers.gate import Gates
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
            # ISO DateStyle: rule 176 reads month and day from the text of a date.
            options = "-c default_transaction_read_only=on -c DateStyle=ISO,YMD"
            return create_engine(url, pool_pre_ping=True, connect_args={"options": options})
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name in ("mysql", "mariadb"):
            event.listen(engine, "connect", _mysql_read_only)
        return engine
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(f"Cannot use HERALD_COREBANK_URL: {exc}.") from None


def _mysql_read_only(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("SET SESSION TRANSACTION READ ONLY")
    cursor.close()


def _sqlite_read_only(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.execute("PRAGMA query_only=ON")


@dataclass
class Herald:
    """Everything a command, job or request needs, wired once."""

    settings: Settings
    store: Engine
    corebank: Engine  # the default tenant's
    clock: Clock
    providers: dict[str, Provider] = field(default_factory=dict)
    provider_settings: dict[str, ProviderSettings] = field(default_factory=dict)
    corebanks: dict[str, Engine] = field(default_factory=dict)
    _profiles: dict[str, dict[int, tuple[str, str]]] = field(default_factory=dict)
    # Once per process: every sender in it (the worker, the hook sender, "Run now") shares them.
    gates: Gates = field(init=False)
    presence: Presence = field(init=False)

    def __post_init__(self) -> None:
        self.gates = Gates(self.provider_settings, self.settings.send_concurrency)
        self.presence = Presence(self.store, self.settings, self.gates, self.clock.now, kind="herald")

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Herald:
        clock = clock or SystemClock()
        configured = load_providers(settings.providers_file, settings.providers)
        store = open_store(settings.own_database_url)
        corebanks = {tenant: corebank_engine(url) for tenant, url in settings.tenant_urls.items()}
        herald = cls(settings, store, corebanks[settings.tenant], clock, corebanks=corebanks)
        default = SimulatorSettings(
            name="simulator",
            seed=settings.simulator_seed,
            sent_after=settings.simulator_sent_after,
            delivered_after=settings.simulator_delivered_after,
            failure_ratio=settings.simulator_failure_ratio,
            transient_ratio=settings.simulator_transient_ratio,
        )
        herald.provider_settings = {"simulator": default} | {c.name: c for c in configured}
        herald.gates = herald.presence.gates = Gates(herald.provider_settings, settings.send_concurrency)
        slowest = max(c.timeout for c in herald.provider_settings.values())
        herald.presence.settle_after = timedelta(seconds=slowest + 1)
        for name, config in herald.provider_settings.items():
            herald.providers[name] = build_provider(
                config,
                now=clock.now,
                public_url=settings.public_url,
                report_sink=herald.receive_reports,
                inbound_sink=herald.receive_inbound,
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

    async def receive_inbound(self, provider: str, messages: Sequence[InboundMessage]) -> None:
        """Store replies that arrive on a provider's own connection: a STOP puts the number on the opt-out list."""
        from herald.store import optouts

        stops = optouts.stop_requests(messages, self.settings.default_region)
        if stops:
            with self.store.begin() as conn:
                optouts.add(conn, stops, source=provider, detail="STOP reply", now=self.clock.now())

    async def close_providers(self) -> None:
        for provider in self.providers.values():
            await provider.close()

    def corebank_for(self, tenant: str | None) -> Engine:
        """The read-only core-banking engine of a Fineract tenant (one tenant never sees another's data)."""
        key = tenant or self.settings.tenant
        try:
            return self.corebanks[key]
        except KeyError:
            raise ConfigurationError(
                f"Unknown Fineract tenant {key!r}; configured tenants: {', '.join(sorted(self.corebanks))}.",
                hint="Add it to HERALD_TENANTS.",
            ) from None

    def provider(self, name: str) -> Provider:
        try:
            return self.providers[name]
        except KeyError:
            raise ConfigurationError(
                f"Unknown provider {name!r}; configured providers: {', '.join(sorted(self.providers))}."
            ) from None

    def _office_profiles(self, tenant: str | None) -> dict[int, tuple[str, str]]:
        key = tenant or self.settings.tenant
        if key not in self._profiles:
            with self.store.connect() as conn:
                rows = conn.execute(select(office_profiles).where(office_profiles.c.tenant == key))
                self._profiles[key] = {r.office_id: (r.region, r.timezone) for r in rows}
        return self._profiles[key]

    def office_regions(self, tenant: str | None = None) -> dict[int, str]:
        """Phone region per office (herald's office profiles); other offices use the default region."""
        return {office: region for office, (region, _) in self._office_profiles(tenant).items()}

    def office_timezones(self, tenant: str | None = None) -> dict[int, str]:
        """Time zone per office with a profile (quiet hours are local)."""
        return {office: zone for office, (_, zone) in self._office_profiles(tenant).items()}

    def forget_office_profiles(self) -> None:
        self._profiles.clear()

    def today(self, timezone: str | None, at: datetime | None = None) -> date:
        """The business date: the configured one, else the local date in `timezone` at `at`."""
        if self.settings.business_date is not None:
            return self.settings.business_date
        instant = at or self.clock.now()
        return instant.astimezone(ZoneInfo(timezone or self.settings.timezone)).date()

    def close(self) -> None:
        self.store.dispose()
        for engine in self.corebanks.values():
            engine.dispose()
