"""The campaign page keeping itself up to date while messages are in flight: its state, polled by the page.

The page polls `/campaigns/{id}/live`, a small JSON answer (one count query): the status badge,
the tabs' counts, whether a Direct campaign is still being prepared and how many messages it has
so far, and whether anything is still in flight. Only when that changes does the page fetch
itself again and swap in its chart and message list, so what it shows is exactly what a reload
would show, whoever changes the page's markup; polling ends when nothing is in flight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from herald.app import Herald
from herald.domain.campaign import Campaign, CampaignStatus, TriggerType
from herald.domain.message import IN_FLIGHT, MessageStatus
from herald.services import campaigns as service
from herald.web.campaign_pages import CampaignId
from herald.web.pages import TABS, PageRoute, templates, viewer


@dataclass(frozen=True)
class LiveState:
    """What the page says about work still going on for the campaign."""

    preparing: bool  # a Direct campaign activated and not yet (fully) materialized
    so_far: int  # its messages so far
    in_flight: bool  # anything to watch: preparing, or messages still to send or to hear of
    signature: str  # changes whenever what the page shows of the campaign's messages changes


def live_state(campaign: Campaign, counts: Mapping[MessageStatus, int]) -> LiveState:
    """The campaign's live state from its counts. A Direct campaign's `next_trigger_at` is set at
    (re)activation and cleared once the worker has materialized it (services/outbound.py)."""
    active = campaign.status is CampaignStatus.ACTIVE
    preparing = active and campaign.trigger_type is TriggerType.DIRECT and campaign.next_trigger_at is not None
    waiting = sum(n for status, n in counts.items() if status in IN_FLIGHT)
    shown = ",".join(str(counts.get(status, 0)) for _, status in TABS)
    signature = f"{campaign.status.name}:{int(preparing)}:{shown}"
    return LiveState(preparing, sum(counts.values()), active and (preparing or waiting > 0), signature)


templates.globals["live_state"] = live_state  # the page's first paint says the same as the polls


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    @pages.get("/campaigns/{campaign_id}/live")
    def live(request: Request, campaign_id: CampaignId) -> Response:
        viewer(request)
        campaign = service.get(campaign_id, store=herald.store)
        counts = service.message_counts(store=herald.store, campaign_id=campaign.id).get(campaign.id, {})
        state = live_state(campaign, counts)
        return JSONResponse(
            {
                "status": campaign.status.name.capitalize(),
                "counts": {slug: counts.get(status, 0) for slug, status in TABS},
                "preparing": state.preparing,
                "soFar": state.so_far,
                "inFlight": state.in_flight,
                "signature": state.signature,
                "workers": bool(herald.presence.job_runners()),
            }
        )

    return pages
