"""A message's earlier attempts on SQLite and PostgreSQL: each counted retry adds one line, a held one (quiet
hours, a paused provider) none, and an error text with tabs and line breaks cannot break the record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.domain.sending import Retry
from herald.store.attempts import earlier_attempts, line, parse
from herald.store.database import make_engine, upgrade
from herald.store.messages import reschedule
from herald.store.tables import campaigns, messages

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def _pending_message(engine: Engine) -> int:
    with engine.begin() as conn:
        values = {"name": "Reminders", "tenant": "default", "trigger_type": TriggerType.DIRECT, "rule_id": 166}
        values |= {"params": {}, "template": "Hi", "provider": "twilio", "status": CampaignStatus.ACTIVE}
        campaign = conn.execute(insert(campaigns).values(**values, created_at=NOW)).inserted_primary_key[0]
        row = {"campaign_id": campaign, "dedup_key": "c:1", "client_id": 1, "office_id": 1, "body": "Hi"}
        row |= {"mobile_no": "+254712345678", "status": MessageStatus.PENDING, "encoding": "GSM7", "segments": 1}
        row |= {"provider": "twilio", "attempts": 1, "created_at": NOW, "updated_at": NOW}
        return int(conn.execute(insert(messages).values(**row)).inserted_primary_key[0])


def test_each_counted_retry_adds_a_line_and_a_held_one_none(engine: Engine) -> None:
    mid = _pending_message(engine)
    later = NOW + timedelta(minutes=1)
    with engine.begin() as conn:
        reschedule(conn, [Retry(mid, later, "20500", "Service\tunavailable\nretry", provider="twilio")], NOW)
        reschedule(conn, [Retry(mid, later, "HELD", "quiet hours", counted=False)], NOW + timedelta(seconds=10))
        reschedule(conn, [Retry(mid, later, "TIMEOUT", "no answer", in_doubt=True, provider="infobip")], later)
    with engine.connect() as conn:
        found = earlier_attempts(conn, mid)
    assert [(a.at, a.provider, a.code, a.text, a.in_doubt) for a in found] == [
        (NOW, "twilio", "20500", "Service unavailable retry", False),
        (later, "infobip", "TIMEOUT", "no answer", True),
    ]


def test_a_line_that_does_not_read_is_skipped() -> None:
    good = line(NOW, "twilio", None, None, False)
    assert [a.provider for a in parse("garbage\n" + good + "2026-13-45\ta\tb\tc\t\n")] == ["twilio"]
    assert parse(None) == [] and parse("") == []
