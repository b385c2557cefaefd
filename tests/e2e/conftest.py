"""A herald on temporary SQLite files, a crafted Fineract database and a clock the test moves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.server import create_app
from tests.fineract_builder import FineractBuilder

# 2026-11-20 07:00 in Nairobi (UTC+3)
START = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def fineract(tmp_path: Path) -> FineractBuilder:
    return FineractBuilder(f"sqlite:///{tmp_path / 'fineract.sqlite'}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(tmp_path: Path, fineract: FineractBuilder) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'herald.sqlite'}",
        corebank_url=fineract.url,
        timezone="Africa/Nairobi",
        simulator_failure_ratio=0.0,
        simulator_sent_after=1,
        simulator_delivered_after=2,
    )


@pytest.fixture
def herald(settings: Settings, clock: ManualClock) -> Iterator[Herald]:
    h = Herald.build(settings, clock)
    yield h
    h.close()


HOOK_SECRET = "hook-s3cret"


@pytest.fixture
def hooked(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> Iterator[tuple[TestClient, Herald]]:
    """A herald app with its hook URL, a second tenant "kampala" and a simulator that delivers in 2 s."""
    kampala = FineractBuilder(f"sqlite:///{tmp_path / 'kampala.sqlite'}")
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        fineract_hook_secret=HOOK_SECRET,
        simulator_failure_ratio=0.0,
        simulator_sent_after=1,
        simulator_delivered_after=2,
        tenants=json.dumps({"kampala": kampala.url}),
    )
    herald = Herald.build(settings, clock)
    with TestClient(create_app(herald)) as client:
        yield client, herald
    herald.close()
