"""Office profiles as the jobs use them: each campaign's own tenant's offices decide its quiet hours and phone
region, and a profile changed elsewhere reaches a running worker without a restart."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.services import campaigns, offices, send
from herald.services.campaigns import CampaignRequest
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns as campaigns_table
from herald.store.tables import messages
from herald.worker import Worker, outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

QUIET = "21:00-07:30"


def _settings(tmp_path: Path, corebank: FineractBuilder, **extra: Any) -> Settings:
    extra.setdefault("database_url", f"sqlite:///{tmp_path / 'herald.sqlite'}")
    return Settings(
        home=tmp_path,
        corebank_url=corebank.url,
        timezone="Africa/Nairobi",
        default_region="KE",
        quiet_hours=QUIET,
        simulator_failure_ratio=0.0,
        **extra,
    )


def _parts(herald: Herald) -> dict[str, Any]:
    return {"store": herald.store, "corebanks": herald.corebanks, "offices": herald.offices}


def _everyone(herald: Herald, tenant: str | None, name: str) -> None:
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": name,
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": "Hello {{firstName}}",
                "tenantId": tenant,
            }
        ),
        **validating(herald),
    )
    campaigns.activate(c.id, **activating(herald))


def _by_tenant(herald: Herald) -> dict[str, Any]:
    with herald.store.connect() as conn:
        rows = conn.execute(
            select(campaigns_table.c.tenant, messages.c.mobile_no, messages.c.status, messages.c.attempts).join(
                campaigns_table, campaigns_table.c.id == messages.c.campaign_id
            )
        ).all()
    assert len(rows) == len({r.tenant for r in rows}), "one message per tenant"
    return {r.tenant: r for r in rows}


@pytest.fixture
def nairobi_and_lagos(tmp_path: Path, clock: ManualClock, db_url: str) -> Herald:
    """Two Fineract tenants whose head offices (office 1 in both databases) are two time zones apart;
    herald's own store on SQLite and on PostgreSQL (the claim filters by tenant and office in SQL)."""
    upgrade(make_engine(db_url))
    nairobi = FineractBuilder(f"sqlite:///{tmp_path / 'nairobi.sqlite'}")
    lagos = FineractBuilder(f"sqlite:///{tmp_path / 'lagos.sqlite'}")
    nairobi.client("Wanjiku", "0712000001")
    lagos.client("Chiamaka", "08031234567")  # a Nigerian number written the local way
    settings = _settings(
        tmp_path, nairobi, database_url=db_url, tenant="nairobi", tenants=json.dumps({"lagos": lagos.url})
    )
    herald = Herald.build(settings, clock)
    offices.set_profile(1, "KE", "Africa/Nairobi", **_parts(herald), tenant="nairobi")
    offices.set_profile(1, "NG", "Africa/Lagos", **_parts(herald), tenant="lagos")
    return herald


def test_quiet_hours_and_phone_regions_follow_the_campaign_s_own_tenant_s_offices(
    nairobi_and_lagos: Herald, clock: ManualClock
) -> None:
    herald = nairobi_and_lagos
    _everyone(herald, "nairobi", "Nairobi everyone")
    _everyone(herald, "lagos", "Lagos everyone")
    outbound_for(herald).run()  # the materialize job: each tenant's numbers read in its own office's region
    made = _by_tenant(herald)
    assert (made["nairobi"].mobile_no, made["lagos"].mobile_no) == ("+254712000001", "+2348031234567")
    assert {r.status for r in made.values()} == {MessageStatus.PENDING}

    clock.set(datetime(2026, 11, 20, 5, 0, tzinfo=UTC))  # 08:00 in Nairobi, 06:00 in Lagos
    assert send.run(sender_for(herald))["accepted"] == 1
    sent = _by_tenant(herald)
    assert sent["nairobi"].status == MessageStatus.WAITING_FOR_DELIVERY_REPORT
    assert (sent["lagos"].status, sent["lagos"].attempts) == (MessageStatus.PENDING, 0)  # still night in Lagos

    clock.set(datetime(2026, 11, 20, 19, 0, tzinfo=UTC))  # 22:00 in Nairobi, 20:00 in Lagos
    assert send.run(sender_for(herald))["accepted"] == 1
    assert _by_tenant(herald)["lagos"].status == MessageStatus.WAITING_FOR_DELIVERY_REPORT
    herald.close()


def test_a_running_worker_follows_an_office_profile_saved_by_another_process(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    lagos_branch = fineract.office("Lagos branch")
    fineract.client("Chiamaka", "+2348031234567", office_id=lagos_branch)
    # 22:00 in Nairobi: the branch, without a profile yet, keeps Nairobi's (the default) quiet hours.
    clock.set(datetime(2026, 11, 20, 19, 0, tzinfo=UTC))
    settings = _settings(
        tmp_path,
        fineract,
        materialize_interval=0.05,
        send_interval=0.05,
        reports_interval=0.05,
        worker_timeout_seconds=120,  # the heartbeat stays fresh across the clock's jump past the profiles' freshness
    )
    herald = Herald.build(settings, clock)
    elsewhere = Herald.build(settings, ManualClock(clock.now()))  # `herald offices set` in another process
    _everyone(herald, None, "Everyone")
    worker = Worker(herald)
    ticks: list[tuple[int, int]] = []
    deadline = time.monotonic() + 30

    def message() -> tuple[int, int] | None:
        with herald.store.connect() as conn:
            row = conn.execute(select(messages.c.status, messages.c.attempts)).one_or_none()
        return None if row is None else (int(row.status), int(row.attempts))

    def on_tick() -> None:
        seen = message()
        if seen is None:  # materializing runs beside the loop: not written yet
            return
        ticks.append(seen)
        if len(ticks) == 1:  # made and held: the office is asleep
            offices.set_profile(lagos_branch, "NG", "Africa/Lagos", **_parts(elsewhere))  # 20:00 there
            clock.advance(seconds=31)  # past the worker's 30 s freshness of office profiles

    def should_stop() -> bool:
        return time.monotonic() > deadline or (bool(ticks) and ticks[-1][0] != MessageStatus.PENDING)

    worker.run(should_stop, on_tick)
    elsewhere.close()
    herald.close()
    assert ticks[0] == (MessageStatus.PENDING, 0)
    status, attempts = ticks[-1]
    assert status in (MessageStatus.WAITING_FOR_DELIVERY_REPORT, MessageStatus.SENT, MessageStatus.DELIVERED)
    assert attempts == 1
