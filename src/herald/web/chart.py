"""The campaign page's chart of deliveries over time: per-day bars laid out here, drawn as inline SVG.

The geometry is computed in Python so the template only places rectangles: no JavaScript and no
chart library, and the page stays readable with styles off (each bar has a <title> with its counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.services.stats import Pricing, statistics

WIDTH = 600
HEIGHT = 160
BOTTOM = 20  # room for the day labels
DAYS = 14


@dataclass(frozen=True)
class Bar:
    day: date
    delivered: int
    failed: int
    x: float
    width: float
    delivered_y: float
    delivered_height: float
    failed_y: float
    failed_height: float
    label: str  # shown under every few bars so the axis stays legible on a phone


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    peak: int
    delivered: int
    failed: int
    # The cost of the chart's days: herald's estimate (segments times the price per segment), and beside
    # it what the provider said it charged where it says (Africa's Talking), per currency.
    segments: int = 0
    estimate: float = 0.0
    currency: str = ""
    charged: tuple[tuple[str, str], ...] = ()  # (currency, amount as written)
    charged_messages: int = 0
    width: int = WIDTH
    height: int = HEIGHT
    bottom: int = BOTTOM

    @property
    def empty(self) -> bool:
        return self.delivered + self.failed == 0


def deliveries(herald: Herald, campaign_id: int, days: int = DAYS) -> Chart:
    """Delivered and failed messages per day (of creation, herald's time zone) over the last `days` days."""
    stats = statistics(
        store=herald.store,
        clock=herald.clock,
        timezone=herald.settings.timezone,
        pricing=Pricing.of(herald.settings),
        days=days,
        campaign_id=campaign_id,
    )
    per_day = [
        (day, c.by_status[MessageStatus.DELIVERED], c.by_status[MessageStatus.FAILED])
        for day, c in sorted(stats.per_day.items())
    ]
    peak = max((d + f for _, d, f in per_day), default=0)
    plot = HEIGHT - BOTTOM
    slot = WIDTH / max(len(per_day), 1)
    scale = plot / peak if peak else 0.0
    bars = []
    for i, (day, delivered, failed) in enumerate(per_day):
        delivered_height = delivered * scale
        failed_height = failed * scale
        bars.append(
            Bar(
                day=day,
                delivered=delivered,
                failed=failed,
                x=round(i * slot + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                delivered_y=round(plot - delivered_height, 1),
                delivered_height=round(delivered_height, 1),
                failed_y=round(plot - delivered_height - failed_height, 1),
                failed_height=round(failed_height, 1),
                label=day.strftime("%d %b") if (len(per_day) - 1 - i) % 3 == 0 else "",
            )
        )
    return Chart(
        bars=tuple(bars),
        peak=peak,
        delivered=sum(d for _, d, _ in per_day),
        failed=sum(f for _, _, f in per_day),
        segments=stats.billed_segments,
        estimate=stats.cost,
        currency=stats.currency,
        charged=tuple((c, f"{a:,f}") for c, a in stats.provider_costs.items()),
        charged_messages=stats.provider_costed,
    )
