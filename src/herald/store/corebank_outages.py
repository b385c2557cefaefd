"""The core banks a worker cannot read, in herald's store: one row per tenant from the first failure to the recovery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from herald.domain.jobs import Job
from herald.store.tables import corebank_outages


@dataclass(frozen=True)
class Outage:
    """A tenant's core bank that cannot be read: the job that met it, the sentence saying why, since when."""

    tenant: str
    job: Job
    reason: str
    since: datetime
    checked_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Outage:
        return cls(row.tenant, Job.from_slug(row.job), row.reason, row.since, row.checked_at)


def broken(conn: Connection, tenant: str, job: Job, reason: str, now: datetime) -> Outage | None:
    """Record that `tenant`'s core bank failed now; return the outage it began (None if it was already on).

    An outage that goes on keeps its `since`, and takes the latest reason (the server may have
    gone from refusing the login to not answering at all).
    """
    known = conn.execute(select(corebank_outages).where(corebank_outages.c.tenant == tenant)).first()
    if known is not None:
        conn.execute(
            update(corebank_outages)
            .where(corebank_outages.c.tenant == tenant)
            .values(job=job.slug, reason=reason, checked_at=now)
        )
        return None
    conn.execute(insert(corebank_outages).values(tenant=tenant, job=job.slug, reason=reason, since=now, checked_at=now))
    return Outage(tenant, job, reason, now, now)


def readable(conn: Connection, tenant: str) -> Outage | None:
    """Record that `tenant`'s core bank was read; return the outage that just ended, if one was on."""
    known = conn.execute(select(corebank_outages).where(corebank_outages.c.tenant == tenant)).first()
    if known is None:
        return None
    conn.execute(delete(corebank_outages).where(corebank_outages.c.tenant == tenant))
    return Outage.from_row(known)


def current(conn: Connection) -> list[Outage]:
    """Every outage going on, the oldest first."""
    rows = conn.execute(select(corebank_outages).order_by(corebank_outages.c.since, corebank_outages.c.tenant))
    return [Outage.from_row(r) for r in rows]
