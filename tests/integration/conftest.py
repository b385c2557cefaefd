"""Integration fixtures beyond the shared ones: a session-wide MariaDB server for the MySQL-family tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mariadb import mariadb_server as _mariadb_server


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[str]:
    """An admin URL on a MariaDB server started once for the session (installed first when missing)."""
    with _mariadb_server() as url:
        yield url
