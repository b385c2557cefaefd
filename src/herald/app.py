"""The composition root: builds herald's parts from Settings, once, at the entry point; only entry points import it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from herald.clock import Clock, SystemClock
from herald.config import Settings
from herald.corebank.engines import CoreBanks
from herald.domain.calendar import BusinessCalendar
from herald.events.avro import schema_book
from herald.providers.config import ProviderSettings, SimulatorSettings, load_providers
from herald.providers.gate import Gates
from herald.providers.registry import Providers, build_provider
from herald.services.campaigns import ActivationParts
from herald.services.external_events import EventConsumer
from herald.services.inbound import ConnectionSinks
from herald.services.office_profiles import OfficeProfiles
from herald.services.presence import Presence
from herald.services.preview import PreviewSettings
from herald.services.telemetry import Telemetry
from herald.store import installation
from herald.store.database import open_store, shown_url, sqlite_file


@dataclass
class Herald:
    """herald's parts, wired once per process: the store, the core banks, the providers and their gates, the clock."""

    settings: Settings
    store: Engine
    corebanks: CoreBanks
    clock: Clock
    providers: Providers
    calendar: BusinessCalendar
    offices: OfficeProfiles
    # Once per process: every sender in it (the worker, the hook sender, "Run now") shares them.
    gates: Gates = field(init=False)
    presence: Presence = field(init=False)
    telemetry: Telemetry = field(init=False)  # this process's own series for /metrics

    def __post_init__(self) -> None:
        self.gates = Gates(self.providers.settings, self.settings.send_concurrency)
        self.telemetry = Telemetry(self.gates, lambda: self.providers.settings.keys())
        slowest = max(c.timeout for c in self.providers.settings.values())
        self.presence = Presence(
            self.store,
            self.gates,
            self.clock.now,
            kind="herald",
            lease=timedelta(seconds=self.settings.send_lease_seconds),
            heartbeat_seconds=self.settings.heartbeat_seconds,
            timeout=timedelta(seconds=self.settings.worker_timeout_seconds),
            settle_after=timedelta(seconds=slowest + 1),
        )

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None, *, create_store: bool = True) -> Herald:
        """Everything from `settings`; `create_store=False` (the commands) refuses to make a new SQLite store."""
        clock = clock or SystemClock()
        configured = load_providers(settings.providers_file, settings.providers)
        store = open_store(settings.own_database_url, create=create_store)
        corebanks = CoreBanks.open(settings.tenant_urls, settings.tenant, settings.client_language_sources)
        default = SimulatorSettings(
            name="simulator",
            seed=settings.simulator_seed,
            sent_after=settings.simulator_sent_after,
            delivered_after=settings.simulator_delivered_after,
            failure_ratio=settings.simulator_failure_ratio,
            transient_ratio=settings.simulator_transient_ratio,
        )
        provider_settings: dict[str, ProviderSettings] = {"simulator": default} | {c.name: c for c in configured}
        sinks = ConnectionSinks(store, clock, settings.default_region)
        built = {
            name: build_provider(
                config,
                now=clock.now,
                public_url=settings.public_url,
                report_sink=sinks.reports,
                inbound_sink=sinks.inbound,
            )
            for name, config in provider_settings.items()
        }
        mine = installation.load(store)
        providers = Providers(
            provider_settings, built, settings.fallback_provider, installation=mine.id, installed_since=mine.since
        )
        calendar = BusinessCalendar(settings.timezone, settings.business_date)
        offices = OfficeProfiles(store, settings.tenant, clock.now)
        return cls(settings, store, corebanks, clock, providers, calendar, offices)

    @property
    def database(self) -> str:
        """herald's database as a person reads it: the SQLite file's absolute path, or the URL without password."""
        url = self.settings.own_database_url
        return str(sqlite_file(url) or shown_url(url))

    def activation_parts(self) -> ActivationParts:
        """What a campaign's activation and reactivation take, from this process's parts."""
        return ActivationParts(
            store=self.store,
            corebanks=self.corebanks,
            calendar=self.calendar,
            offices=self.offices,
            clock=self.clock,
            preview_settings=PreviewSettings.of(self.settings, self.providers.alphabets),
        )

    def event_consumer(self) -> EventConsumer:
        """A consumer of Fineract's external events from this process's parts and settings (the worker's,
        and the dead letters' retry: what one would do with a message, the other does)."""
        return EventConsumer(
            store=self.store,
            corebanks=self.corebanks,
            calendar=self.calendar,
            offices=self.offices,
            clock=self.clock,
            date_format=self.settings.date_format,
            default_region=self.settings.default_region,
            book=schema_book(self.settings.events_schemas),
            alphabets=self.providers.alphabets,
            max_bytes=self.settings.events_max_bytes,
        )

    async def close_providers(self) -> None:
        await self.providers.close()

    def close(self) -> None:
        self.store.dispose()
        self.corebanks.close()
