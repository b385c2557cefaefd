"""Shared fixtures: a session-wide PostgreSQL cluster, per-test databases on both engines, ActiveMQ; the xdist groups.

`make test` runs `pytest -n 4 --dist loadgroup`: four workers (many tests wait on servers and
subprocesses, so four keep two cores busy: 10 min 25 s here against 14 min 35 s with two on CI),
each with its own session (its own PostgreSQL cluster, its own session fixtures). Tests are
handed out one at a time, except those marked `pytest.mark.xdist_group(NAME)`: one group runs on
one worker, in order, and the groups are handed out first, the group with the most tests first. Pick a group so:

- No group, the default: a test that makes its own databases, files and servers (free ports).
- A group per module (`browser_group(__name__)` in tests/web/browser.py, or a module's own name):
  when its tests share a module-scoped fixture that is slow to make (a browser, a served herald,
  a demo folder); without a group each worker would make it again.
- A shared group ("served", "served-ops", "torture-kill", "torture-load", "activemq"): for tests that must
  not run beside each other (CPU-heavy, or timing a kill). Keep each such group under about two
  minutes of run time: a group is one worker's queue, so a longer one becomes the whole run's
  tail. Split a group that grows (by module: what one module starts, no other module shares).
- Never a group to give tests an order: each test must pass alone (`pytest path::test`).

Measure with `.venv/bin/pytest -q -n 4 --dist loadgroup --durations=30` before and after adding
a slow module. pytest 9.2 silently broke loadgroup (every test was handed out alone): the
collection check below fails the run if a group is ever ignored again.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.activemq import Broker, activemq_broker
from tests.mariadb import mariadb_server as _mariadb_server
from tests.postgres import create_database, postgres_cluster

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[str]:
    """An admin URL on a MariaDB server started once for the session (installed first when missing)."""
    with _mariadb_server() as url:
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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Under --dist loadgroup, a worker's grouped tests come with ids ending in `@group`: stop if they do not."""
    config: pytest.Config = node.config
    if config.getvalue("dist") != "loadgroup":
        return
    with_group = {nodeid.split("::")[0] for nodeid in ids if "@" in nodeid.rsplit("]", 1)[-1]}
    for module in sorted({nodeid.split("::")[0] for nodeid in ids} - with_group):
        text = (config.rootpath / module).read_text(encoding="utf-8")
        if "pytestmark = pytest.mark.xdist_group(" in text or "pytestmark = browser_group(" in text:
            pytest.exit(
                f"--dist loadgroup ignored the xdist group of {module}: this pytest and pytest-xdist do not work"
                " together (pytest 9.2 broke it); install the versions pyproject.toml allows (make setup)",
                returncode=4,
            )
