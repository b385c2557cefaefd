"""Whether a core bank answers now, for /readyz: its file is there, it answers, and it has Fineract's tables.

A trivial read of one small Fineract table (m_office), never a write. An SQLite file is looked for
before anything connects: a connection would create a missing file (empty), and one the pool
still holds keeps reading a file that was deleted, and both would look healthy.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError


def problem(engine: Engine) -> str | None:
    """None when the core bank answers; else what is wrong, in a few words without its URL."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database.startswith("file:"):  # herald opens core banks as read-only URIs (engines.readonly_sqlite)
            database = unquote(database.removeprefix("file:").split("?", 1)[0])
        if database not in ("", ":memory:") and not Path(database).is_file():
            return "its SQLite file is missing"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM m_office WHERE 1 = 0"))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        if "m_office" in str(cause):
            return "it answers but has no Fineract tables (m_office)"
        return f"it does not answer ({type(cause).__name__})"
    return None
