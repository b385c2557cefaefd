"""Settings: every knob herald has, read from HERALD_* environment variables (or .env) at the entry point."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from herald.domain.languages import ClientLanguageSource
from herald.domain.senders import parse_sender
from herald.errors import ConfigurationError, ValidationError

if TYPE_CHECKING:
    from herald.events.address import BrokerAddress


class Settings(BaseSettings):
    """herald's configuration. Built once by the entry point and passed down; nothing reads it globally."""

    # hide_input_in_errors: a refused URL may hold a password (HERALD_EVENTS_URL, database URLs).
    model_config = SettingsConfigDict(env_prefix="HERALD_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    home: Path = Field(Path("var"), description="Folder for the embedded SQLite databases.")
    database_url: str | None = Field(None, description="herald's own database (SQLite file or PostgreSQL).")
    corebank_url: str | None = Field(None, description="The Fineract (core-banking) database, read-only.")
    tenant: str = Field("default", description="Fineract tenant identifier of HERALD_COREBANK_URL.")
    tenants: str | None = Field(None, description='More tenants as JSON: {"kampala": "<database URL>", ...}.')
    default_region: str = Field("KE", description="Phone region for numbers written without a country code.")
    timezone: str = Field("Africa/Nairobi", description="Time zone for 'today' and schedules by default.")
    business_date: date | None = Field(None, description="Fixed business date ('today' for rules).")
    date_format: str = Field("%d %b %Y", description="How dates appear in messages.")
    price_per_segment: Annotated[float, Field(ge=0)] = 0.8
    price_currency: str = "KES"
    max_attempts: Annotated[int, Field(ge=1)] = 5
    retry_base_seconds: Annotated[float, Field(gt=0)] = 30.0
    send_batch_size: Annotated[int, Field(ge=1)] = 500
    send_concurrency: Annotated[int, Field(ge=1)] = 16
    materialize_workers: Annotated[int, Field(ge=1)] = Field(
        # One per core this process may run on: rendering and number checks are CPU-bound Python, and a
        # third process on two cores made 200,000 clients slower, not faster (bench/materialize.py).
        default_factory=lambda: (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        ),
        description="Processes that materialize a large audience.",
    )
    send_lease_seconds: Annotated[float, Field(gt=0)] = Field(
        300.0, description="How long a claimed message stays off other workers' hands (renewed while held)."
    )
    heartbeat_seconds: Annotated[float, Field(gt=0)] = Field(3.0, description="How often a sending process says so.")
    worker_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        15.0, description="A sending process silent this long is dead: its claims are settled by the others."
    )
    materialize_interval: Annotated[float, Field(gt=0)] = 30.0
    send_interval: Annotated[float, Field(gt=0)] = 2.0
    reports_interval: Annotated[float, Field(gt=0)] = 5.0
    catchup_interval: Annotated[float, Field(gt=0)] = 60.0  # seconds between catch-ups of missed Fineract events
    catchup_batch: Annotated[int, Field(ge=1, le=10_000)] = 500  # events per Triggered campaign per catch-up run
    # seconds a transaction must be old before catch-up reads it (time for its hook or event, and a lower id, to come)
    catchup_settle: Annotated[float, Field(ge=0, le=86_400)] = 120.0
    reports_poll_after: Annotated[float, Field(ge=0)] = Field(
        600.0, description="Seconds without news before a message of a pushing provider is polled."
    )
    providers_file: Path | None = Field(None, description="TOML file with [[providers]] tables.")
    providers: str | None = Field(None, description="JSON list of provider tables (instead of or besides the file).")
    fallback_provider: str | None = Field(None, description="Provider that takes over for any failing one.")
    public_url: str | None = Field(None, description="herald's public base URL, for provider callbacks.")
    fineract_hook_secret: SecretStr | None = Field(
        None, description="Secret path segment of the hook URL Fineract posts to (Fineract signs nothing)."
    )
    fineract_api_url: str | None = Field(
        None, description="Fineract's API base (https://host:8443/fineract-provider/api/v1), to check its hooks."
    )
    fineract_username: str = Field("mifos", description="Fineract user who may read hooks (READ_HOOK).")
    fineract_password: SecretStr | None = Field(None, description="That Fineract user's password.")
    fineract_verify_tls: bool = Field(True, description="false: accept Fineract's self-signed certificate.")
    events_url: SecretStr | None = Field(
        None,
        description="Broker Fineract publishes its external events to, e.g. "
        "stomp://user:password@broker:61613/queue/fineract-events (stomp+ssl:// for TLS); unset: no events.",
    )
    events_schemas: Path | None = Field(
        None, description="Folder or .jar of Fineract's .avsc schemas, for a Fineract whose herald does not ship."
    )
    events_consumer: Literal["process", "thread"] = Field(
        "process",
        description="Where a worker reads the events: a process of its own (sending and reading never wait for "
        "each other) or a thread of the worker's (one process, slower under a backlog).",
    )
    events_max_bytes: Annotated[int, Field(ge=1024, le=256 * 1024 * 1024)] = Field(
        1024 * 1024,
        description="Longest external-event message read; a longer one is kept aside unread (Fineract's are a few KB).",
    )
    gateway_app_keys: SecretStr | None = Field(
        None, description='Drop-in gateway: app key per tenant as JSON, {"default": "<key>"}.'
    )
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token a scraper of /metrics must send; unset: /metrics answers 127.0.0.1 only."
    )
    gateway_providers: str | None = Field(
        None, description='Drop-in gateway: herald provider per Fineract providerId as JSON, {"1": "twilio-ke"}.'
    )
    gateway_provider: str = Field("simulator", description="Drop-in gateway: provider for unmapped providerIds.")
    gateway_sender_ids: str | None = Field(
        None, description='Drop-in gateway: sender id per tenant as JSON, {"default": "MFIBank"}.'
    )
    quiet_hours: str | None = Field(None, description="Local hours with no sending, e.g. 21:00-07:30.")
    client_language: str | None = Field(
        None,
        description="Where Fineract keeps each client's language, as table.column: a code value such as"
        " m_client.client_classification_cv_id, or a data table's column such as client_language.Language_cd_lang;"
        " unset: the office's default.",
    )
    client_language_values: str | None = Field(
        None, description='JSON map of stored values to language codes, e.g. {"Kiswahili": "sw", "English": "en"}.'
    )
    client_languages: str | None = Field(
        None,
        description='Per tenant, instead of the two above: {"kampala": {"column": "client_language.lang",'
        ' "values": {"Luganda": "lg"}}}; a tenant mapped to null reads no client language.',
    )
    transient_resend_times: Annotated[int, Field(ge=0, le=10)] = Field(
        0, description="Re-sends at most of a message whose delivery failed for a reason that passes; 0: never."
    )
    transient_resend_after_minutes: Annotated[float, Field(gt=0, le=1440)] = Field(
        60.0, description="Minutes after such a failure before its re-send (within the same business day)."
    )
    simulator_seed: int = 7
    simulator_sent_after: Annotated[float, Field(ge=0)] = 1.0
    simulator_delivered_after: Annotated[float, Field(ge=0)] = 3.0
    simulator_failure_ratio: Annotated[float, Field(ge=0, le=1)] = 0.06
    simulator_transient_ratio: Annotated[float, Field(ge=0, le=1)] = 0.0

    @field_validator("default_region")
    @classmethod
    def _region_is_known(cls, value: str) -> str:
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a phone region; use an ISO country code such as KE or UG")
        return region

    @field_validator("timezone")
    @classmethod
    def _zone_is_known(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
            raise ValueError(f"{value!r} is not an IANA time zone such as Africa/Nairobi") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_parse(cls, value: str | None) -> str | None:
        if value:
            from herald.domain.quiet import QuietHours

            QuietHours.parse(value)
        return value or None

    @field_validator("events_url")
    @classmethod
    def _events_url_parses(cls, value: SecretStr | None) -> SecretStr | None:
        """A URL that is no broker address is refused with parse_broker_url's line (which leaves out the password)."""
        if value is None or not value.get_secret_value().strip():
            return None
        from herald.events.address import parse_broker_url

        try:
            parse_broker_url(value.get_secret_value())
        except ConfigurationError as exc:
            # pydantic's line already names the setting: "HERALD_EVENTS_URL: Value error, has no host; ...".
            raise ValueError(exc.message.removeprefix("HERALD_EVENTS_URL ").removesuffix(".")) from None
        return value

    @property
    def events_broker(self) -> BrokerAddress | None:
        """HERALD_EVENTS_URL parsed (it was checked when the settings were read); None: herald consumes no events."""
        if self.events_url is None:
            return None
        from herald.events.address import parse_broker_url

        return parse_broker_url(self.events_url.get_secret_value())

    @property
    def own_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'herald.sqlite'}"

    @property
    def corebank_database_url(self) -> str:
        return self.corebank_url or f"sqlite:///{self.home / 'fineract-demo.sqlite'}"

    @property
    def tenant_urls(self) -> dict[str, str]:
        """Core-banking database URL per Fineract tenant identifier; HERALD_TENANT's comes first."""
        extra: dict[str, str] = json.loads(self.tenants) if self.tenants else {}
        return {self.tenant: self.corebank_database_url} | extra

    @property
    def client_language_sources(self) -> dict[str, ClientLanguageSource]:
        """Per tenant, where its clients' languages are read (tenants absent read none); checked when read."""
        return _client_language_sources(self.client_language, self.client_language_values, self.client_languages,
                                        list(self.tenant_urls))

    @field_validator("client_language", "client_language_values", "client_languages")
    @classmethod
    def _language_settings_parse(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @property
    def gateway_keys(self) -> dict[str, str]:
        return json.loads(self.gateway_app_keys.get_secret_value()) if self.gateway_app_keys else {}

    @property
    def gateway_provider_map(self) -> dict[str, str]:
        return json.loads(self.gateway_providers) if self.gateway_providers else {}

    @property
    def gateway_sender_id_map(self) -> dict[str, str]:
        return json.loads(self.gateway_sender_ids) if self.gateway_sender_ids else {}

    @field_validator("gateway_providers")
    @classmethod
    def _json_map(cls, value: str | None) -> str | None:
        if value:
            parsed = json.loads(value)
            if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
                raise ValueError('must be a JSON object such as {"1": "twilio-ke"}')
        return value or None

    @field_validator("gateway_sender_ids")
    @classmethod
    def _sender_ids(cls, value: str | None) -> str | None:
        """Each tenant's sender id as domain/senders.py accepts it (the provider is known only later)."""
        if not value:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise ValueError('must be a JSON object such as {"default": "MFIBank"}')
        for sender in parsed.values():
            try:
                parse_sender(sender)
            except ValidationError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("gateway_app_keys")
    @classmethod
    def _keys_map(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                parsed = json.loads(value.get_secret_value())
            except json.JSONDecodeError:
                raise ValueError('must be a JSON object such as {"default": "<app key>"}') from None
            if not isinstance(parsed, dict) or not all(isinstance(v, str) and v for v in parsed.values()):
                raise ValueError('must be a JSON object such as {"default": "<app key>"}')
        return value

    @field_validator("tenants")
    @classmethod
    def _tenants_parse(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in parsed.items()
        ):
            raise ValueError('must map tenant identifiers to database URLs: {"kampala": "postgresql+psycopg://..."}')
        return value


def settings_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with every HERALD_* variable replaced by `settings` as they are: a child process that reads
    its settings from this environment (`load_settings`) gets the same ones, however the parent's were made."""
    env = {k: v for k, v in environ.items() if not k.upper().startswith("HERALD_")}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, date):
            value = value.isoformat()
        env[f"HERALD_{name.upper()}"] = str(value)
    return env


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning pydantic's report into one readable error."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"HERALD_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}.") from None


def _client_language_sources(
    column: str | None, values: str | None, per_tenant: str | None, tenants: list[str]
) -> dict[str, ClientLanguageSource]:
    """HERALD_CLIENT_LANGUAGE(_VALUES) for every tenant, then HERALD_CLIENT_LANGUAGES tenant by tenant."""

    def mapping(raw: object, setting: str) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise ConfigurationError(
                f'{setting} must be a JSON object of value -> language code, e.g. {{"Kiswahili": "sw"}}.'
            )
        return {str(k): v for k, v in raw.items()}

    def loaded(text: str, setting: str) -> object:
        try:
            return json.loads(text)
        except ValueError:
            raise ConfigurationError(f"{setting} is not valid JSON.") from None

    def source(spec: str, words: dict[str, str], setting: str) -> ClientLanguageSource:
        try:
            return ClientLanguageSource.parse(spec, words)
        except ValidationError as e:
            raise ConfigurationError(f"{setting}: {e.message}") from None

    found: dict[str, ClientLanguageSource] = {}
    if column:
        words = mapping(loaded(values, "HERALD_CLIENT_LANGUAGE_VALUES") if values else None,
                        "HERALD_CLIENT_LANGUAGE_VALUES")
        shared = source(column, words, "HERALD_CLIENT_LANGUAGE")
        found = dict.fromkeys(tenants, shared)
    if per_tenant:
        setting = "HERALD_CLIENT_LANGUAGES"
        parsed = loaded(per_tenant, setting)
        if not isinstance(parsed, dict):
            raise ConfigurationError(f'{setting} must be a JSON object: {{"<tenant>": {{"column": "table.column"}}}}.')
        for tenant, entry in parsed.items():
            if entry is None:
                found.pop(tenant, None)
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("column"), str):
                raise ConfigurationError(f'{setting}: tenant {tenant!r} needs {{"column": "table.column"}}.')
            found[str(tenant)] = source(entry["column"], mapping(entry.get("values"), setting), setting)
    return found
