"""The campaigns table: campaigns in and out as `domain.campaign.Campaign` records, through named queries.

A campaign's row is converted to the record in `_campaign` and back in `_chosen`, nowhere else. A
field of the record is the column of the same name unless it is in `_SHAPED`, so a new plain field
(a sender id) needs its column in `tables.py` and nothing here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from herald.domain.business_rule import BusinessRule
from herald.domain.campaign import CHOSEN, Campaign, CampaignStatus, TriggerType
from herald.domain.schedule import Recurrence
from herald.rules.catalog import GATEWAY_RULE, get_rule
from herald.store.tables import campaigns, messages

_SHAPED = frozenset({"trigger_type", "rule", "params", "recurrence", "status", "translations"})
"""Campaign fields stored in a column of another shape, or in several; every other field is its own column."""
_CHOSEN_COLUMNS = tuple(f for f in CHOSEN if f not in _SHAPED)
_KEPT_COLUMNS = tuple(f.name for f in fields(Campaign) if f.name not in _SHAPED and f.name not in CHOSEN)


def _rule(trigger_type: TriggerType, rule_id: int) -> BusinessRule:
    return GATEWAY_RULE if trigger_type is TriggerType.GATEWAY else get_rule(rule_id)


def _campaign(row: Row[Any]) -> Campaign:
    trigger_type = TriggerType(row.trigger_type)
    recurrence = None
    if row.recurrence:
        recurrence = Recurrence.parse(row.recurrence, row.recurrence_start, row.timezone)
    stored = row._mapping
    return Campaign(
        **{name: stored[name] for name in (*_CHOSEN_COLUMNS, *_KEPT_COLUMNS)},
        trigger_type=trigger_type,
        rule=_rule(trigger_type, row.rule_id),
        params=dict(row.params),
        translations=tuple((str(code), str(text)) for code, text in row.translations or ()),
        status=CampaignStatus(row.status),
        recurrence=recurrence,
    )


def _chosen(campaign: Campaign) -> dict[str, Any]:
    """The columns of what a campaign's creator chose (see `domain.campaign.CHOSEN`)."""
    recurrence = campaign.recurrence
    return {name: getattr(campaign, name) for name in _CHOSEN_COLUMNS} | {
        "trigger_type": int(campaign.trigger_type),
        "rule_id": campaign.rule.id,
        "params": dict(campaign.params),
        "translations": [list(pair) for pair in campaign.translations] or None,
        "recurrence": recurrence.rule if recurrence else None,
        "recurrence_start": recurrence.start if recurrence else None,
        "timezone": recurrence.timezone if recurrence else None,
    }


def add(conn: Connection, campaign: Campaign, *, now: datetime) -> int:
    """Store a new campaign in the status it carries (an Active one counts as activated now); its id."""
    active = campaign.status is CampaignStatus.ACTIVE
    key = conn.execute(
        insert(campaigns).values(
            **_chosen(campaign),
            status=int(campaign.status),
            created_at=now,
            activated_at=now if active else None,
            activation_count=1 if active else 0,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def by_id(conn: Connection, campaign_id: int) -> Campaign | None:
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).first()
    return _campaign(row) if row is not None else None


def by_name(conn: Connection, name: str) -> Campaign | None:
    row = conn.execute(select(campaigns).where(campaigns.c.name == name)).first()
    return _campaign(row) if row is not None else None


def name_taken(conn: Connection, name: str, *, except_id: int | None = None) -> bool:
    query = select(campaigns.c.id).where(campaigns.c.name == name)
    if except_id is not None:
        query = query.where(campaigns.c.id != except_id)
    return conn.execute(query).first() is not None


def all_campaigns(conn: Connection) -> list[Campaign]:
    return [_campaign(r) for r in conn.execute(select(campaigns).order_by(campaigns.c.id))]


def active_ids(conn: Connection, trigger_types: Collection[TriggerType]) -> list[int]:
    """The ids of the active campaigns of these trigger types, oldest first."""
    query = (
        select(campaigns.c.id)
        .where(campaigns.c.status == CampaignStatus.ACTIVE, campaigns.c.trigger_type.in_(list(trigger_types)))
        .order_by(campaigns.c.id)
    )
    return list(conn.execute(query).scalars())


def due_ids(conn: Connection, now: datetime) -> set[int]:
    """The active Direct and Scheduled campaigns whose next trigger has come: what the worker watches for."""
    query = select(campaigns.c.id).where(
        campaigns.c.status == CampaignStatus.ACTIVE,
        campaigns.c.trigger_type.in_([TriggerType.DIRECT, TriggerType.SCHEDULE]),
        campaigns.c.next_trigger_at <= now,
    )
    return set(conn.execute(query).scalars())


def listening(conn: Connection, *, tenant: str, rule_ids: Collection[int]) -> list[Campaign]:
    """The tenant's active Triggered campaigns running one of these rules: those a Fineract event reaches."""
    query = (
        select(campaigns)
        .where(
            campaigns.c.tenant == tenant,
            campaigns.c.status == CampaignStatus.ACTIVE,
            campaigns.c.trigger_type == TriggerType.TRIGGERED,
            campaigns.c.rule_id.in_(list(rule_ids)),
        )
        .order_by(campaigns.c.id)
    )
    return [_campaign(r) for r in conn.execute(query)]


def replace_chosen(conn: Connection, campaign_id: int, campaign: Campaign) -> None:
    """An edit: store what the creator chose anew, leaving the lifecycle where it is."""
    conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**_chosen(campaign)))


def activated(
    conn: Connection,
    campaign_id: int,
    *,
    was: CampaignStatus,
    now: datetime,
    next_trigger_at: datetime | None,
    last_trigger_at: datetime | None,
) -> None:
    """(Re)activated at `now`, if it is still in status `was` (two clicks at once activate it once)."""
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.status == was)
        .values(
            status=CampaignStatus.ACTIVE,
            activated_at=now,
            closed_at=None,
            activation_count=campaigns.c.activation_count + 1,
            next_trigger_at=next_trigger_at,
            last_trigger_at=last_trigger_at,
        )
    )


def closed(conn: Connection, campaign_id: int, *, now: datetime) -> None:
    """Closed at `now` if it is active; nothing is due any more."""
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.status == CampaignStatus.ACTIVE)
        .values(status=CampaignStatus.CLOSED, closed_at=now, next_trigger_at=None)
    )


def advanced(
    conn: Connection, campaign_id: int, *, last_trigger_at: datetime, next_trigger_at: datetime | None
) -> None:
    """An occurrence was materialized: move the trigger dates on, unless it was closed meanwhile."""
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.status == CampaignStatus.ACTIVE)
        .values(last_trigger_at=last_trigger_at, next_trigger_at=next_trigger_at)
    )


def remove(conn: Connection, campaign_id: int) -> int:
    """Delete a campaign with its messages; how many messages went."""
    gone = conn.execute(delete(messages).where(messages.c.campaign_id == campaign_id)).rowcount
    conn.execute(delete(campaigns).where(campaigns.c.id == campaign_id))
    return int(gone)
