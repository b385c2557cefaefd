"""How the `herald` command writes times: as the UI does, local wall-clock time followed by its zone.

Both go through `herald.domain.times`, so `herald campaigns show` and the campaign page say the
same "20 Nov 2026 15:07 EAT"; machine output (the REST API's JSON, exports) is ISO-8601 UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from herald.domain.times import DEFAULT_FORMAT, campaign_zone, local_text

if TYPE_CHECKING:
    from herald.app import Herald
    from herald.domain.campaign import Campaign


def when(herald: Herald, value: datetime | None, fmt: str = DEFAULT_FORMAT, *, zone: str | None = None) -> str:
    """`value` in `zone` (default: the institution's, HERALD_TIMEZONE) with the zone said; "-" for none."""
    return local_text(value, zone or herald.settings.timezone, fmt) or "-"


def zone_of(herald: Herald, campaign: Campaign) -> str:
    """A campaign's zone as its page shows it: its schedule's, its office's profile, else the institution's."""
    office_zones = herald.offices.timezones(campaign.tenant)
    return campaign_zone(campaign.timezone, campaign.params, office_zones, herald.settings.timezone)
