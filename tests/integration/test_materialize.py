"""Materializing on the demo database: serial and parallel runs make the same messages, once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.corebank.demo import create_demo_database
from herald.domain.message import MessageStatus
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.services.materialize import MaterializePolicy, Materializer
from herald.store.tables import messages
from tests.campaign_parts import activating, validating

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'fineract.sqlite'}"
    create_demo_database(url, clients=1500, seed=5, today=TODAY)
    return url


def _herald(tmp_path: Path, demo_url: str, name: str, workers: int) -> Herald:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / name}",
        corebank_url=demo_url,
        business_date=TODAY,
        materialize_workers=workers,
    )
    return Herald.build(settings, ManualClock(datetime(2026, 11, 25, 6, tzinfo=UTC)))


def _run(herald: Herald, parallel_from: int) -> list[tuple[str, int, str, str | None]]:
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "All",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": "Dear {{fullName}} of {{officeName}}",
            }
        ),
        **validating(herald),
    )
    c = campaigns.activate(c.id, **activating(herald))
    materializer = Materializer(
        store=herald.store,
        corebanks=herald.corebanks,
        offices=herald.offices,
        clock=herald.clock,
        policy=MaterializePolicy.of(herald.settings),
    )
    first = materializer.materialize_all(c, None, TODAY, parallel_from=parallel_from)
    again = materializer.materialize_all(c, None, TODAY, parallel_from=parallel_from)
    assert first.created == first.audience > 0
    assert (again.created, again.already) == (0, first.audience)
    with herald.store.connect() as conn:
        rows = conn.execute(
            select(messages.c.dedup_key, messages.c.status, messages.c.body, messages.c.mobile_no).order_by(
                messages.c.dedup_key
            )
        ).all()
    return [(r.dedup_key, r.status, r.body, r.mobile_no) for r in rows]


def test_a_parallel_run_makes_exactly_the_messages_of_a_serial_run(tmp_path: Path, demo_url: str) -> None:
    serial = _run(_herald(tmp_path, demo_url, "serial.sqlite", 1), parallel_from=0)
    parallel = _run(_herald(tmp_path, demo_url, "parallel.sqlite", 2), parallel_from=0)
    assert serial == parallel
    statuses = {status for _, status, _, _ in serial}
    assert statuses == {MessageStatus.PENDING, MessageStatus.INVALID}
