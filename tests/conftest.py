"""Shared fixtures: a session-wide PostgreSQL cluster, per-test databases on both engines, an ActiveMQ broker."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.activemq import Broker, activemq_broker
from tests.postgres import create_database, postgres_cluster

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def activemq() -> Iterator[Broker]:
    """The session's ActiveMQ (one per xdist worker; mark modules xdist_group("activemq") to share one).

    Tests use queues of their own (tests.activemq.new_queue()); a test that stops it starts it again."""
    with activemq_broker() as broker:
        yield broker


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return create_database(pg_server, f"t{next(_counter)}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return create_database(request.getfixturevalue("pg_server"), f"t{next(_counter)}")
