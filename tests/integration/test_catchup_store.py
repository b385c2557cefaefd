"""The catch-up job's lookups of messages it need not make again, on SQLite and PostgreSQL: the exact keys, and
the prefixes of rules that reach several clients per event ("<fact>:<event id>:<client id>")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.store import catchup as store
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns, messages

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def _campaign(conn: Any, name: str) -> int:
    values = {"name": name, "tenant": "default", "trigger_type": TriggerType.TRIGGERED, "rule_id": 179}
    values |= {"params": {}, "template": "Hi", "provider": "simulator", "status": CampaignStatus.ACTIVE}
    return int(conn.execute(insert(campaigns).values(**values, created_at=NOW)).inserted_primary_key[0])


def _messages(conn: Any, campaign_id: int, keys: list[str]) -> None:
    rows = [
        {"campaign_id": campaign_id, "dedup_key": key, "client_id": n, "office_id": 1, "mobile_no": "+254700000001"}
        | {"body": "Hi", "status": MessageStatus.PENDING, "encoding": "GSM7", "segments": 1, "provider": "simulator"}
        | {"created_at": NOW, "updated_at": NOW}
        for n, key in enumerate(keys, start=1)
    ]
    conn.execute(insert(messages), rows)


def test_a_prefix_is_found_by_the_keys_it_starts_and_by_no_other(engine: Engine) -> None:
    with engine.begin() as conn:
        mine, other = _campaign(conn, "mine"), _campaign(conn, "other")
        _messages(conn, mine, ["loan_repayment:1:7", "loan_repayment:1:8", "loan_repayment:12:5"])
        _messages(conn, mine, ["loan_repayment:3", "loan_repayment:4;x", "loan_repayment:5:9@2026-12-02T09:00"])
        _messages(conn, mine, ["loan_repayment:6_%:1", "loan_repayment:70:1"])
        _messages(conn, other, ["loan_repayment:2:1"])
    asked = ["loan_repayment:1:", "loan_repayment:2:", "loan_repayment:3:", "loan_repayment:4:"]
    asked += ["loan_repayment:5:", "loan_repayment:6_%:", "loan_repayment:7:", "loan_repayment:12:"]
    with engine.connect() as conn:
        counted = store.prefix_counts(conn, mine, asked)
    found = set(counted)
    assert counted["loan_repayment:1:"] == 2  # two clients of one event
    # "2:" is the other campaign's; "3" has no client part; "4;x" is past "4:" but does not start with it;
    # "7:" is not a start of "70:"; LIKE's wildcards in a prefix are plain characters.
    assert found == {"loan_repayment:1:", "loan_repayment:5:", "loan_repayment:6_%:", "loan_repayment:12:"}


def test_prefixes_beyond_one_statement_and_keys_by_exact_match(engine: Engine) -> None:
    with engine.begin() as conn:
        mine = _campaign(conn, "mine")
        _messages(conn, mine, [f"loan_repayment:{n}:{n + 1}" for n in range(0, 1000, 2)])
    with engine.connect() as conn:
        found = set(store.prefix_counts(conn, mine, [f"loan_repayment:{n}:" for n in range(1000)]))
        exact = store.existing_keys(conn, mine, [f"loan_repayment:{n}:{n + 1}" for n in range(1000)])
    assert found == {f"loan_repayment:{n}:" for n in range(0, 1000, 2)}
    assert exact == {f"loan_repayment:{n}:{n + 1}" for n in range(0, 1000, 2)}
    with engine.connect() as conn:
        assert store.prefix_counts(conn, mine, []) == {}
