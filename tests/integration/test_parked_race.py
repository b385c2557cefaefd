"""A report parked by a webhook transaction that commits after the send job recorded its message: applied all the same.

A provider's report can arrive before herald has recorded the provider's id (the send call has not
returned); the webhook parks it and the send job adopts it when it records the id. On PostgreSQL the
two transactions overlap: a webhook batch still open when the send job looks for parked reports
commits its parked row afterwards, answers 2xx, and the provider never sends the report again
(Africa's Talking cannot be asked either). The report job's next run must apply it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from herald.app import Herald
from herald.config import Settings
from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.domain.sending import Accepted
from herald.store import messages as message_store
from herald.store import reports as report_store
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns, messages, parked_reports
from herald.worker import puller_for

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
AT = {
    "kind": "africastalking",
    "name": "at",
    "username": "mfibank",
    "api_key": "unused-key-0123",
    "base_url": "http://127.0.0.1:9",
    "webhook_secret": "race-webhook-secret-0123",
}


@pytest.mark.postgres
def test_a_report_parked_while_the_send_was_being_recorded_is_applied_by_the_next_report_run(
    tmp_path: Path, pg_url: str
) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)  # `herald db upgrade`
    engine.dispose()
    herald = Herald.build(Settings(home=tmp_path, database_url=pg_url, providers=json.dumps([AT])))
    try:
        with herald.store.begin() as conn:
            values: dict[str, Any] = {
                "name": "c", "trigger_type": TriggerType.DIRECT, "rule_id": 166, "params": {"officeId": 1},
                "template": "Hi", "provider": "at", "status": CampaignStatus.ACTIVE, "created_at": NOW,
            }  # fmt: skip
            cid = conn.execute(insert(campaigns).values(**values)).inserted_primary_key[0]
            row = {
                "campaign_id": cid, "dedup_key": "k", "mobile_no": "+254712345678", "body": "x",
                "status": MessageStatus.PENDING, "encoding": "GSM-7", "segments": 1, "provider": "at",
                "attempts": 1, "created_at": NOW, "updated_at": NOW,
            }  # fmt: skip
            mid = conn.execute(insert(messages).values(**row)).inserted_primary_key[0]
        # A webhook batch: Africa's Talking's report on ATXid_1 comes before the send job has committed the id.
        webhook = herald.store.connect()
        open_batch = webhook.begin()
        report_store.record(webhook, "at", [DeliveryReport("ATXid_1", MessageStatus.DELIVERED, NOW)], NOW)
        # Meanwhile the send job records the accept and adopts what is parked (what Sender._record does).
        with herald.store.begin() as conn:
            message_store.mark_accepted(conn, [Accepted(mid, "at", "ATXid_1")], NOW)
            report_store.adopt_parked(conn, [("at", "ATXid_1")], NOW)
        open_batch.commit()  # the batch commits; Africa's Talking gets its 2xx and never sends the report again
        webhook.close()

        def state() -> tuple[MessageStatus, int]:
            with herald.store.connect() as conn:
                status = conn.execute(select(messages.c.status).where(messages.c.id == mid)).scalar_one()
                parked = conn.execute(select(func.count()).select_from(parked_reports)).scalar_one()
            return MessageStatus(status), parked

        assert state() == (MessageStatus.WAITING_FOR_DELIVERY_REPORT, 1)  # the race happened
        asyncio.run(puller_for(herald).pull())
        assert state() == (MessageStatus.DELIVERED, 0)
    finally:
        herald.close()
