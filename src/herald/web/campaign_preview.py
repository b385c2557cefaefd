"""The campaign page's preview before activation and its Triggered panel, and which form field an error is about.

The campaign page includes `_campaign_panels.html` with what `campaign_panels` returns: the same
preview partial as the form (audience, segments, cost, samples, warnings) while a Direct or
Scheduled campaign is not active, and for a Triggered one a sample from a recent real event with
the hook's URL, registration and last call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from herald.app import Herald
from herald.domain.business_rule import BusinessRule
from herald.domain.campaign import Campaign, CampaignStatus, TriggerType
from herald.errors import HeraldError
from herald.services.auth import Role, User
from herald.services.preview import Preview, PreviewSettings, as_seen_by, preview
from herald.services.triggered_status import triggered_status


@dataclass(frozen=True)
class SavedPreview:
    """A saved campaign's preview in the shape `_preview.html` reads (the form's PreviewResult has the same fields)."""

    preview: Preview | None = None
    error: str | None = None
    note: str | None = None
    schedule: str | None = None
    upcoming: tuple[datetime, ...] = ()


FORM_FIELDS = frozenset(
    {
        "campaignName",
        "triggerType",
        "runReportId",
        "message",
        "language",
        "templates",
        "providerId",
        "fallbackProviderId",
        "senderId",
        "recurrence",
        "recurrenceStartDate",
        "timezone",
    }
)
"""The form's input names an error may point at; parameters are `param.<name>`."""
_ALIASES = {"businessRule": "runReportId", "paramValue": "runReportId"}
_TRANSLATION = re.compile(r"templates\[(\d+)\](?:\.(language))?")


def form_field(field: str | None, rule: BusinessRule) -> str | None:
    """The form input a refused value came from ("param.officeId", "message" ...), or None to show it on top."""
    if not field:
        return None
    translation = _TRANSLATION.fullmatch(field)
    if translation:  # templates[2].language -> translation.2.language; templates[2] -> its message
        return f"translation.{translation[1]}.{translation[2] or 'message'}"
    name = field.removeprefix("paramValue.")
    if rule.parameter(name) is not None:
        return f"param.{name}"
    name = _ALIASES.get(name, name)
    return name if name in FORM_FIELDS else None


def error_field(exc: Exception, rule: BusinessRule) -> str | None:
    """`form_field` of a HeraldError's field, or of the first location pydantic names."""
    if isinstance(exc, HeraldError):
        return form_field(getattr(exc, "field", None), rule)
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        if found and found[0].get("loc"):
            return form_field(".".join(str(part) for part in found[0]["loc"]), rule)
    return None


def campaign_panels(herald: Herald, campaign: Campaign, user: User) -> dict[str, Any]:
    """What `_campaign_panels.html` needs: `before_activation` (a SavedPreview) or `triggered_status`."""
    panels: dict[str, Any] = {
        "before_activation": None,
        "triggered_status": None,
        "can_edit": user.role.allows(Role.CAMPAIGN_MANAGER) and campaign.status is not CampaignStatus.ACTIVE,
    }
    reveal = user.role is Role.ADMIN
    if (
        campaign.trigger_type in (TriggerType.DIRECT, TriggerType.SCHEDULE)
        and campaign.status is not CampaignStatus.ACTIVE
    ):
        try:
            found = preview(
                campaign,
                store=herald.store,
                corebanks=herald.corebanks,
                calendar=herald.calendar,
                offices=herald.offices,
                clock=herald.clock,
                settings=PreviewSettings.of(herald.settings, herald.providers.alphabets),
                sample_size=5,
            )
            panels["before_activation"] = SavedPreview(preview=as_seen_by(found, reveal))
        except HeraldError as exc:  # the core bank is down: the page still shows, the panel says why
            panels["before_activation"] = SavedPreview(error=str(exc))
    elif campaign.trigger_type is TriggerType.TRIGGERED:
        panels["triggered_status"] = triggered_status(
            campaign,
            store=herald.store,
            corebanks=herald.corebanks,
            calendar=herald.calendar,
            offices=herald.offices,
            clock=herald.clock,
            settings=herald.settings,
            alphabets=dict(herald.providers.alphabets),
            reveal=reveal,
        )
    return panels
