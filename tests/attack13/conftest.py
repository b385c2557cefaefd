"""A herald whose own database is SQLite or PostgreSQL, a crafted core bank, and one campaign listening to events.

Every attack is handed to the consumer the worker builds (`Herald.event_consumer`), as the broker
hands it over: what went through is counted at the simulator by the send job, what did not in the
dead-letter table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.database import make_engine, upgrade
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

# 2026-11-20 07:00 in Nairobi (UTC+3)
START = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def fineract(tmp_path: Path) -> FineractBuilder:
    return FineractBuilder(f"sqlite:///{tmp_path / 'fineract.sqlite'}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _herald(url: str, tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> Iterator[Herald]:
    upgrade(make_engine(url))
    settings = Settings(
        home=tmp_path,
        database_url=url,
        corebank_url=fineract.url,
        timezone="Africa/Nairobi",
        simulator_failure_ratio=0.0,
    )
    h = Herald.build(settings, clock)
    yield h
    h.close()


@pytest.fixture
def herald(db_url: str, tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> Iterator[Herald]:
    """herald on SQLite, then on PostgreSQL (which refuses NUL in text and over-long strings)."""
    yield from _herald(db_url, tmp_path, fineract, clock)


@pytest.fixture
def sqlite_herald(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> Iterator[Herald]:
    """herald on SQLite only: for what does not depend on the database."""
    yield from _herald(f"sqlite:///{tmp_path / 'herald.sqlite'}", tmp_path, fineract, clock)


def welcome(herald: Herald) -> int:
    """An active "Client Activated" campaign (rule 183) for the default tenant."""
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "welcome",
                "triggerType": "triggered",
                "runReportId": 183,
                "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
                "message": "Karibu {{firstName}}",
            }
        ),
        **validating(herald),
    )
    return campaigns.activate(c.id, **activating(herald)).id
