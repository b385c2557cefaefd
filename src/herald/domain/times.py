"""How herald writes an instant: local wall-clock time with its zone for people, ISO-8601 UTC for machines.

Every page, the CLI and the exports go through these few functions, so an officer reading a
campaign in the UI and the IT person reading `herald campaigns show` see the same "15:07 EAT",
and a script reading JSON or CSV always gets "2026-11-20T12:07:00Z", whatever the zone.
Which zone a campaign's times are in is `campaign_zone`: its schedule's own zone, else the
time zone of the office its rule is narrowed to, else the institution's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from herald.domain.campaign import Campaign

DEFAULT_FORMAT = "%d %b %Y %H:%M"


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; herald only ever stores UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def zone_label(value: datetime, zone: str) -> str:
    """The zone's abbreviation at `value` ("EAT", "GMT", "BST"); "UTC+03" where tzdata has only a number."""
    local = _aware(value).astimezone(ZoneInfo(zone))
    abbreviation = local.strftime("%Z")
    if abbreviation[:1] in "+-":
        return f"UTC{abbreviation}"
    return abbreviation


def local_text(value: datetime | None, zone: str, fmt: str = DEFAULT_FORMAT) -> str:
    """`value` (an instant) as wall-clock time in `zone`, followed by the zone ("20 Nov 2026 15:07 EAT").

    A format showing a time of day gets the zone appended unless it names it itself (%Z); a
    date-only format ("%d %b %Y") stays a date. None is "" (a cell with nothing to show).
    """
    if value is None:
        return ""
    local = _aware(value).astimezone(ZoneInfo(zone))
    if "%Z" in fmt:
        fmt = fmt.replace("%Z", zone_label(local, zone).replace("%", "%%"))
    elif "%H" in fmt:
        fmt = f"{fmt} {zone_label(local, zone)}"
    return local.strftime(fmt)


def wall_text(value: datetime, zone: str, fmt: str = DEFAULT_FORMAT) -> str:
    """A naive local wall-clock time in `zone` (a schedule's start) written like `local_text`."""
    return local_text(value.replace(tzinfo=ZoneInfo(zone)), zone, fmt)


def utc_text(value: datetime | None) -> str:
    """`value` as ISO-8601 UTC with a Z ("2026-11-20T12:07:00Z"), for JSON, CSV and `--json`; None is ""."""
    if value is None:
        return ""
    return _aware(value).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def campaign_zone(
    schedule_zone: str | None, params: Mapping[str, int], office_zones: Mapping[int, str], default: str
) -> str:
    """The zone a campaign's times are shown in: its schedule's, its office's (from office profiles), or `default`."""
    if schedule_zone:
        return schedule_zone
    office = params.get("officeId")
    if office is not None and office in office_zones:
        return office_zones[office]
    return default


def last_run_text(campaign: Campaign, zone: str) -> str | None:
    """ "Last run" of a Direct or Scheduled campaign in words; None where it means nothing (Pending, Triggered).

    Activation alone is no run: a Scheduled campaign activated at 09:00 that has not reached its
    first occurrence "has not run yet", and says when it last ran only once it has.
    """
    if campaign.trigger_type.name not in ("DIRECT", "SCHEDULE") or campaign.activated_at is None:
        return None
    if campaign.last_run is not None:
        return local_text(campaign.last_run, zone)
    if campaign.activation_count > 1:
        return f"not run since it was reactivated on {local_text(campaign.activated_at, zone)}"
    return "not run yet"


def schedule_text(campaign: Campaign) -> str | None:
    """The rule and its start in the schedule's zone: "daily at 08:00 (Africa/Kampala), from 20 Nov 2026 15:07 EAT"."""
    recurrence = campaign.recurrence
    if recurrence is None:
        return None
    return f"{recurrence.describe()}, from {wall_text(recurrence.start, recurrence.timezone)}"


def day_bounds(first: date | None, last: date | None, zone: str) -> tuple[datetime | None, datetime | None]:
    """The UTC instants where whole days `first` to `last` (both included) begin and end in `zone`.

    A day at the edge of the calendar (0001-01-01, 9999-12-31, typed into a search) has no UTC
    instant on its far side; nothing herald stored is outside it, so that end is simply open.
    """
    here = ZoneInfo(zone)

    def start(day: date, days_after: int) -> datetime | None:
        try:
            return datetime.combine(day + timedelta(days=days_after), time(0), here).astimezone(UTC)
        except OverflowError:
            return None

    return (start(first, 0) if first else None), (start(last, 1) if last else None)
