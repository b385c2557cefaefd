"""The Messages page's store queries on SQLite and PostgreSQL: error code, exact number, clients of one tenant
(a client id means a person only in its own core bank), the re-send chain and who re-sent it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.store import message_history
from herald.store import search as store
from herald.store.audit import AuditEntry, append
from herald.store.database import make_engine, upgrade
from herald.store.tables import campaigns, messages

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def campaign(conn: Any, name: str, tenant: str) -> int:
    values = {"name": name, "tenant": tenant, "trigger_type": TriggerType.DIRECT, "rule_id": 166, "params": {}}
    values |= {"template": "Hi", "provider": "simulator", "status": CampaignStatus.ACTIVE, "created_at": NOW}
    key = conn.execute(insert(campaigns).values(**values)).inserted_primary_key
    return int(key[0])


def message(conn: Any, campaign_id: int, key: str, client_id: int, number: str, **extra: Any) -> int:
    values = {"campaign_id": campaign_id, "dedup_key": key, "client_id": client_id, "office_id": 1}
    values |= {"mobile_no": number, "body": "Hi", "status": MessageStatus.PENDING, "encoding": "GSM7"}
    values |= {"segments": 1, "provider": "simulator", "created_at": NOW, "updated_at": NOW, **extra}
    return int(conn.execute(insert(messages).values(**values)).inserted_primary_key[0])


def ids(engine: Engine, query: store.MessageQuery) -> set[int]:
    with engine.connect() as conn:
        found = store.page(conn, query, 100, 0)
        assert store.count(conn, query) == len(found)
        return {m.id for m in found}


def test_search_by_code_number_and_clients_of_one_tenant(engine: Engine) -> None:
    with engine.begin() as conn:
        nairobi, kampala = campaign(conn, "Nairobi", "default"), campaign(conn, "Kampala", "uganda")
        a = message(conn, nairobi, "a", 7, "+254712345678", status=MessageStatus.FAILED, error_code="30003")
        b = message(conn, kampala, "b", 7, "+256772345678")  # client 7 of another core bank: someone else
        c = message(conn, nairobi, "c", 8, "+254712345678")
    assert ids(engine, store.MessageQuery(error_code="30003")) == {a}
    assert ids(engine, store.MessageQuery(number="+254712345678")) == {a, c}
    assert ids(engine, store.MessageQuery(clients=(("default", (7,)),))) == {a}
    assert ids(engine, store.MessageQuery(clients=(("default", (7, 8)), ("uganda", (7,))))) == {a, b, c}
    assert ids(engine, store.MessageQuery(clients=(("default", ()),))) == set()  # nobody so named
    assert ids(engine, store.MessageQuery(clients=())) == set()
    assert ids(engine, store.MessageQuery(number="+254712345678", clients=(("default", (8,)),))) == {c}


def test_the_chain_and_who_resent_it(engine: Engine) -> None:
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        cid = campaign(conn, "Reminders", "default")
        first = message(conn, cid, "loan:7_1%", 7, "+254712345678", status=MessageStatus.FAILED)
        copy = message(conn, cid, "loan:7_1%#resend-1", 7, "+254712345678", created_at=later)
        message(conn, cid, "loan:7_10", 7, "+254712345678")  # "_" and "%" are not wildcards
        entry = AuditEntry("campaign.resend", "manager", "ui", target="Reminders", detail={"id": cid, "resent": 1})
        append(conn, entry, later)
        append(conn, AuditEntry("campaign.resend", "other", "ui", detail={"id": cid + 1}), later)
    with engine.connect() as conn:
        chain = message_history.chain(conn, cid, "loan:7_1%", "#resend-")
        made = message_history.resends_at(conn, cid, [link.created_at for link in chain])
        key = conn.execute(select(messages.c.dedup_key).where(messages.c.id == copy)).scalar_one()
    assert [link.id for link in chain] == [first, copy] and key == "loan:7_1%#resend-1"
    assert list(made) == [later] and made[later].actor == "manager" and made[later].via == "ui"
