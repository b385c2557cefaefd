"""The demo's own files: it replaces only SQLite files it made itself, asks before it does, and keeps its login.

`herald demo run` rebuilds herald's database and the demo core bank at every run. Those files
may hold someone's real work (a herald used on SQLite keeps its users and campaigns in the same
`HERALD_HOME`), so the demo writes `demo.json` beside them, naming the files it made and the demo
login's password, and replaces a file only if that list names it. A database named by
`HERALD_DATABASE_URL` is never the demo's.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from herald.config import Settings
from herald.errors import ConfigurationError, HeraldError

MARKER = "demo.json"


@dataclass(frozen=True)
class DemoFiles:
    """The files a demo run may rebuild, and the demo login's password (kept from the last run)."""

    herald_db: Path
    corebank_db: Path
    password: str | None


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def claim(settings: Settings, *, replace: bool, confirm: Callable[[str], bool] | None) -> DemoFiles:
    """The demo's files, emptied for a new run; refused if one is not the demo's, or not confirmed.

    `replace`: the user said so up front (--yes); otherwise `confirm` asks, and without a terminal to
    ask on (None) an earlier run's files are left as they are."""
    if settings.database_url:
        raise ConfigurationError(
            "The demo never uses the database HERALD_DATABASE_URL names: it keeps its own files in HERALD_HOME.",
            hint="Unset HERALD_DATABASE_URL for the demo (HERALD_HOME picks its folder).",
        )
    herald_db = sqlite_path(settings.own_database_url)
    corebank_db = sqlite_path(settings.corebank_database_url)
    if herald_db is None or corebank_db is None:
        raise ConfigurationError(
            "The demo runs on its embedded SQLite files only.",
            hint="Unset HERALD_COREBANK_URL (or point it at a new SQLite file).",
        )
    marker = settings.home / MARKER
    made = _read(marker)
    listed = made.get("files")
    ours = {str(Path(p).resolve()) for p in listed if isinstance(p, str)} if isinstance(listed, list) else set()
    existing = [p for p in (herald_db, corebank_db) if p.exists()]
    for path in existing:
        if str(path.resolve()) not in ours and not _made_by_an_older_demo(path):
            raise HeraldError(
                f"{path} exists and the demo did not make it: the demo never replaces a database it did not create.",
                hint="Move that file away, or give the demo a folder of its own with HERALD_HOME=var-demo.",
            )
    if existing and not replace:
        question = f"Replace the demo's databases from the last run in {settings.home}/ (its campaigns and messages)?"
        if confirm is None:
            raise HeraldError(
                f"The demo's databases from the last run are in {settings.home}/; nothing was replaced.",
                hint="Run `herald demo run --yes` to replace them.",
            )
        if not confirm(question):
            raise HeraldError("Nothing was replaced.", hint="The last run's databases are as they were.")
    for path in existing:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    password = made.get("password")
    files = DemoFiles(herald_db, corebank_db, password if isinstance(password, str) and password else None)
    _write(marker, files)
    return files


def keep_password(settings: Settings, files: DemoFiles, password: str) -> None:
    """Remember the demo login's password, so the next run (and the README's steps) keep working with it."""
    _write(settings.home / MARKER, DemoFiles(files.herald_db, files.corebank_db, password))


def _read(marker: Path) -> dict[str, object]:
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(marker: Path, files: DemoFiles) -> None:
    """The marker, readable by its owner only (it holds the demo login's password)."""
    marker.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = {"files": [str(files.herald_db.resolve()), str(files.corebank_db.resolve())], "password": files.password}
    descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(body, out)
    os.chmod(marker, 0o600)


def _made_by_an_older_demo(path: Path) -> bool:
    """A file a demo made before demo.json existed: the demo core bank (its herald_demo table), or a herald
    database whose only user is the demo's."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "herald_demo" in tables:
            return True
        if "users" in tables and "campaigns" in tables:
            users = {name for (name,) in db.execute("SELECT username FROM users")}
            return users <= {"demo"}
        return not tables  # an empty file
    except sqlite3.Error:
        return False
    finally:
        db.close()
