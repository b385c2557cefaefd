"""The read-only engines on each Fineract tenant's database, and the one place a tenant name is resolved."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from herald.corebank.failures import COREBANK_SETTING, TENANTS_SETTING, Source, connect_failure, remember
from herald.domain.languages import ClientLanguageSource
from herald.errors import ConfigurationError, ValidationError

CONNECT_TIMEOUT = 10
"""Seconds to wait for a core-banking server to answer a connection (the URL's own connect_timeout wins)."""


def read_only_engine(url: str, source: Source | None = None) -> Engine:
    """A read-only engine on a core-banking database: herald never writes to Fineract, nor creates it.

    A failure to connect (no such file, server down, login refused) is raised as one CoreBankError
    sentence naming `source`'s setting, whichever code opened the connection.
    """
    source = source or Source.of(url)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(_read_only_sqlite(url), connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_read_only)
        elif url.startswith("postgresql"):
            # ISO DateStyle: rule 176 reads month and day from the text of a date.
            options = "-c default_transaction_read_only=on -c DateStyle=ISO,YMD"
            # A timeout: a host that drops packets must not hold a job (or a page) for minutes.
            args: dict[str, Any] = {"options": options} | _timeout(url)
            engine = create_engine(url, pool_pre_ping=True, connect_args=args)
        else:
            mysql = make_url(url).get_backend_name() in ("mysql", "mariadb")
            engine = create_engine(url, pool_pre_ping=True, connect_args=_timeout(url) if mysql else {})
            if mysql:
                event.listen(engine, "connect", _mysql_read_only)
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(f"Cannot use {source.where}: {exc}.") from None
    remember(engine, source)
    event.listen(engine, "handle_error", partial(_unreachable, source))
    return engine


def _read_only_sqlite(url: str) -> URL:
    """The URL as an SQLite URI opened with mode=ro: a missing file is an error, never a new empty database."""
    parsed = make_url(url)
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return parsed
    path = quote(str(Path(database).absolute()))
    return parsed.set(database=f"file:{path}", query={**parsed.query, "mode": "ro", "uri": "true"})


def _timeout(url: str) -> dict[str, Any]:
    return {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT}


def _unreachable(source: Source, context: ExceptionContext) -> None:
    """Connecting failed, or the connection was lost: one sentence instead of the driver's traceback.

    Failed statements on a live connection are left to the rule runner and the lookups, which
    know the rule; a pre-ping's failure is left to the pool, which reconnects (and lands here if
    it cannot).
    """
    if context.is_pre_ping:
        return
    if context.connection is None or context.is_disconnect:
        raise connect_failure(context.original_exception, source) from None


def _mysql_read_only(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("SET SESSION TRANSACTION READ ONLY")
    cursor.close()


def _sqlite_read_only(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.execute("PRAGMA query_only=ON")


class CoreBanks:
    """Every configured Fineract tenant's read-only engine; one tenant never sees another's data."""

    def __init__(
        self,
        engines: Mapping[str, Engine],
        default_tenant: str,
        languages: Mapping[str, ClientLanguageSource] | None = None,
    ) -> None:
        if default_tenant not in engines:
            raise ConfigurationError(f"The default tenant {default_tenant!r} has no core-banking database.")
        self._engines = dict(engines)
        self.default_tenant = default_tenant
        self._languages = dict(languages or {})

    def language_source(self, tenant: str | None) -> ClientLanguageSource | None:
        """Where this tenant's Fineract keeps each client's language (HERALD_CLIENT_LANGUAGE); None: nowhere."""
        return self._languages.get(self.tenant(tenant))

    @property
    def language_sources(self) -> dict[str, ClientLanguageSource]:
        return dict(self._languages)

    @classmethod
    def open(
        cls,
        urls: Mapping[str, str],
        default_tenant: str,
        languages: Mapping[str, ClientLanguageSource] | None = None,
    ) -> CoreBanks:
        engines = {
            tenant: read_only_engine(
                url, Source.of(url, tenant, COREBANK_SETTING if tenant == default_tenant else TENANTS_SETTING)
            )
            for tenant, url in urls.items()
        }
        return cls(engines, default_tenant, languages)

    @property
    def tenants(self) -> list[str]:
        return sorted(self._engines)

    @property
    def default(self) -> Engine:
        return self._engines[self.default_tenant]

    def tenant(self, tenant: str | None) -> str:
        """The tenant meant by `tenant` (None is the default one); an unknown tenant is refused."""
        key = tenant or self.default_tenant
        if key not in self._engines:
            raise ConfigurationError(
                f"Unknown Fineract tenant {key!r}; configured tenants: {', '.join(self.tenants)}.",
                hint="Add it to HERALD_TENANTS.",
            )
        return key

    def requested(self, tenant: str | None) -> str:
        """The tenant a request names (None is the default one); an unknown one is the caller's mistake
        (ValidationError on `tenantId`), not the installation's, as `tenant()` takes it to be."""
        key = tenant or self.default_tenant
        if key not in self._engines:
            raise ValidationError(
                f"Unknown tenant {key!r}; configured tenants: {', '.join(self.tenants)}.", field="tenantId"
            )
        return key

    def engine(self, tenant: str | None) -> Engine:
        """The read-only engine of a tenant (None: the default tenant)."""
        return self._engines[self.tenant(tenant)]

    def __contains__(self, tenant: object) -> bool:
        return tenant in self._engines

    def __iter__(self) -> Iterator[str]:
        return iter(self.tenants)

    def items(self) -> list[tuple[str, Engine]]:
        return sorted(self._engines.items())

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
