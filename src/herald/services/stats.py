"""Statistics over herald's messages: counts per status per day, per office and per provider, delivery rate, cost.

Days are calendar days in herald's time zone (HERALD_TIMEZONE). The delivery rate is delivered
over messages with a final provider outcome (delivered + failed): messages still on their way
and Invalid ones (never sent) do not count against it. Cost is segments x HERALD_PRICE_PER_SEGMENT
over messages a provider accepted (they have the provider's id), which is what a provider bills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, func, select

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.store.tables import campaigns, messages


@dataclass
class Counts:
    """Messages per status (Fineract codes) in one group."""

    by_status: dict[MessageStatus, int] = field(default_factory=lambda: {s: 0 for s in MessageStatus})

    def add(self, status: int, n: int) -> None:
        self.by_status[MessageStatus(status)] += n

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Statistics:
    first_day: date
    last_day: date
    timezone: str
    per_day: dict[date, Counts]
    per_office: dict[tuple[str, int | None], Counts]  # (tenant, office id)
    per_provider: dict[str, Counts]
    totals: Counts
    delivery_rate: float | None  # None while nothing has a final outcome
    billed_segments: int
    cost: float
    currency: str
    price_per_segment: float


def _local_day(conn: Connection, zone: ZoneInfo, now: datetime) -> ColumnElement[Any]:
    """The local calendar day of messages.created_at, computed by the database."""
    if conn.dialect.name == "postgresql":
        return func.date(func.timezone(zone.key, messages.c.created_at))
    # SQLite keeps UTC text; herald's zones (East Africa) keep one offset all year, so the current one is exact.
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    return func.date(messages.c.created_at, f"{int(offset.total_seconds() // 60):+d} minutes")


def statistics(herald: Herald, days: int = 30, campaign_id: int | None = None) -> Statistics:
    """The last `days` days up to today (herald's time zone), of every campaign or one."""
    settings = herald.settings
    zone = ZoneInfo(settings.timezone)
    now = herald.clock.now()
    last_day = now.astimezone(zone).date()
    first_day = last_day - timedelta(days=days - 1)
    since = datetime.combine(first_day, time(0), zone).astimezone(UTC)
    where: list[ColumnElement[bool]] = [messages.c.created_at >= since]
    if campaign_id is not None:
        where.append(messages.c.campaign_id == campaign_id)
    per_day = {first_day + timedelta(days=i): Counts() for i in range(days)}
    per_office: dict[tuple[str, int | None], Counts] = {}
    per_provider: dict[str, Counts] = {}
    totals = Counts()
    with herald.store.connect() as conn:
        day = _local_day(conn, zone, now)
        for value, status, n in conn.execute(
            select(day, messages.c.status, func.count()).where(*where).group_by(day, messages.c.status)
        ):
            key = value if isinstance(value, date) else date.fromisoformat(str(value))
            if key in per_day:
                per_day[key].add(status, n)
            totals.add(status, n)
        for tenant, office, status, n in conn.execute(
            select(campaigns.c.tenant, messages.c.office_id, messages.c.status, func.count())
            .join(campaigns, campaigns.c.id == messages.c.campaign_id)
            .where(*where)
            .group_by(campaigns.c.tenant, messages.c.office_id, messages.c.status)
        ):
            per_office.setdefault((tenant, office), Counts()).add(status, n)
        for provider, status, n in conn.execute(
            select(messages.c.provider, messages.c.status, func.count())
            .where(*where)
            .group_by(messages.c.provider, messages.c.status)
        ):
            per_provider.setdefault(provider, Counts()).add(status, n)
        billed = conn.execute(
            select(func.coalesce(func.sum(messages.c.segments), 0)).where(*where, messages.c.external_id.is_not(None))
        ).scalar_one()
    delivered = totals.by_status[MessageStatus.DELIVERED]
    finished = delivered + totals.by_status[MessageStatus.FAILED]
    return Statistics(
        first_day=first_day,
        last_day=last_day,
        timezone=settings.timezone,
        per_day=per_day,
        per_office=dict(sorted(per_office.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))),
        per_provider=dict(sorted(per_provider.items())),
        totals=totals,
        delivery_rate=round(delivered / finished, 4) if finished else None,
        billed_segments=int(billed),
        cost=round(int(billed) * settings.price_per_segment, 4),
        currency=settings.price_currency,
        price_per_segment=settings.price_per_segment,
    )
