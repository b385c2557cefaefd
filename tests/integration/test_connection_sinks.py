"""SMPP receipts and replies handed to herald's store as they arrive on a bind, many at once.

The SMPP adapter awaits the sink before it answers each deliver_sm, so a receipt is acknowledged
only once stored. The sinks keep receipts that arrive together in one transaction, in a thread:
one transaction per receipt on the event loop held every bind's submits up while it committed.
Each receipt and reply must still land, once, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from herald.clock import ManualClock
from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.domain.sending import Accepted
from herald.services.inbound import ConnectionSinks
from herald.store import messages as message_store
from herald.store import optouts
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns, messages

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RECEIPTS = 300
REPLIERS = ["+254712000951", "+254712000952"]


def test_receipts_and_stop_replies_arriving_together_are_each_stored_in_few_transactions(db_url: str) -> None:
    store = make_engine(db_url)
    upgrade(store)
    with store.begin() as conn:
        values: dict[str, Any] = {
            "name": "c", "trigger_type": TriggerType.DIRECT, "rule_id": 166, "params": {"officeId": 1},
            "template": "Hi", "provider": "smsc", "status": CampaignStatus.ACTIVE, "created_at": NOW,
        }  # fmt: skip
        cid = conn.execute(insert(campaigns).values(**values)).inserted_primary_key[0]
        rows = [
            {"campaign_id": cid, "dedup_key": f"k{i}", "mobile_no": f"+2547120{i:05d}", "body": "x",
             "status": MessageStatus.PENDING, "encoding": "GSM-7", "segments": 1, "provider": "smsc",
             "attempts": 1, "created_at": NOW, "updated_at": NOW}
            for i in range(RECEIPTS)
        ]  # fmt: skip
        conn.execute(insert(messages), rows)
        ids = list(conn.execute(select(messages.c.id).order_by(messages.c.id)).scalars())
        message_store.mark_accepted(conn, [Accepted(mid, "smsc", f"smsc-{mid}") for mid in ids], NOW)
    sinks = ConnectionSinks(store, ManualClock(NOW), "KE")

    async def arrive() -> None:  # as deliver_sm handlers on a busy bind: all at once
        receipts = [sinks.reports("smsc", [DeliveryReport(f"smsc-{mid}", MessageStatus.DELIVERED, NOW)]) for mid in ids]
        replies = [sinks.inbound("smsc", [InboundMessage(n, "STOP", NOW)]) for n in REPLIERS]
        await asyncio.gather(*receipts, *replies)

    asyncio.run(arrive())
    asyncio.run(sinks.reports("smsc", [DeliveryReport(f"smsc-{ids[0]}", MessageStatus.DELIVERED, NOW)]))  # a new loop
    with store.connect() as conn:
        statuses = list(conn.execute(select(messages.c.status)).scalars())
        opted = optouts.contains(conn, REPLIERS)
    store.dispose()
    assert statuses == [MessageStatus.DELIVERED] * RECEIPTS
    assert opted == set(REPLIERS)
    assert sinks.calls.batches < RECEIPTS / 10, f"{sinks.calls.batches} transactions for {RECEIPTS} receipts"
