"""The re-send policy's choices on real SQLite and PostgreSQL: which failed messages get a copy, and that a pass
run again (after a crash, or by a second worker) adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from herald.clock import ManualClock
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.services.office_profiles import OfficeProfiles
from herald.services.transient_resend import TransientResender, TransientResendPolicy
from herald.store import reports as report_store
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns, messages

FAILED_AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 09:00 in Nairobi


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def _campaign(engine: Engine, name: str, trigger: TriggerType = TriggerType.DIRECT) -> int:
    with engine.begin() as conn:
        key = conn.execute(
            insert(campaigns).values(
                name=name,
                trigger_type=trigger,
                rule_id=166,
                params={},
                template="Hi",
                provider="twilio",
                status=CampaignStatus.ACTIVE,
                created_at=FAILED_AT,
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def _failed(engine: Engine, cid: int, key: str, *, transient: bool = True, **extra: Any) -> None:
    row = {
        "campaign_id": cid,
        "dedup_key": key,
        "client_id": 1,
        "office_id": 1,
        "mobile_no": "+254712345678",
        "body": "Hi",
        "status": MessageStatus.FAILED,
        "encoding": "GSM-7",
        "segments": 1,
        "provider": "twilio",
        "external_id": f"SM{abs(hash(key))}",
        "error_code": "30003" if transient else "30005",
        "resend_pending": transient,
        "created_at": FAILED_AT,
        "updated_at": FAILED_AT,
    }
    with engine.begin() as conn:
        conn.execute(insert(messages).values(**(row | extra)))


def _waiting(engine: Engine, cid: int, key: str, external_id: str) -> None:
    """A message a provider has taken and not yet reported on."""
    _failed(engine, cid, key, transient=False, status=MessageStatus.SENT, external_id=external_id, error_code=None)


def _resender(engine: Engine, times: int = 2) -> TransientResender:
    clock = ManualClock(FAILED_AT + timedelta(minutes=61))
    return TransientResender(
        store=engine,
        clock=clock,
        offices=OfficeProfiles(engine, "default", clock.now),
        calendar=BusinessCalendar("Africa/Nairobi"),
        policy=TransientResendPolicy(times=times, after=timedelta(minutes=60), timezone="Africa/Nairobi"),
    )


def _keys(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(messages.c.dedup_key)).scalars())


def test_a_pass_run_again_after_a_crash_or_by_another_worker_adds_nothing(engine: Engine) -> None:
    cid = _campaign(engine, "direct")
    _failed(engine, cid, "client:1")
    _failed(engine, cid, "client:2", transient=False)
    resender = _resender(engine)
    assert resender.run() == {"resent": 1}
    assert _resender(engine).run() == {"resent": 0}
    assert _keys(engine) == ["client:1", "client:1#resend-1", "client:2"]
    with engine.connect() as conn:
        copy = conn.execute(select(messages).where(messages.c.dedup_key == "client:1#resend-1")).one()
    assert (copy.status, copy.attempts, copy.resend_pending) == (MessageStatus.PENDING, 0, False)


def test_a_chain_already_resent_by_hand_counts_against_the_policys_times(engine: Engine) -> None:
    cid = _campaign(engine, "direct")
    _failed(engine, cid, "client:1", transient=False)
    _failed(engine, cid, "client:1#resend-1", transient=False)
    _failed(engine, cid, "client:1#resend-2")  # two re-sends by hand; the policy allows two in all
    assert _resender(engine, times=2).run() == {"resent": 0}
    _failed(engine, cid, "client:2#resend-2")
    assert _resender(engine, times=3).run() == {"resent": 1}  # a third is allowed now
    assert "client:2#resend-3" in _keys(engine)
    assert "client:1#resend-3" not in _keys(engine)  # settled under the old setting, not revisited


def test_fineract_gateway_messages_are_left_to_fineract(engine: Engine) -> None:
    gateway = _campaign(engine, "gateway", TriggerType.GATEWAY)
    _failed(engine, gateway, "fineract_message:7")
    assert _resender(engine).run() == {"resent": 0}


def test_a_key_that_would_not_fit_is_skipped_not_an_error(engine: Engine) -> None:
    cid = _campaign(engine, "direct")
    _failed(engine, cid, "k" * 195)
    _failed(engine, cid, "client:1")
    assert _resender(engine).run() == {"resent": 1}
    assert "client:1#resend-1" in _keys(engine)


def _pending(engine: Engine) -> dict[str, bool]:
    with engine.connect() as conn:
        return {key: pending for key, pending in conn.execute(select(messages.c.dedup_key, messages.c.resend_pending))}


def test_a_settled_failure_is_read_no_more_and_one_in_quiet_hours_waits(engine: Engine) -> None:
    cid = _campaign(engine, "direct")
    _failed(engine, cid, "resent")
    _failed(engine, cid, "used up#resend-2")
    _failed(engine, cid, "yesterday", updated_at=FAILED_AT - timedelta(hours=12))
    _failed(engine, cid, "long ago", updated_at=FAILED_AT - timedelta(days=3))
    assert _resender(engine).run() == {"resent": 1}
    assert _pending(engine) == {
        "resent": False,
        "resent#resend-1": False,
        "used up#resend-2": False,
        "yesterday": False,
        "long ago": False,
    }
    quiet = _resender(engine)
    quiet_policy = TransientResendPolicy(times=2, after=timedelta(minutes=60), quiet_hours="09:30-11:00")
    _failed(engine, cid, "in quiet hours")
    quiet = TransientResender(
        store=engine, clock=quiet.clock, offices=quiet.offices, calendar=quiet.calendar, policy=quiet_policy
    )
    assert quiet.run() == {"resent": 0}  # 10:01 in Nairobi
    assert _pending(engine)["in quiet hours"] is True


def test_a_passing_failure_is_kept_on_the_message_even_when_its_report_was_parked_first(engine: Engine) -> None:
    cid = _campaign(engine, "direct")
    passing = DeliveryReport("EARLY", MessageStatus.FAILED, FAILED_AT, "30003", "Unreachable", transient=True)
    lasting = DeliveryReport("KNOWN", MessageStatus.FAILED, FAILED_AT, "30005", "Unknown")
    _waiting(engine, cid, "known", "KNOWN")
    with engine.begin() as conn:
        assert report_store.record(conn, "twilio", [passing, lasting], FAILED_AT) == 1  # EARLY is not known yet
    _waiting(engine, cid, "early", "EARLY")
    with engine.begin() as conn:
        assert report_store.adopt_parked(conn, [("twilio", "EARLY")], FAILED_AT) == 1
    assert _pending(engine) == {"early": True, "known": False}
