"""What a confirmation before a costly action binds to, and schedules that would message an audience more than daily.

A confirmation is a code over what the officer was shown (the campaign as it was, the failure
codes chosen, the count of messages a re-send would copy), keyed by a secret of the session: a
plain or forged post without it, or one confirmed before the campaign changed, acts on nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from herald.domain.campaign import CHOSEN, Campaign

OCCURRENCES_LOOKED_AT = 60
"""How many upcoming occurrences are read for two on one day: a rule that does so does it early."""


@dataclass(frozen=True)
class BusyDay:
    """The first local day on which a schedule runs more than once, and when."""

    day: date
    times: tuple[datetime, ...]  # local, in the schedule's zone

    def sentence(self, timezone: str) -> str:
        at = ", ".join(t.strftime("%H:%M") for t in self.times[:4]) + (", ..." if len(self.times) > 4 else "")
        return (
            f"This schedule runs {len(self.times)} times on {self.day:%a %d %b %Y} ({at} {timezone}): more often "
            "than daily, so the same clients may get this message several times a day."
        )


def busiest_day(occurrences: Sequence[datetime], timezone: str) -> BusyDay | None:
    """The first local day with two or more of these occurrences, or None if each day has at most one.

    Days, not 24-hour gaps: a daily 08:00 run is 23 hours after the last across a clock change.
    """
    zone = ZoneInfo(timezone)
    per_day: dict[date, list[datetime]] = {}
    for moment in occurrences:
        local = moment.astimezone(zone)
        per_day.setdefault(local.date(), []).append(local)
    for day in sorted(per_day):
        if len(per_day[day]) > 1:
            return BusyDay(day, tuple(sorted(per_day[day])))
    return None


def fingerprint(action: str, campaign: Campaign, *extra: object) -> str:
    """The text a confirmation is a code over: the action, where the campaign's lifecycle is, what its
    creator chose (an edit in between changes it) and any further facts shown (`extra`)."""
    chosen = [repr(getattr(campaign, name)) for name in CHOSEN if name != "rule"] + [str(campaign.rule.id)]
    parts = [action, str(campaign.id), campaign.status.name, str(campaign.activation_count), *chosen]
    return "\x1f".join([*parts, *map(repr, extra)])


def confirmation_code(secret: str, text: str) -> str:
    """The code a confirmation form carries: an HMAC of `text` under the session's secret."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def confirmed(secret: str, text: str, presented: str | None) -> bool:
    # As bytes: compare_digest refuses a str with non-ASCII characters (a forged field) with a TypeError.
    return bool(presented) and hmac.compare_digest(confirmation_code(secret, text).encode(), (presented or "").encode())
