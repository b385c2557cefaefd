"""What a failure to reach or read a core-banking database means, said in one sentence with its fix.

Every driver says "cannot connect" its own way (sqlite3, psycopg, PyMySQL); this is the one table
that turns their errors into a CoreBankError naming the database (never its password), the
setting that points at it and what to change. The engines raise these at connect time, the rule
runner and the lookups for failed statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from herald.errors import CoreBankError

COREBANK_SETTING = "HERALD_COREBANK_URL"
TENANTS_SETTING = "HERALD_TENANTS"
DEMO_FILE = "fineract-demo.sqlite"  # the core bank herald uses when HERALD_COREBANK_URL is not set (config.py)


SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword", "secret", "token"})


@dataclass(frozen=True)
class Source:
    """Which core bank a connection goes to: its tenant, the setting that names it, its URL without password."""

    tenant: str
    setting: str
    url: str

    @classmethod
    def of(cls, url: str, tenant: str = "default", setting: str = COREBANK_SETTING) -> Source:
        try:
            parsed = make_url(url)
            # Drivers also take a password in the query (?password=...), which hide_password leaves as it is.
            secrets = [k for k in parsed.query if k.lower() in SECRET_QUERY_KEYS]
            shown = parsed.difference_update_query(secrets).render_as_string(hide_password=True)
        except sa_exc.ArgumentError:
            shown = "<unparseable URL>"
        return cls(tenant, setting, shown)

    @property
    def where(self) -> str:
        """The setting to change, said so that a second tenant's is told apart from the default's."""
        if self.setting == COREBANK_SETTING:
            return COREBANK_SETTING
        return f"tenant {self.tenant!r} in {self.setting}"

    @property
    def sqlite_path(self) -> Path | None:
        try:
            parsed = make_url(self.url)
        except sa_exc.ArgumentError:
            return None
        database = parsed.database or ""
        if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database.removeprefix("file:").split("?", 1)[0]).absolute()


_SOURCES: WeakKeyDictionary[Engine, Source] = WeakKeyDictionary()


def remember(engine: Engine, source: Source) -> None:
    """Say which core bank `engine` reads, so that a failed statement on it names the right setting."""
    _SOURCES[engine] = source


def source_of(engine: Engine) -> Source:
    """The core bank an engine reads (an engine herald did not open itself counts as HERALD_COREBANK_URL's)."""
    return _SOURCES.get(engine) or Source.of(engine.url.render_as_string(hide_password=False))


def first_line(error: BaseException) -> str:
    """The driver's own words, first line only, without PyMySQL's tuple dressing or a trailing full stop."""
    original = getattr(error, "orig", None) or error
    args: tuple[object, ...] = tuple(getattr(original, "args", ()))
    text = str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(original)
    lines = text.strip().splitlines()
    line = lines[0].strip() if lines else type(original).__name__
    return line.removeprefix("connection failed: ").rstrip(".")


def _mysql_code(error: BaseException) -> int | None:
    args = getattr(getattr(error, "orig", None) or error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


_REFUSED_LOGIN = re.compile(
    r"password authentication failed|authentication failed|Access denied|no password supplied"
    r"|role \"[^\"]+\" does not exist"
)
_NO_DATABASE = re.compile(r"database \"[^\"]+\" does not exist|Unknown database")
_UNREACHABLE = re.compile(
    r"Connection refused|could not connect|Can't connect|failed to resolve host|Name or service not known"
    r"|timeout expired|timed out|No route to host|Network is unreachable|server closed the connection"
    r"|Lost connection|MySQL server has gone away|terminating connection|connection is closed"
)
_TABLE = re.compile(r"no such table: (\w+)|relation \"(\w+)\" does not exist|Table '(?:\w+\.)?(\w+)' doesn't exist")
_COLUMN = re.compile(r"no such column: ([\w.]+)|column \"?([\w.]+)\"? does not exist|Unknown column '([\w.]+)'")


def connect_failure(error: BaseException, source: Source) -> CoreBankError:
    """The sentence for a connection that could not be made (or was lost): file, server, login or database."""
    path = source.sqlite_path
    if path is not None and not path.exists():
        # The demo's own file (HERALD_COREBANK_URL unset) is the one case where a command is the fix.
        demo = " or make the demo one with `herald demo init`" if path.name == DEMO_FILE else ""
        return CoreBankError(
            f"No core-banking database at {path}: the file does not exist (herald opens it read-only and never "
            f"creates it).",
            hint=f"Set {source.where} to your Fineract database{demo}.",
        )
    said = first_line(error)
    code = _mysql_code(error)
    if code == 1045 or _REFUSED_LOGIN.search(said):
        return CoreBankError(
            f"The core-banking database {source.url} refused herald's login: {said}.",
            hint=f"Check the user name and password in {source.where}.",
        )
    if code == 1049 or _NO_DATABASE.search(said):
        return CoreBankError(
            f"The core-banking database {source.url} does not exist on its server: {said}.",
            hint=f"Check the database name at the end of {source.where}.",
        )
    if path is not None:
        return CoreBankError(
            f"Cannot open the core-banking database {path}: {said}.",
            hint=f"Check that the file is a readable SQLite database, or set {source.where} to another.",
        )
    return CoreBankError(
        f"Cannot reach the core-banking database {source.url}: {said}.",
        hint=f"Check the host and port in {source.where} and that the database server is running.",
    )


def statement_failure(error: sa_exc.SQLAlchemyError, source: Source, rule: str | None = None) -> CoreBankError:
    """The sentence for a query that failed: no Fineract tables, an unknown schema, or the server gone."""
    said = first_line(error)
    which = f" (rule {rule})" if rule else ""
    table = _TABLE.search(said)
    if table:
        name = next(g for g in table.groups() if g)
        return CoreBankError(
            f"The core-banking database {source.url} has no table {name}{which}: "
            f"is {source.where} pointing at a Fineract database?",
            hint="herald reads Fineract's own tables (m_client, m_loan, m_office ...).",
        )
    column = _COLUMN.search(said)
    if column:
        name = next(g for g in column.groups() if g)
        return CoreBankError(
            f"The core-banking database {source.url} has no column {name}{which}: "
            "its Fineract schema may be older or newer than herald supports."
        )
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError) and (
        _UNREACHABLE.search(said) or _REFUSED_LOGIN.search(said) or source.sqlite_path is not None
    ):
        return connect_failure(error, source)
    return CoreBankError(f"The core-banking database {source.url} refused the query{which}: {said}.")
