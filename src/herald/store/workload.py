"""What is left for the jobs to do, as the worker's `--until-idle` asks: open messages and due campaigns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import IN_FLIGHT
from herald.store.tables import campaigns, messages


def open_messages(conn: Connection) -> int:
    """Messages of active campaigns still to send or still waiting for their last report."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(messages)
            .join(campaigns, campaigns.c.id == messages.c.campaign_id)
            .where(campaigns.c.status == CampaignStatus.ACTIVE, messages.c.status.in_(sorted(IN_FLIGHT)))
        ).scalar_one()
    )


def due_campaigns(conn: Connection, now: datetime) -> int:
    """Active Direct and Scheduled campaigns whose next occurrence is due."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(campaigns)
            .where(
                campaigns.c.status == CampaignStatus.ACTIVE,
                campaigns.c.trigger_type.in_([TriggerType.DIRECT, TriggerType.SCHEDULE]),
                campaigns.c.next_trigger_at <= now,
            )
        ).scalar_one()
    )
