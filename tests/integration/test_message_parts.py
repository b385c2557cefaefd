"""A long message's parts in herald's store (SQLite and PostgreSQL): reports per part combine into the
message's, in any order, early ones parked until the send is recorded, a retried attempt's parts kept
apart, and two parts' receipts stored at the same moment never leave the message short of DELIVERED."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text

from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.store import message_parts
from herald.store import reports as report_store
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns, messages, parked_reports

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LINK = "operator"


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def _waiting(engine: Engine, external_id: str, key: str = "k") -> int:
    """A campaign message accepted by the link under `external_id`, waiting for its report."""
    with engine.begin() as conn:
        cid = conn.execute(select(campaigns.c.id)).scalar()
        if cid is None:
            values: dict[str, Any] = {
                "name": "c", "trigger_type": TriggerType.DIRECT, "rule_id": 166, "params": {"officeId": 1},
                "template": "Hi", "provider": LINK, "status": CampaignStatus.ACTIVE, "created_at": NOW,
            }  # fmt: skip
            cid = conn.execute(insert(campaigns).values(**values)).inserted_primary_key[0]  # type: ignore[index]
        row = {
            "campaign_id": cid, "dedup_key": key, "mobile_no": "+254712345678", "body": "x" * 200,
            "status": MessageStatus.WAITING_FOR_DELIVERY_REPORT, "encoding": "GSM-7", "segments": 2,
            "provider": LINK, "external_id": external_id, "attempts": 1, "created_at": NOW, "updated_at": NOW,
        }  # fmt: skip
        return int(conn.execute(insert(messages).values(**row)).inserted_primary_key[0])  # type: ignore[index]


def _report(engine: Engine, *reports: DeliveryReport) -> None:
    with engine.begin() as conn:
        report_store.record(conn, LINK, list(reports), NOW)


def _message(engine: Engine, mid: int) -> tuple[MessageStatus, str | None]:
    with engine.connect() as conn:
        row = conn.execute(select(messages.c.status, messages.c.error_code).where(messages.c.id == mid)).one()
    return MessageStatus(row.status), row.error_code


def _r(part: str, status: MessageStatus, code: str | None = None) -> DeliveryReport:
    return DeliveryReport(part, status, NOW, code, f"{code}: failed" if code else None)


def test_parts_combine_in_any_order_and_a_late_delivered_part_changes_nothing(engine: Engine) -> None:
    done = _waiting(engine, "A1", "done")
    lost = _waiting(engine, "B1", "lost")
    with engine.begin() as conn:
        message_parts.record(conn, LINK, [(done, "A1", ["A1", "A2", "A3"]), (lost, "B1", ["B1", "B2"])])
    _report(engine, _r("A3", MessageStatus.DELIVERED))
    assert _message(engine, done) == (MessageStatus.SENT, None)
    _report(engine, _r("A1", MessageStatus.DELIVERED), _r("A2", MessageStatus.SENT))
    assert _message(engine, done) == (MessageStatus.SENT, None)
    _report(engine, _r("A2", MessageStatus.DELIVERED))
    assert _message(engine, done) == (MessageStatus.DELIVERED, None)
    _report(engine, _r("B2", MessageStatus.FAILED, "069"))
    assert _message(engine, lost) == (MessageStatus.FAILED, "069")
    _report(engine, _r("B1", MessageStatus.DELIVERED), _r("B2", MessageStatus.DELIVERED))
    assert _message(engine, lost) == (MessageStatus.FAILED, "069")
    with engine.connect() as conn:
        assert conn.execute(select(parked_reports)).all() == []  # every part report found its message


def test_a_part_receipt_that_overtakes_the_send_record_is_parked_then_applied(engine: Engine) -> None:
    _report(engine, _r("C2", MessageStatus.DELIVERED))  # the send job has not recorded the message yet
    with engine.connect() as conn:
        assert len(conn.execute(select(parked_reports)).all()) == 1
    mid = _waiting(engine, "C1")
    with engine.begin() as conn:  # the send job's record: the parts, then the parked reports of every part
        message_parts.record(conn, LINK, [(mid, "C1", ["C1", "C2"])])
        report_store.adopt_parked(conn, [(LINK, "C1"), (LINK, "C2")], NOW)
    assert _message(engine, mid) == (MessageStatus.SENT, None)
    _report(engine, _r("C1", MessageStatus.DELIVERED))
    assert _message(engine, mid) == (MessageStatus.DELIVERED, None)
    with engine.connect() as conn:
        assert conn.execute(select(parked_reports)).all() == []


def test_a_parked_first_part_waits_for_the_others(engine: Engine) -> None:
    _report(engine, _r("D1", MessageStatus.DELIVERED))
    mid = _waiting(engine, "D1")
    with engine.begin() as conn:  # what the send job does: parts first, then the parked reports of every part
        message_parts.record(conn, LINK, [(mid, "D1", ["D1", "D2"])])
        report_store.adopt_parked(conn, [(LINK, "D1"), (LINK, "D2")], NOW)
    assert _message(engine, mid) == (MessageStatus.SENT, None)
    _report(engine, _r("D2", MessageStatus.DELIVERED))
    assert _message(engine, mid) == (MessageStatus.DELIVERED, None)


def test_a_reused_part_id_belongs_to_the_newer_message(engine: Engine) -> None:
    old = _waiting(engine, "E1", "old")
    new = _waiting(engine, "F1", "new")
    with engine.begin() as conn:
        message_parts.record(conn, LINK, [(old, "E1", ["E1", "X"])])
        message_parts.record(conn, LINK, [(new, "F1", ["F1", "X"])])  # the SMSC's counter wrapped
    _report(engine, _r("F1", MessageStatus.DELIVERED), _r("X", MessageStatus.DELIVERED))
    assert _message(engine, new) == (MessageStatus.DELIVERED, None)
    assert _message(engine, old) == (MessageStatus.WAITING_FOR_DELIVERY_REPORT, None)


@pytest.mark.postgres
def test_two_parts_receipts_stored_at_once_end_the_message_delivered(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    mid = _waiting(engine, "G1")
    with engine.begin() as conn:
        message_parts.record(conn, LINK, [(mid, "G1", ["G1", "G2"])])
    errors: list[BaseException] = []

    def second() -> None:
        try:
            _report(engine, _r("G2", MessageStatus.DELIVERED))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    with engine.begin() as conn:
        report_store.record(conn, LINK, [_r("G1", MessageStatus.DELIVERED)], NOW)
        worker = threading.Thread(target=second)
        worker.start()
        # Commit only once the other transaction is waiting for our lock on the parts (it must not
        # have read them before): then it combines what we wrote.
        with engine.connect() as watcher:
            deadline = time.monotonic() + 10
            query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            while watcher.execute(query).scalar() == 0:
                watcher.rollback()  # PostgreSQL keeps one activity snapshot per transaction: look afresh
                assert worker.is_alive(), f"the second receipt ended without waiting for the first: {errors}"
                assert time.monotonic() < deadline, "the second receipt never waited for the first"
                time.sleep(0.01)
    worker.join(10)
    assert not errors
    assert _message(engine, mid) == (MessageStatus.DELIVERED, None)
