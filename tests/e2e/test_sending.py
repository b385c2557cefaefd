"""The send job against real simulators: failover, breakers that heal, retries, quiet hours, opt-outs, parking."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.breaker import BreakerState
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.domain.sending import Accepted
from herald.errors import ProviderOutcome
from herald.providers.simulator import Simulator
from herald.services import campaigns, offices
from herald.services.campaigns import CampaignRequest
from herald.store import messages as message_store
from herald.store import optouts
from herald.store import reports as report_store
from herald.store.tables import messages, parked_reports
from herald.worker import outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

PROVIDERS = [
    {"kind": "simulator", "name": "sim-a", "transient_ratio": 1.0, "fallback": "sim-b", "failure_ratio": 0},
    {"kind": "simulator", "name": "sim-b", "failure_ratio": 0},
]

LEASE = timedelta(minutes=5)


def _herald(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, **extra: Any) -> Herald:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps(extra.pop("providers", PROVIDERS)),
        max_attempts=3,
        retry_base_seconds=10,
        **extra,
    )
    return Herald.build(settings, clock)


def _campaign(herald: Herald, provider: str, n_clients: int, fineract: FineractBuilder) -> int:
    for i in range(n_clients):
        fineract.client(f"C{i}", f"+2547120001{i:02d}")
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": f"to {provider}",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": "Hello {{firstName}}",
                "providerId": provider,
            }
        ),
        **validating(herald),
    )
    campaigns.activate(c.id, **activating(herald))
    outbound_for(herald).run_due()
    return c.id


def _rows(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(messages).order_by(messages.c.id)))


def _simulator(herald: Herald, name: str) -> Simulator:
    provider = herald.providers[name]
    assert isinstance(provider, Simulator)
    return provider


def test_a_failing_primary_hands_its_messages_to_the_fallback_at_once(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    herald = _herald(tmp_path, fineract, clock)
    _campaign(herald, "sim-a", 4, fineract)
    counts = asyncio.run(sender_for(herald).run())
    assert counts["accepted"] == 4 and counts["failover"] >= 1
    rows = _rows(herald)
    assert {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
    assert {r.provider for r in rows} == {"sim-b"}
    assert {r.attempts for r in rows} == {1}


def test_the_breaker_opens_and_closes_again_when_the_primary_recovers(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    herald = _herald(tmp_path, fineract, clock, send_batch_size=1)
    _campaign(herald, "sim-a", 8, fineract)
    sender = sender_for(herald)
    asyncio.run(sender.run(limit=5))  # five failed requests open sim-a's breaker
    breaker = sender.gate("sim-a").breaker
    assert breaker.state is BreakerState.OPEN
    a = _simulator(herald, "sim-a")
    a.config = type(a.config)(**{**a.config.__dict__, "transient_ratio": 0.0})  # sim-a recovers
    asyncio.run(sender.run(limit=1))
    assert _rows(herald)[5].provider == "sim-b"  # still open: the fallback takes it without trying sim-a
    clock.advance(seconds=31)
    asyncio.run(sender.run())
    assert breaker.state is BreakerState.CLOSED
    assert [r.provider for r in _rows(herald)][6:] == ["sim-a", "sim-a"]


def test_transient_errors_are_retried_with_backoff_then_fail_with_the_last_error(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    providers = [{"kind": "simulator", "name": "flaky", "transient_ratio": 1.0}]
    herald = _herald(tmp_path, fineract, clock, providers=providers)
    _campaign(herald, "flaky", 1, fineract)
    sender = sender_for(herald)
    asyncio.run(sender.run())
    [row] = _rows(herald)
    assert (row.status, row.attempts, row.error_code) == (MessageStatus.PENDING, 1, "QUEUE_FULL")
    assert timedelta(seconds=5) <= row.not_before - clock.now() <= timedelta(seconds=10)
    assert asyncio.run(sender.run())["accepted"] == 0  # not before its time
    for _ in range(3):
        clock.advance(seconds=3600)
        sender.gates.reset()  # keep the breaker out of this test: every attempt reaches the provider
        asyncio.run(sender.run())
    [row] = _rows(herald)
    assert (row.status, row.attempts, row.error_code, row.error_text) == (
        MessageStatus.FAILED,
        3,
        "QUEUE_FULL",
        "Queue full",
    )


def test_quiet_hours_hold_messages_until_the_office_wakes_up(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    herald = _herald(tmp_path, fineract, clock, quiet_hours="21:00-07:30", timezone="Africa/Nairobi")
    kampala = fineract.office("Kampala")
    offices.set_profile(
        kampala, "UG", "Africa/Kampala", store=herald.store, corebanks=herald.corebanks, offices=herald.offices
    )
    fineract.client("Okello", "+256772000001", office_id=kampala)
    _campaign(herald, "sim-b", 1, fineract)  # plus one client at the head office (Nairobi time)
    clock.set(clock.now().replace(hour=19, minute=0))  # 22:00 in Nairobi and Kampala
    assert asyncio.run(sender_for(herald).run())["accepted"] == 0
    assert {r.attempts for r in _rows(herald)} == {0}
    clock.advance(hours=9, minutes=31)  # 07:31 local
    assert asyncio.run(sender_for(herald).run())["accepted"] == 2


def test_opted_out_numbers_are_never_sent(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> None:
    herald = _herald(tmp_path, fineract, clock)
    with herald.store.begin() as conn:
        optouts.add(conn, ["+254712000100"], source="test", detail="STOP reply", now=clock.now())
    _campaign(herald, "sim-b", 2, fineract)  # +254712000100 and +254712000101
    with herald.store.begin() as conn:  # the second number opts out after materializing
        optouts.add(conn, ["+254712000101"], source="test", detail="STOP reply", now=clock.now())
    asyncio.run(sender_for(herald).run())
    assert [(r.status, r.reason) for r in _rows(herald)] == [(MessageStatus.INVALID, "opted out")] * 2


def test_a_report_that_overtakes_the_send_call_is_parked_then_applied(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    herald = _herald(tmp_path, fineract, clock)
    _campaign(herald, "sim-b", 1, fineract)
    early = DeliveryReport("EXT-1", MessageStatus.DELIVERED, clock.now())
    with herald.store.begin() as conn:
        assert report_store.record(conn, "sim-b", [early], clock.now()) == 0
        [claimed] = message_store.claim_pending(conn, clock.now(), 10, LEASE)
    with herald.store.begin() as conn:
        message_store.mark_accepted(conn, [Accepted(claimed.id, "sim-b", "EXT-1")], clock.now())
        assert report_store.adopt_parked(conn, [("sim-b", "EXT-1")], clock.now()) == 1
        assert conn.execute(select(parked_reports)).all() == []
    assert _rows(herald)[0].status == MessageStatus.DELIVERED


def test_a_message_whose_worker_died_mid_send_is_claimed_again_marked_in_doubt(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    herald = _herald(tmp_path, fineract, clock)
    _campaign(herald, "sim-b", 1, fineract)
    with herald.store.begin() as conn:
        [first] = message_store.claim_pending(conn, clock.now(), 10, LEASE)
    assert not first.in_doubt
    with herald.store.begin() as conn:  # the worker died: nothing recorded; nobody else may take it yet
        assert message_store.claim_pending(conn, clock.now(), 10, LEASE) == []
    clock.advance(LEASE + timedelta(seconds=1))
    with herald.store.begin() as conn:
        [again] = message_store.claim_pending(conn, clock.now(), 10, LEASE)
    assert again.in_doubt and again.attempts == 2


@pytest.mark.parametrize("reply", ["STOP", "stop", " Stop.", "UNSUBSCRIBE please", "acha"])
def test_stop_words(reply: str) -> None:
    assert optouts.is_stop(reply)


@pytest.mark.parametrize("reply", ["", "Thanks", "non-stop", "please stop"])
def test_not_stop_words(reply: str) -> None:
    assert not optouts.is_stop(reply)


def test_closed_campaign_holds_its_messages(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> None:
    herald = _herald(tmp_path, fineract, clock)
    cid = _campaign(herald, "sim-b", 2, fineract)
    campaigns.close(cid, store=herald.store, clock=herald.clock)
    assert asyncio.run(sender_for(herald).run())["accepted"] == 0
    with herald.store.begin() as conn:
        conn.execute(update(messages).values(not_before=None))
    campaigns.reactivate(cid, **activating(herald))
    assert asyncio.run(sender_for(herald).run())["accepted"] == 2


def test_one_providers_failing_pull_does_not_stop_the_reports_job(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    from herald.errors import ProviderError
    from herald.worker import puller_for

    herald = _herald(tmp_path, fineract, clock)
    _campaign(herald, "sim-b", 2, fineract)
    asyncio.run(sender_for(herald).run())

    async def down(ids: object) -> list[DeliveryReport]:
        raise ProviderError(
            "reports endpoint answered 503", provider="sim-b", code="503", outcome=ProviderOutcome.TRANSIENT
        )

    herald.providers["sim-b"].fetch_reports = down  # type: ignore[method-assign]
    clock.advance(seconds=10)
    totals = asyncio.run(puller_for(herald).pull())
    assert totals["errors"] == 1 and totals["changed"] == 0
    assert {r.status for r in _rows(herald)} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}


def test_messages_of_a_provider_removed_from_the_configuration_wait_instead_of_failing(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    herald = _herald(tmp_path, fineract, clock)
    _campaign(herald, "sim-b", 2, fineract)
    herald.close()
    reconfigured = _herald(tmp_path, fineract, clock, providers=[{"kind": "simulator", "name": "sim-a"}])
    counts = asyncio.run(sender_for(reconfigured).run())
    assert counts["held"] == 2 and counts["failed"] == 0
    assert {(r.status, r.attempts, r.error_code) for r in _rows(reconfigured)} == {
        (MessageStatus.PENDING, 0, "NO_PROVIDER")
    }
