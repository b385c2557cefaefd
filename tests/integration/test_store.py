"""herald's own storage on SQLite and PostgreSQL: migrations, dedup inserts, claims, reports in any order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.domain.sending import Accepted
from herald.errors import ConfigurationError
from herald.store import installation
from herald.store import messages as store
from herald.store import reports as report_store
from herald.store.database import alembic_config, current_revision, head_revision, make_engine, open_store, upgrade
from herald.store.messages import NEW_MESSAGE_COLUMNS
from herald.store.tables import campaigns, messages, metadata, parked_reports

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def _campaign(engine: Engine, status: CampaignStatus = CampaignStatus.ACTIVE) -> int:
    with engine.begin() as conn:
        key = conn.execute(
            insert(campaigns).values(
                name=f"c{status}",
                trigger_type=TriggerType.DIRECT,
                rule_id=166,
                params={"officeId": 1},
                template="Hi",
                provider="simulator",
                status=status,
                created_at=NOW,
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def _message(cid: int, key: str, **extra: Any) -> dict[str, Any]:
    row = {
        "campaign_id": cid,
        "dedup_key": key,
        "client_id": 1,
        "office_id": 1,
        "mobile_no": "+254712345678",
        "body": "Hi",
        "status": MessageStatus.PENDING,
        "reason": None,
        "encoding": "GSM-7",
        "segments": 1,
        "provider": "simulator",
        "attempts": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(extra)
    return row


def _row(cid: int, key: str) -> tuple[Any, ...]:
    record = _message(cid, key)
    return tuple(record.get(c) for c in NEW_MESSAGE_COLUMNS)  # language: None


def _put(conn: Any, *records: dict[str, Any]) -> None:
    conn.execute(insert(messages), list(records))


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    # Server defaults too: a column added with a default fills the rows that already exist, so a default
    # that differs between a migration and tables.py gives upgraded and fresh databases different data.
    options = {"compare_type": True, "compare_server_default": True}
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts=options), metadata) == []
    assert current_revision(engine) == head_revision()


def test_a_fresh_sqlite_file_is_migrated_on_open(tmp_path: Any) -> None:
    engine = open_store(f"sqlite:///{tmp_path}/sub/herald.sqlite")
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.postgres
def test_an_unmigrated_postgres_database_is_refused_with_the_command_to_run(pg_url: str) -> None:
    with pytest.raises(ConfigurationError, match="herald db upgrade"):
        open_store(pg_url)


def test_the_same_dedup_key_is_never_stored_twice(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        assert store.insert_new(conn, [_row(cid, "client:1"), _row(cid, "client:2")]) == 2
    with engine.begin() as conn:
        assert store.insert_new(conn, [_row(cid, "client:2"), _row(cid, "client:3")]) == 1
    with engine.connect() as conn:
        keys = sorted(r.dedup_key for r in conn.execute(select(messages.c.dedup_key)))
    assert keys == ["client:1", "client:2", "client:3"]


def test_claims_lease_messages_so_a_second_claim_gets_none(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        _put(conn, *[_message(cid, f"k{i}") for i in range(5)])
    with engine.begin() as conn:
        first = store.claim_pending(conn, NOW, 10, timedelta(minutes=5))
    with engine.begin() as conn:
        second = store.claim_pending(conn, NOW, 10, timedelta(minutes=5))
    assert len(first) == 5 and second == []
    assert {m.attempts for m in first} == {1}
    with engine.begin() as conn:  # the lease runs out: the messages can be claimed again
        assert len(store.claim_pending(conn, NOW + timedelta(minutes=6), 10, timedelta(minutes=5))) == 5


def test_messages_of_closed_campaigns_are_not_claimed(engine: Engine) -> None:
    cid = _campaign(engine, CampaignStatus.CLOSED)
    with engine.begin() as conn:
        _put(conn, _message(cid, "k"))
        assert store.claim_pending(conn, NOW, 10, timedelta(minutes=5)) == []


def _status(engine: Engine, ext: str) -> MessageStatus:
    with engine.connect() as conn:
        return MessageStatus(conn.execute(select(messages.c.status).where(messages.c.external_id == ext)).scalar_one())


def test_reports_apply_idempotently_and_never_move_backwards(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        _put(conn, _message(cid, "k"))
        [claimed] = store.claim_pending(conn, NOW, 1, timedelta(minutes=5))
        store.mark_accepted(conn, [Accepted(claimed.id, "simulator", "EXT1")], NOW)
    delivered = DeliveryReport("EXT1", MessageStatus.DELIVERED, NOW)
    sent = DeliveryReport("EXT1", MessageStatus.SENT, NOW)
    failed = DeliveryReport("EXT1", MessageStatus.FAILED, NOW, "30003", "Unreachable")
    with engine.begin() as conn:
        assert store.apply_reports(conn, "simulator", [delivered], NOW) == 1
        assert store.apply_reports(conn, "simulator", [delivered, sent, failed], NOW) == 0
    assert _status(engine, "EXT1") is MessageStatus.DELIVERED


def test_a_report_for_another_provider_with_the_same_id_changes_nothing(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        _put(conn, _message(cid, "k", status=MessageStatus.WAITING_FOR_DELIVERY_REPORT, external_id="X"))
        assert store.apply_reports(conn, "twilio", [DeliveryReport("X", MessageStatus.DELIVERED, NOW)], NOW) == 0
    assert _status(engine, "X") is MessageStatus.WAITING_FOR_DELIVERY_REPORT


def test_failed_reports_keep_the_provider_code_and_text(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        _put(conn, _message(cid, "k", status=MessageStatus.SENT, external_id="X"))
        store.apply_reports(
            conn, "simulator", [DeliveryReport("X", MessageStatus.FAILED, NOW, "30005", "Unknown")], NOW
        )
        row = conn.execute(select(messages)).one()
    assert (row.status, row.error_code, row.error_text) == (MessageStatus.FAILED, "30005", "Unknown")
    assert row.updated_at == NOW


def test_many_reports_apply_in_one_call(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        _put(
            conn,
            *[
                _message(cid, f"k{i}", status=MessageStatus.WAITING_FOR_DELIVERY_REPORT, external_id=f"E{i}")
                for i in range(3)
            ],
        )
        reports = [DeliveryReport(f"E{i}", MessageStatus.DELIVERED, NOW) for i in range(3)]
        assert store.apply_reports(conn, "simulator", reports, NOW) == 3


def test_messages_of_pushing_providers_are_polled_only_after_a_quiet_spell(engine: Engine) -> None:
    cid = _campaign(engine)
    waiting = MessageStatus.WAITING_FOR_DELIVERY_REPORT
    with engine.begin() as conn:
        _put(
            conn,
            _message(cid, "a", status=waiting, external_id="SM-fresh", provider="twilio", updated_at=NOW),
            _message(
                cid, "b", status=waiting, external_id="SM-quiet", provider="twilio", updated_at=NOW - timedelta(hours=1)
            ),
            _message(cid, "c", status=waiting, external_id="SIM-1", provider="simulator", updated_at=NOW),
        )
        every = store.awaiting_reports(conn, 100)
        polled = store.awaiting_reports(conn, 100, pushing=["twilio"], quiet_since=NOW - timedelta(minutes=10))
    assert [ext for _, _, ext in every] == ["SM-fresh", "SM-quiet", "SIM-1"]
    assert [ext for _, _, ext in polled] == ["SM-quiet", "SIM-1"]


def test_an_upgraded_database_gets_an_installation_id_and_its_old_references_still_get_their_reports(
    db_url: str,
) -> None:
    """A message in flight at the upgrade went out as herald-<id>-<attempt>: its report must still land."""
    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    cid = _campaign(engine)
    with engine.begin() as conn:
        _put(conn, _message(cid, "k1", provider="infobip"))
        store.mark_accepted(conn, [Accepted(1, "infobip", "herald-1-1")], NOW)
    upgrade(engine)
    with engine.connect() as conn:
        mine = installation.identity(conn)
    assert len(mine.id) == 16 and int(mine.id, 16) >= 0
    with engine.begin() as conn:
        report = DeliveryReport("herald-1-1", MessageStatus.DELIVERED, NOW)
        assert report_store.record(conn, "infobip", [report], NOW) == 1
        assert conn.execute(select(messages.c.status)).scalar_one() == MessageStatus.DELIVERED


def test_a_report_found_or_parked_under_another_provider_of_the_account_reaches_the_sender(engine: Engine) -> None:
    cid = _campaign(engine)
    group = {"ib-a": ["ib-a", "ib-b"], "ib-b": ["ib-b", "ib-a"]}
    with engine.begin() as conn:
        _put(conn, _message(cid, "k1", provider="ib-a"), _message(cid, "k2", provider="ib-a"))
        store.mark_accepted(conn, [Accepted(1, "ib-a", "r-1")], NOW)
        early = DeliveryReport("r-2", MessageStatus.FAILED, NOW, "1", "EC_UNKNOWN_SUBSCRIBER")
        # ib-b pulls both reports: r-1's message is known under ib-a, r-2's send is not recorded yet.
        on_time = DeliveryReport("r-1", MessageStatus.DELIVERED, NOW)
        assert report_store.record(conn, "ib-b", [on_time, early], NOW, sharing=group["ib-b"]) == 1
        assert conn.execute(select(parked_reports.c.provider)).scalars().all() == ["ib-b"]
        store.mark_accepted(conn, [Accepted(2, "ib-a", "r-2")], NOW)
        assert report_store.adopt_parked(conn, [("ib-a", "r-2")], NOW, sharing=group.__getitem__) == 1
        assert conn.execute(select(parked_reports.c.id)).all() == []
        statuses = conn.execute(select(messages.c.status).order_by(messages.c.id)).scalars().all()
    assert statuses == [MessageStatus.DELIVERED, MessageStatus.FAILED]
