"""The named queries behind /metrics: messages per status and provider, and the job runs' durations.

Cheap on purpose: a scrape every 15 s must not weigh on a store of millions of messages. The
message counts are one grouped count over the (status, provider) index; the job runs are read
incrementally, only those recorded since the last scrape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from herald.domain.campaign import CampaignStatus
from herald.domain.message import MessageStatus
from herald.store.tables import campaigns, job_runs, messages


@dataclass(frozen=True)
class StatusCount:
    status: MessageStatus
    provider: str
    count: int


@dataclass(frozen=True)
class RunTime:
    """One finished job run: its id (to read on from), its job's slug, when it started and ended."""

    id: int
    job: str
    started_at: datetime
    finished_at: datetime


def messages_by_status(conn: Connection) -> list[StatusCount]:
    """How many messages are in each status at each provider, over every campaign."""
    rows = conn.execute(
        select(messages.c.status, messages.c.provider, func.count()).group_by(messages.c.status, messages.c.provider)
    )
    return [StatusCount(MessageStatus(status), provider, int(n)) for status, provider, n in rows]


def queue_depth(conn: Connection) -> int:
    """PENDING messages of active campaigns: those the send job will hand over (a closed campaign's wait)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(messages)
            .join(campaigns, campaigns.c.id == messages.c.campaign_id)
            .where(messages.c.status == MessageStatus.PENDING, campaigns.c.status == CampaignStatus.ACTIVE)
        ).scalar_one()
    )


def runs_after(conn: Connection, after_id: int, limit: int = 50_000) -> list[RunTime]:
    """Finished job runs recorded after `after_id`, oldest first (at most `limit`: the next call reads on)."""
    rows = conn.execute(
        select(job_runs.c.id, job_runs.c.job, job_runs.c.started_at, job_runs.c.finished_at)
        .where(job_runs.c.id > after_id, job_runs.c.finished_at.is_not(None))
        .order_by(job_runs.c.id)
        .limit(limit)
    )
    return [RunTime(int(r.id), r.job, r.started_at, r.finished_at) for r in rows]
