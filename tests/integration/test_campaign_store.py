"""The campaigns table on SQLite and PostgreSQL: a campaign read back is the one stored; a move happens once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from herald.domain.campaign import Campaign, CampaignStatus, TriggerType
from herald.domain.schedule import Recurrence
from herald.rules.catalog import GATEWAY_RULE, get_rule
from herald.store import campaigns as campaign_store
from herald.store.database import make_engine, open_store, upgrade

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


def _store(db_url: str) -> Engine:
    """herald's migrated store (a server database is migrated explicitly, as `herald db upgrade` does)."""
    if not db_url.startswith("sqlite"):
        upgrade(make_engine(db_url))
    return open_store(db_url)


def _scheduled() -> Campaign:
    return Campaign(
        name="Due soon",
        tenant="kampala",
        trigger_type=TriggerType.SCHEDULE,
        rule=get_rule(170),
        params={"officeId": 2, "loanOfficerId": -1, "fromX": -3, "toY": -1},
        template="Dear {{fullName}}, {{totalDue}} is due on {{paymentDueDate}}.",
        provider="twilio",
        fallback_provider="infobip",
        sender_id="+" + "2" * 20,  # the longest sender id herald accepts (a number on an SMPP link)
        recurrence=Recurrence.parse("FREQ=DAILY", "2026-11-21T09:00", "Africa/Kampala"),
    )


def test_every_field_of_a_campaign_survives_the_round_trip(db_url: str) -> None:
    store = _store(db_url)
    chosen = _scheduled()
    with store.begin() as conn:
        new_id = campaign_store.add(conn, chosen, now=NOW)
    with store.connect() as conn:
        back = campaign_store.by_id(conn, new_id)
        assert campaign_store.by_name(conn, "Due soon") == back
    assert back == replace(chosen, id=new_id)  # record equality: a field the table loses fails here
    store.dispose()


def test_the_gateway_campaign_is_stored_active_with_its_stand_in_rule(db_url: str) -> None:
    store = _store(db_url)
    gateway = Campaign(
        name="Fineract message gateway (default)",
        tenant="default",
        trigger_type=TriggerType.GATEWAY,
        rule=GATEWAY_RULE,
        template="(rendered by Fineract)",
        provider="simulator",
        status=CampaignStatus.ACTIVE,
    )
    with store.begin() as conn:
        new_id = campaign_store.add(conn, gateway, now=NOW)
    with store.connect() as conn:
        back = campaign_store.by_id(conn, new_id)
    assert back == replace(gateway, id=new_id, activation_count=1, activated_at=NOW)  # stored active: activated now
    store.dispose()


def test_an_activation_from_a_status_the_campaign_left_changes_nothing(db_url: str) -> None:
    """Two people activating at once: the second finds it no longer Pending and moves nothing."""
    store = _store(db_url)
    with store.begin() as conn:
        new_id = campaign_store.add(conn, _scheduled(), now=NOW)
        for _ in range(2):
            campaign_store.activated(
                conn,
                new_id,
                was=CampaignStatus.PENDING,
                now=NOW,
                next_trigger_at=NOW + timedelta(hours=1),
                last_trigger_at=NOW,
            )
    with store.connect() as conn:
        back = campaign_store.by_id(conn, new_id)
    assert back is not None
    assert (back.status, back.activation_count, back.next_trigger_at) == (
        CampaignStatus.ACTIVE,
        1,
        NOW + timedelta(hours=1),
    )
    store.dispose()
