"""Counting herald's messages for the statistics: per local day, office, provider and language, and billed segments.

Each query counts messages created since an instant, of every campaign or one, grouped by status;
the service adds the groups up. Days are computed by the database in the given time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, case, func, select

from herald.domain.message import MessageStatus
from herald.store.tables import campaigns, messages


@dataclass(frozen=True)
class Window:
    """Which messages count: created at or after `since`, of one campaign or (None) all."""

    since: datetime
    campaign_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [messages.c.created_at >= self.since]
        if self.campaign_id is not None:
            found.append(messages.c.campaign_id == self.campaign_id)
        return found


@dataclass(frozen=True)
class DayCount:
    day: date
    status: MessageStatus
    count: int


@dataclass(frozen=True)
class OfficeCount:
    tenant: str
    office_id: int | None
    status: MessageStatus
    count: int


@dataclass(frozen=True)
class ProviderCount:
    provider: str
    status: MessageStatus
    count: int


def _local_day(conn: Connection, zone: ZoneInfo, now: datetime) -> ColumnElement[Any]:
    """The local calendar day of messages.created_at, computed by the database."""
    if conn.dialect.name == "postgresql":
        return func.date(func.timezone(zone.key, messages.c.created_at))
    # SQLite keeps UTC text; herald's zones (East Africa) keep one offset all year, so the current one is exact.
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    return func.date(messages.c.created_at, f"{int(offset.total_seconds() // 60):+d} minutes")


def per_day(conn: Connection, window: Window, zone: ZoneInfo, now: datetime) -> list[DayCount]:
    """Messages per local day (in `zone`) and status."""
    day = _local_day(conn, zone, now)
    query = select(day, messages.c.status, func.count()).where(*window.conditions()).group_by(day, messages.c.status)
    return [
        DayCount(value if isinstance(value, date) else date.fromisoformat(str(value)), MessageStatus(status), n)
        for value, status, n in conn.execute(query)
    ]


def per_office(conn: Connection, window: Window) -> list[OfficeCount]:
    """Messages per (campaign tenant, office) and status."""
    query = (
        select(campaigns.c.tenant, messages.c.office_id, messages.c.status, func.count())
        .join(campaigns, campaigns.c.id == messages.c.campaign_id)
        .where(*window.conditions())
        .group_by(campaigns.c.tenant, messages.c.office_id, messages.c.status)
    )
    return [OfficeCount(t, office, MessageStatus(s), n) for t, office, s, n in conn.execute(query)]


def per_provider(conn: Connection, window: Window) -> list[ProviderCount]:
    """Messages per provider and status."""
    query = (
        select(messages.c.provider, messages.c.status, func.count())
        .where(*window.conditions())
        .group_by(messages.c.provider, messages.c.status)
    )
    return [ProviderCount(p, MessageStatus(s), n) for p, s, n in conn.execute(query)]


@dataclass(frozen=True)
class LanguageCount:
    language: str | None  # None: a message of a campaign's one unnamed template, or Fineract's own (gateway)
    status: MessageStatus
    count: int
    billed_segments: int  # of those a provider accepted


def per_language(conn: Connection, window: Window) -> list[LanguageCount]:
    """Messages per template language and status, with the segments a provider billed."""
    billed = func.coalesce(func.sum(case((messages.c.external_id.is_not(None), messages.c.segments), else_=0)), 0)
    query = (
        select(messages.c.language, messages.c.status, func.count(), billed)
        .where(*window.conditions())
        .group_by(messages.c.language, messages.c.status)
    )
    return [LanguageCount(lang, MessageStatus(s), n, int(b)) for lang, s, n, b in conn.execute(query)]


def resends(conn: Connection, window: Window, mark: str) -> dict[MessageStatus, int]:
    """Messages per status whose dedup key holds `mark` (the re-sends of a chain)."""
    query = (
        select(messages.c.status, func.count())
        .where(*window.conditions(), messages.c.dedup_key.contains(mark, autoescape=True))
        .group_by(messages.c.status)
    )
    return {MessageStatus(status): n for status, n in conn.execute(query)}


def billed_segments(conn: Connection, window: Window) -> int:
    """Segments of the messages a provider accepted (they carry the provider's id): what a provider bills."""
    query = select(func.coalesce(func.sum(messages.c.segments), 0)).where(
        *window.conditions(), messages.c.external_id.is_not(None)
    )
    return int(conn.execute(query).scalar_one())


def provider_costs(conn: Connection, window: Window) -> tuple[dict[str, Decimal], int]:
    """What providers said they charged (per currency), and for how many messages they said it."""
    query = (
        select(messages.c.provider_cost_currency, func.sum(messages.c.provider_cost), func.count())
        .where(*window.conditions(), messages.c.provider_cost.is_not(None))
        .group_by(messages.c.provider_cost_currency)
    )
    totals: dict[str, Decimal] = {}
    counted = 0
    for currency, amount, n in conn.execute(query):
        # SQLite sums NUMERIC as a float: rounded to the column's six places, it is the exact sum again.
        totals[str(currency or "")] = Decimal(str(amount)).quantize(Decimal("0.000001")).normalize()
        counted += int(n)
    return dict(sorted(totals.items())), counted
