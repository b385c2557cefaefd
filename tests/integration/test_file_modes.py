"""The SQLite files herald creates hold clients' phone numbers: readable and writable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.corebank.demo import create_demo_database
from herald.store import optouts


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    """The common default (022) would leave new files world-readable: herald must not rely on the umask."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_herald_database_and_its_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    home = tmp_path / "var"
    demo = home / "fineract-demo.sqlite"
    create_demo_database(f"sqlite:///{demo}", clients=20, seed=3, today=date(2026, 11, 20))
    herald = Herald.build(Settings(home=home), ManualClock(datetime(2026, 11, 20, 4, tzinfo=UTC)))
    try:
        with herald.store.begin() as conn:  # a write, so the write-ahead log and its index exist
            optouts.add(conn, ["+254712345678"], source="test", detail=None, now=herald.clock.now())
        files = {p.name: _mode(p) for p in home.iterdir() if p.name.startswith("herald.sqlite")}
        assert set(files) >= {"herald.sqlite", "herald.sqlite-wal", "herald.sqlite-shm"}, files
        assert files == dict.fromkeys(files, 0o600)
        assert _mode(demo) == 0o600
        assert _mode(home) == 0o700
    finally:
        herald.close()


def test_a_regenerated_demo_database_is_private_again(tmp_path: Path) -> None:
    demo = tmp_path / "demo.sqlite"
    demo.write_bytes(b"")
    demo.chmod(0o644)
    create_demo_database(f"sqlite:///{demo}", clients=10, seed=1, today=date(2026, 11, 20))
    assert _mode(demo) == 0o600
