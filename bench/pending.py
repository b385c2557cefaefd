"""Benchmark set-up shared by the send and report benchmarks: an active campaign with N PENDING messages.

Not timed by anyone: the benchmarks measure what happens to these messages afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def pending_campaign(herald: Any, provider: str, count: int, text: Callable[[int], str]) -> int:
    """Create and activate a Direct campaign on `provider`, then insert `count` PENDING messages; return its id."""
    from herald.services import campaigns
    from herald.services.campaigns import CampaignRequest
    from herald.services.preview import PreviewSettings
    from herald.store import messages as message_store

    request = {
        "campaignName": "Bench",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": 1},
        "message": "Dear client, your instalment is due.",
        "providerId": provider,
    }
    campaign = campaigns.activate(
        campaigns.create(
            CampaignRequest.model_validate(request),
            store=herald.store,
            corebanks=herald.corebanks,
            providers=herald.providers,
            clock=herald.clock,
            calendar=herald.calendar,
        ).id,
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        preview_settings=PreviewSettings.of(herald.settings),
    )
    now = datetime.now(UTC)
    with herald.store.begin() as conn:
        for start in range(0, count, 50_000):
            rows = [
                (campaign.id, f"c{i}", i, 1, f"+2547{i:08d}", text(i), 100, None, "GSM-7", 1, provider, 0, now, now,
                 None)
                for i in range(start + 1, min(start + 50_000, count) + 1)
            ]
            message_store.insert_new(conn, rows)
    return int(campaign.id)
