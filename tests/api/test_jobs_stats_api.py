"""REST jobs (last runs, run now, recent runs) and statistics (per day, office, provider, delivery rate, cost)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.server import create_app
from herald.services import auth
from herald.services.auth import Role
from herald.store.database import make_engine, upgrade
from herald.store.tables import messages
from tests.api.conftest import PASSWORD, Corebank, assert_error, materialized_campaign


def test_the_three_jobs_are_listed_under_the_seed_names_then_the_catch_up(
    client: TestClient, viewer: dict[str, str]
) -> None:
    jobs = client.get("/api/v1/jobs", headers=viewer).json()
    assert [j["name"] for j in jobs] == [
        "Update SMS Outbound with Campaign Message",
        "Send Messages to SMS Gateway",
        "Get Delivery Reports from SMS Gateway",
        "Catch up missed Fineract events",
    ]
    assert all(j["lastRun"] is None for j in jobs)


def test_running_the_jobs_now_moves_messages_and_records_each_run(
    client: TestClient, herald: Herald, clock: ManualClock, manager: dict[str, str], viewer: dict[str, str]
) -> None:
    materialized_campaign(client, manager)
    sent = client.post("/api/v1/jobs/send/run", headers=manager).json()
    assert sent["job"] == "send" and sent["counts"]["accepted"] == 2 and sent["error"] is None
    clock.advance(seconds=5)
    reports = client.post("/api/v1/jobs/delivery-reports/run", headers=manager).json()
    assert reports["counts"]["changed"] == 2
    delivered = client.get("/api/v1/messages", params={"status": "delivered"}, headers=viewer).json()
    assert delivered["total"] == 2
    last = {j["job"]: j["lastRun"] for j in client.get("/api/v1/jobs", headers=viewer).json()}
    assert last["delivery-reports"]["id"] == reports["id"] and last["update-outbound"]["counts"]["created"] == 3


def test_recent_runs_are_newest_first_and_can_be_filtered_by_job(
    client: TestClient, manager: dict[str, str], viewer: dict[str, str]
) -> None:
    for job in ("send", "update-outbound", "send"):
        client.post(f"/api/v1/jobs/{job}/run", headers=manager)
    runs = client.get("/api/v1/jobs/runs", headers=viewer).json()
    assert [r["job"] for r in runs] == ["send", "update-outbound", "send"][::-1]
    assert all(r["seconds"] is not None for r in runs)
    assert len(client.get("/api/v1/jobs/runs", params={"job": "send", "limit": 1}, headers=viewer).json()) == 1


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("POST", "/api/v1/jobs/nope/run", "job"),
        ("GET", "/api/v1/jobs/runs?job=nope", "job"),
        ("GET", "/api/v1/jobs/runs?limit=0", "limit"),
    ],
)
def test_an_unknown_job_is_refused(
    client: TestClient, manager: dict[str, str], method: str, path: str, field: str
) -> None:
    assert_error(client.request(method, path, headers=manager), 422, "validation_error", field)


def test_statistics_count_per_day_office_and_provider_with_rate_and_cost(
    client: TestClient, herald: Herald, clock: ManualClock, manager: dict[str, str], corebank: Corebank
) -> None:
    materialized_campaign(client, manager)
    client.post("/api/v1/jobs/send/run", headers=manager)
    with herald.store.begin() as conn:  # one delivered, one failed: a 50 % delivery rate
        conn.execute(update(messages).where(messages.c.id == 1).values(status=MessageStatus.DELIVERED))
        conn.execute(update(messages).where(messages.c.id == 2).values(status=MessageStatus.FAILED))
    stats = client.get("/api/v1/stats", params={"days": 2}, headers=manager).json()
    assert (stats["fromDate"], stats["toDate"]) == ("2026-11-19", "2026-11-20")
    assert [d["counts"]["total"] for d in stats["perDay"]] == [0, 3]
    assert stats["totals"]["delivered"] == 1 and stats["totals"]["failed"] == 1 and stats["totals"]["invalid"] == 1
    offices = {o["officeName"]: o["counts"]["total"] for o in stats["perOffice"]}
    assert offices == {"Nairobi": 1, "Westlands": 2}
    assert [p["providerId"] for p in stats["perProvider"]] == ["simulator"]
    assert stats["deliveryRate"] == 0.5
    assert stats["cost"] == {
        "segments": 2,
        "pricePerSegment": 0.8,
        "amount": 1.6,
        "currency": "KES",
        "providerCharged": [],  # the simulator states no cost (Africa's Talking does)
        "providerChargedMessages": 0,
    }


def test_statistics_of_one_campaign_and_a_quiet_period(client: TestClient, manager: dict[str, str]) -> None:
    cid = materialized_campaign(client, manager)["id"]
    assert client.get("/api/v1/stats", params={"campaignId": cid}, headers=manager).json()["totals"]["total"] == 3
    empty = client.get("/api/v1/stats", params={"campaignId": cid + 1}, headers=manager).json()
    assert empty["totals"]["total"] == 0 and empty["deliveryRate"] is None and len(empty["perDay"]) == 30


@pytest.mark.parametrize("days", [0, 367, "x"])
def test_statistics_refuse_a_bad_period(client: TestClient, viewer: dict[str, str], days: object) -> None:
    assert_error(client.get("/api/v1/stats", params={"days": days}, headers=viewer), 422, "validation_error", "days")


@pytest.mark.postgres
def test_statistics_filters_and_resends_work_the_same_on_postgresql(
    pg_url: str, tmp_path: Path, corebank: Corebank, clock: ManualClock
) -> None:
    upgrade(make_engine(pg_url))  # a server database is migrated by `herald db upgrade`, never on open
    settings = Settings(
        home=tmp_path, database_url=pg_url, corebank_url=corebank.builder.url, timezone="Africa/Nairobi"
    )
    herald = Herald.build(settings, clock)
    try:
        auth.create_user("boss", Role.ADMIN, PASSWORD, store=herald.store, clock=herald.clock)
        headers = {
            "Authorization": f"Bearer {auth.issue_token('boss', 'pg', store=herald.store, clock=herald.clock).token}"
        }
        with TestClient(create_app(herald)) as client:
            cid = materialized_campaign(client, headers)["id"]
            with herald.store.begin() as conn:
                conn.execute(update(messages).where(messages.c.status == 100).values(status=MessageStatus.FAILED))
            stats = client.get("/api/v1/stats", params={"days": 1}, headers=headers).json()
            assert stats["perDay"] == [{"date": "2026-11-20", "counts": stats["totals"]}]
            assert stats["totals"]["failed"] == 2
            day = {"from": "2026-11-20", "to": "2026-11-20", "status": "failed"}
            assert client.get("/api/v1/messages", params=day, headers=headers).json()["total"] == 2
            assert client.post(f"/api/v1/campaigns/{cid}/resend", headers=headers).json()["resent"] == 2
    finally:
        herald.close()
