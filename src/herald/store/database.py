"""Opening herald's own database: engines with the right pragmas, and Alembic migrations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from herald.errors import ConfigurationError
from herald.private_files import create_private

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for herald's database; SQLite files get WAL, a busy timeout and their folder created."""
    try:
        if url.startswith("sqlite"):
            path = make_url(url).database or ""
            if path and path != ":memory:" and not path.startswith("file:"):
                create_private(Path(path))
            # check_same_thread off: the pool hands a connection to one thread at a time, and the worker
            # materializes in a thread while it sends in the event loop.
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            engine.__class__ = _SQLiteStore
            return engine
        return create_engine(url, pool_pre_ping=True, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(
            f"Cannot use database URL {shown_url(url)!r}: {exc}.",
            hint="Use sqlite:///path/to/file.sqlite or postgresql+psycopg://user:password@host/dbname.",
        ) from None


_WRITERS: dict[str, threading.RLock] = {}
"""One writer lock per SQLite file in this process (see _SQLiteStore)."""


class _SQLiteStore(Engine):
    """herald's SQLite engine: `begin()` takes the write lock up front (BEGIN IMMEDIATE).

    pysqlite's own transactions begin lazily at the first write, so a transaction that reads and
    then writes (the SELECT of a claim, a status check before an update) runs its read outside the
    lock, and two processes can both act on what they read. Every `engine.begin()` transaction here
    is a write transaction and starts with BEGIN IMMEDIATE: the second writer waits for the first
    and then reads what the first wrote. Plain `engine.connect()` reads begin deferred, so readers
    never wait for each other.

    Within one process the writers also take turns on a lock of their own: SQLite's busy handler
    waits by sleeping (up to 100 ms a time), so threads of one process that collide on the file
    lock lose far more time than they would queueing here. Between processes the busy handler
    still decides.
    """

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with _WRITERS.setdefault(str(self.url), threading.RLock()), self.connect() as conn:
            conn.execution_options(herald_immediate=True)
            with conn.begin():
                yield conn


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("herald_immediate") else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun by _sqlite_begin, never by pysqlite itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    # Drivers also take a password in the query (?password=...), which hide_password leaves as it is.
    secrets = [k for k in parsed.query if k.lower() in SECRET_QUERY_KEYS]
    return parsed.difference_update_query(secrets).render_as_string(hide_password=True)


SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword", "secret", "token"})


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine) -> str:
    """Apply every migration; return the revision the database is at."""
    cfg = alembic_config(engine)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise ConfigurationError(
            f"Cannot migrate herald's database at {shown_url(str(engine.url))}: {exc.orig}."
        ) from None
    return head_revision()


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (absolute), or None for a server database or an in-memory one."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).absolute()


def open_store(url: str, *, create: bool = True) -> Engine:
    """The engine for herald's database, migrated if it is SQLite, checked if it is not.

    A SQLite file is migrated on the spot (zero set-up); a server database is migrated by `herald
    db upgrade`, an explicit step an operator schedules, so here it is only checked. Without
    `create` a missing SQLite file is refused rather than made: a command run from the wrong
    folder must not start a second, empty herald next to the real one.
    """
    path = sqlite_file(url)
    if not create and path is not None and not path.exists():
        raise ConfigurationError(
            f"No herald database at {path}; run `herald db upgrade` to create it, or set HERALD_DATABASE_URL."
        )
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        if current_revision(engine) != head_revision():
            upgrade(engine)
        return engine
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise ConfigurationError(f"Cannot connect to herald's database {shown_url(url)}: {exc.orig}.") from None
    if current != head_revision():
        raise ConfigurationError(
            f"herald's database {shown_url(url)} is at revision {current or 'none'}, not {head_revision()}.",
            hint="Run `herald db upgrade` first.",
        )
    return engine
