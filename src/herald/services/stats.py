"""Statistics over herald's messages: counts per status per day, office, provider and language, delivery rate, cost.

Days are calendar days in herald's time zone (HERALD_TIMEZONE). The delivery rate is delivered
over messages with a final provider outcome (delivered + failed): messages still on their way
and Invalid ones (never sent) do not count against it. Cost is segments x HERALD_PRICE_PER_SEGMENT
over messages a provider accepted (they have the provider's id), which is what a provider bills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from herald.clock import Clock
from herald.config import Settings
from herald.domain.message import OUTCOMES, MessageStatus
from herald.services.resend import MARK
from herald.store import stats as stats_store


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
class Pricing:
    """What a provider bills: a price per segment of an accepted message, in one currency."""

    per_segment: float
    currency: str

    @classmethod
    def of(cls, settings: Settings) -> Pricing:
        return cls(settings.price_per_segment, settings.price_currency)


@dataclass(frozen=True)
class Statistics:
    first_day: date
    last_day: date
    timezone: str
    per_day: dict[date, Counts]
    per_office: dict[tuple[str, int | None], Counts]  # (tenant, office id)
    per_provider: dict[str, Counts]
    totals: Counts
    resends: Counts  # the re-sends among the totals (manual, and the policy's for failures that pass)
    delivery_rate: float | None  # None while nothing has a final outcome
    billed_segments: int
    cost: float
    currency: str
    price_per_segment: float
    # What the providers said they charged (Africa's Talking's send answers), per currency, beside the
    # estimate above; and how many of the messages the providers priced (the others are estimate only).
    provider_costs: dict[str, Decimal] = field(default_factory=dict)
    provider_costed: int = 0
    per_language: dict[str | None, Counts] = field(default_factory=dict)  # None: no language named
    language_segments: dict[str | None, int] = field(default_factory=dict)  # billed segments per language


def statistics(
    *,
    store: Engine,
    clock: Clock,
    timezone: str,
    pricing: Pricing,
    days: int = 30,
    campaign_id: int | None = None,
) -> Statistics:
    """The last `days` days up to today (in `timezone`, herald's), of every campaign or one."""
    zone = ZoneInfo(timezone)
    now = clock.now()
    last_day = now.astimezone(zone).date()
    first_day = last_day - timedelta(days=days - 1)
    window = stats_store.Window(datetime.combine(first_day, time(0), zone).astimezone(UTC), campaign_id)
    per_day = {first_day + timedelta(days=i): Counts() for i in range(days)}
    per_office: dict[tuple[str, int | None], Counts] = {}
    per_provider: dict[str, Counts] = {}
    totals = Counts()
    with store.connect() as conn:
        for d in stats_store.per_day(conn, window, zone, now):
            if d.day in per_day:
                per_day[d.day].add(d.status, d.count)
            totals.add(d.status, d.count)
        for o in stats_store.per_office(conn, window):
            per_office.setdefault((o.tenant, o.office_id), Counts()).add(o.status, o.count)
        for p in stats_store.per_provider(conn, window):
            per_provider.setdefault(p.provider, Counts()).add(p.status, p.count)
        per_language: dict[str | None, Counts] = {}
        language_segments: dict[str | None, int] = {}
        for lang in stats_store.per_language(conn, window):
            per_language.setdefault(lang.language, Counts()).add(lang.status, lang.count)
            language_segments[lang.language] = language_segments.get(lang.language, 0) + lang.billed_segments
        billed = stats_store.billed_segments(conn, window)
        charged, costed = stats_store.provider_costs(conn, window)
        resends = Counts()
        for status, n in stats_store.resends(conn, window, MARK).items():
            resends.add(status, n)
    delivered = totals.by_status[MessageStatus.DELIVERED]
    finished = sum(totals.by_status[s] for s in OUTCOMES)
    return Statistics(
        first_day=first_day,
        last_day=last_day,
        timezone=timezone,
        per_day=per_day,
        per_office=dict(sorted(per_office.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))),
        per_provider=dict(sorted(per_provider.items())),
        totals=totals,
        resends=resends,
        delivery_rate=round(delivered / finished, 4) if finished else None,
        billed_segments=billed,
        cost=round(billed * pricing.per_segment, 4),
        currency=pricing.currency,
        price_per_segment=pricing.per_segment,
        provider_costs=charged,
        provider_costed=costed,
        per_language=dict(sorted(per_language.items(), key=lambda kv: kv[0] or "")),
        language_segments=language_segments,
    )


def language_counts(*, store: Engine, campaign_id: int) -> dict[str | None, tuple[Counts, int]]:
    """One campaign's messages per template language, all time: counts per status and billed segments."""
    found: dict[str | None, tuple[Counts, int]] = {}
    with store.connect() as conn:
        for lang in stats_store.per_language(conn, stats_store.Window(_EPOCH, campaign_id)):
            counts, billed = found.get(lang.language, (Counts(), 0))
            counts.add(lang.status, lang.count)
            found[lang.language] = (counts, billed + lang.billed_segments)
    return dict(sorted(found.items(), key=lambda kv: kv[0] or ""))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
