"""Torture fixtures: one demo Fineract database per test session, and herald's database on either engine."""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path

import pytest

from tests.postgres import create_database
from tests.torture.harness import HERALD

CLIENTS = 400
"""Demo clients: "Active Clients" of office 1 (the whole tree) gives about 280 sendable messages, office 2 about 80."""

_counter = itertools.count()


@pytest.fixture(scope="session")
def demo_corebank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo Fineract database, made once by `herald demo init`; every scenario copies it."""
    home = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "HERALD_HOME": str(home), "HERALD_DATABASE_URL": "", "HERALD_COREBANK_URL": ""}
    subprocess.run(
        [*HERALD, "demo", "init", "--clients", str(CLIENTS), "--seed", "3"],
        env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return home / "fineract-demo.sqlite"


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'herald.sqlite'}"


def postgres_url(pg_server: str) -> str:
    return create_database(pg_server, f"torture{os.getpid()}_{next(_counter)}")
