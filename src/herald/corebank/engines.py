"""The read-only engines on each Fineract tenant's database, and the one place a tenant name is resolved."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from herald.errors import ConfigurationError


def read_only_engine(url: str) -> Engine:
    """A read-only engine on a core-banking database: herald never writes to Fineract."""
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


class CoreBanks:
    """Every configured Fineract tenant's read-only engine; one tenant never sees another's data."""

    def __init__(self, engines: Mapping[str, Engine], default_tenant: str) -> None:
        if default_tenant not in engines:
            raise ConfigurationError(f"The default tenant {default_tenant!r} has no core-banking database.")
        self._engines = dict(engines)
        self.default_tenant = default_tenant

    @classmethod
    def open(cls, urls: Mapping[str, str], default_tenant: str) -> CoreBanks:
        return cls({tenant: read_only_engine(url) for tenant, url in urls.items()}, default_tenant)

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
