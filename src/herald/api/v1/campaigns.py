"""REST: campaigns in Fineract's field names: create, read, edit, move through the lifecycle, preview, re-send."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel, Field

from herald.api.v1.counts import TabCounts
from herald.app import Herald
from herald.domain.campaign import Campaign, TriggerType
from herald.domain.message import MessageStatus
from herald.errors import ValidationError
from herald.http.auth import CampaignManager, Viewer
from herald.services import campaigns as service
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from herald.services.preview import Preview, PreviewSettings, as_seen_by, preview
from herald.services.resend import first_attempts, resend_counts, resend_failed

CampaignId = Annotated[int, Path(ge=1, le=2**53, description="The campaign's id.")]


class Status(BaseModel):
    code: int = Field(description="Fineract's status code.")
    label: str


class TranslationOut(BaseModel):
    language: str = Field(description="ISO 639 code: en, sw, lg, rw ...")
    message: str


class CampaignOut(BaseModel):
    id: int
    campaignName: str
    triggerType: int = Field(description="1 Direct, 2 Scheduled, 3 Triggered, 4 Fineract gateway (herald's own).")
    runReportId: int = Field(description="The business rule's Fineract id.")
    reportName: str
    paramValue: dict[str, int]
    message: str
    language: str | None = Field(
        None, description="The language of `message`, the first template; null: one template, its language unnamed."
    )
    translations: list[TranslationOut] = Field(
        default_factory=list, description="The same message in other languages; each client gets their own."
    )
    providerId: str
    fallbackProviderId: str | None
    senderId: str | None = Field(description="The name or number messages come from; null: the provider's own.")
    recurrence: str | None
    recurrenceStartDate: str | None = Field(description="Local wall-clock time in `timezone`, YYYY-MM-DDTHH:MM.")
    timezone: str | None
    tenantId: str
    tooLateAfter: str | None = Field(
        None, description='Triggered: how old an event may be when first seen ("24h", "90m", "3d"); null otherwise.'
    )
    status: Status
    counts: TabCounts = Field(description="Every message of the campaign per tab (status).")
    firstAttempts: TabCounts = Field(description="The counts without re-sends: each client's first message.")
    resends: TabCounts = Field(
        description="Re-sends per tab: by hand, or the policy for failures that pass (HERALD_TRANSIENT_RESEND_TIMES)."
    )
    nextTriggerDate: datetime | None
    lastTriggerDate: datetime | None

    @classmethod
    def of(
        cls, c: Campaign, counts: dict[MessageStatus, int] | None, resends: dict[MessageStatus, int] | None = None
    ) -> CampaignOut:
        return cls(
            **CampaignRequest.of(c).model_dump(by_alias=True),
            id=c.id,
            reportName=c.rule.name,
            status=Status(code=int(c.status), label=c.status.name.capitalize()),
            counts=TabCounts.of(counts),
            firstAttempts=TabCounts.of(first_attempts(counts, resends)),
            resends=TabCounts.of(resends),
            nextTriggerDate=c.next_trigger_at,
            lastTriggerDate=c.last_trigger_at,
        )


class PreviewSampleOut(BaseModel):
    clientId: int
    mobileNo: str = Field(description="Masked: a preview is shown on screens.")
    body: str
    encoding: str
    segments: int
    status: Status
    reason: str | None
    language: str | None = Field(None, description="The language of the template this sample was rendered from.")


class LanguageSplitOut(BaseModel):
    language: str | None = Field(description="ISO 639 code; null: the one template of a campaign naming none.")
    recipients: int = Field(description="Clients given this language (Invalid ones included).")
    sendable: int
    segments: int
    cost: float
    templateEncoding: str = Field(description="GSM-7, or UCS-2 when a character of the template forces it.")
    templateSegments: int = Field(description="Segments of the template's own text, before values are filled in.")
    forcingUcs2: list[str] = Field(description="The template's characters that make it UCS-2 (each once).")
    example: str | None = Field(
        None, description="This language's message for the first sendable recipient (whatever their own language)."
    )
    exampleEncoding: str | None = None
    exampleSegments: int | None = None


class PreviewWarningOut(BaseModel):
    kind: str = Field(description="empty_variable, ucs2_template, ucs2_values or currency_twice.")
    text: str
    recipients: int
    exampleClientId: int | None
    language: str | None = Field(
        None, description="The template's language it is about; null: the values' (every language) or one template."
    )


class PreviewOut(BaseModel):
    audience: int
    sendable: int
    invalid: int
    segments: int
    cost: float
    currency: str
    pricePerSegment: float
    exact: bool = Field(description="False when a very large audience was extrapolated from its first part.")
    samples: list[PreviewSampleOut]
    invalidReasons: dict[str, int]
    warnings: list[PreviewWarningOut] = Field(default_factory=list, description="What clients would see.")
    gsm7Message: str | None = Field(None, description="The message in GSM-7 characters when look-alikes make it UCS-2.")
    byLanguage: list[LanguageSplitOut] = Field(default_factory=list, description="One per template, in order.")
    fallbacks: dict[str, int] = Field(
        default_factory=dict,
        description="Languages a client or office asked for that the campaign has no template in: how many"
        " recipients got the next language of the order instead (office default, then the first template).",
    )

    @classmethod
    def of(cls, p: Preview) -> PreviewOut:
        return cls(
            audience=p.audience,
            sendable=p.sendable,
            invalid=p.invalid,
            segments=p.segments,
            cost=p.cost,
            currency=p.currency,
            pricePerSegment=p.price_per_segment,
            exact=p.exact,
            samples=[
                PreviewSampleOut(
                    clientId=s.client_id,
                    mobileNo=s.mobile_no,
                    body=s.body,
                    encoding=s.encoding,
                    segments=s.segments,
                    status=Status(code=int(s.status), label=s.status.label),
                    reason=s.reason,
                    language=s.language,
                )
                for s in p.samples
            ],
            invalidReasons=p.invalid_reasons,
            warnings=[PreviewWarningOut(kind=w.kind, text=w.text, recipients=w.recipients,
                                        exampleClientId=w.example_client_id, language=w.language)
                      for w in p.warnings],
            gsm7Message=p.gsm7_template,
            byLanguage=[
                LanguageSplitOut(
                    language=s.language,
                    recipients=s.recipients,
                    sendable=s.sendable,
                    segments=s.segments,
                    cost=s.cost,
                    templateEncoding=s.template_encoding,
                    templateSegments=s.template_segments,
                    forcingUcs2=list(s.forcing_ucs2),
                    example=s.example.body if s.example else None,
                    exampleEncoding=s.example.encoding if s.example else None,
                    exampleSegments=s.example.segments if s.example else None,
                )
                for s in p.by_language
            ],
            fallbacks=p.fallbacks,
        )


class ResendIn(BaseModel):
    messageIds: list[Annotated[int, Field(ge=1, le=2**53)]] | None = Field(
        None, max_length=10_000, description="Only these failed messages; all failed ones when omitted."
    )


class ResendOut(BaseModel):
    failed: int = Field(description="Failed messages considered (the newest of each re-send chain).")
    resent: int = Field(description="New Pending messages created.")
    skipped: int = Field(description="Already re-sent meanwhile.")


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/campaigns", tags=["campaigns"])

    def out(campaign: Campaign) -> CampaignOut:
        counts = service.message_counts(store=herald.store, campaign_id=campaign.id).get(campaign.id)
        resends = resend_counts(store=herald.store, campaign_id=campaign.id).get(campaign.id)
        return CampaignOut.of(campaign, counts, resends)

    @api.get("", summary="All campaigns with their counts per tab")
    def list_campaigns(user: Viewer) -> list[CampaignOut]:
        counts = service.message_counts(store=herald.store)
        resends = resend_counts(store=herald.store)
        return [CampaignOut.of(c, counts.get(c.id), resends.get(c.id)) for c in service.list_all(store=herald.store)]

    @api.post("", status_code=201, summary="Create a campaign (Pending)")
    def create(user: CampaignManager, request: CampaignRequest) -> CampaignOut:
        return out(
            service.create(
                request,
                store=herald.store,
                corebanks=herald.corebanks,
                providers=herald.providers,
                clock=herald.clock,
                calendar=herald.calendar,
                actor=Actor.api(user.username),
            )
        )

    @api.get("/{campaign_id}", summary="One campaign")
    def get(user: Viewer, campaign_id: CampaignId) -> CampaignOut:
        return out(service.get(campaign_id, store=herald.store))

    @api.put("/{campaign_id}", summary="Edit a campaign that is not active (the whole request, as Fineract)")
    def edit(user: CampaignManager, campaign_id: CampaignId, request: CampaignRequest) -> CampaignOut:
        return out(
            service.edit(
                campaign_id,
                request,
                store=herald.store,
                corebanks=herald.corebanks,
                providers=herald.providers,
                clock=herald.clock,
                calendar=herald.calendar,
                actor=Actor.api(user.username),
            )
        )

    @api.delete("/{campaign_id}", status_code=204, summary="Delete a campaign that is not active, with its messages")
    def delete(user: CampaignManager, campaign_id: CampaignId) -> Response:
        service.remove(campaign_id, store=herald.store, clock=herald.clock, actor=Actor.api(user.username))
        return Response(status_code=204)

    @api.post("/{campaign_id}/activate", summary="Pending -> Active")
    def activate(user: CampaignManager, campaign_id: CampaignId) -> CampaignOut:
        return out(
            service.activate(
                campaign_id,
                **herald.activation_parts(),
                actor=Actor.api(user.username),
            )
        )

    @api.post("/{campaign_id}/close", summary="Active -> Closed")
    def close(user: CampaignManager, campaign_id: CampaignId) -> CampaignOut:
        return out(service.close(campaign_id, store=herald.store, clock=herald.clock, actor=Actor.api(user.username)))

    @api.post("/{campaign_id}/reactivate", summary="Closed -> Active; nobody is messaged twice")
    def reactivate(user: CampaignManager, campaign_id: CampaignId) -> CampaignOut:
        return out(
            service.reactivate(
                campaign_id,
                **herald.activation_parts(),
                actor=Actor.api(user.username),
            )
        )

    @api.post("/{campaign_id}/preview", summary="Audience, sample messages, segments and cost; nothing stored")
    def preview_campaign(
        user: CampaignManager,
        campaign_id: CampaignId,
        samples: Annotated[int, Query(ge=0, le=50, description="How many rendered samples.")] = 5,
    ) -> PreviewOut:
        campaign = service.get(campaign_id, store=herald.store)
        if campaign.trigger_type not in (TriggerType.DIRECT, TriggerType.SCHEDULE):
            raise ValidationError(
                "Only Direct and Scheduled campaigns have an audience to preview; "
                "a Triggered one messages whoever the next Fineract event is about.",
                field="triggerType",
            )
        return PreviewOut.of(
            as_seen_by(
                preview(
                    campaign,
                    store=herald.store,
                    corebanks=herald.corebanks,
                    calendar=herald.calendar,
                    offices=herald.offices,
                    clock=herald.clock,
                    settings=PreviewSettings.of(herald.settings, herald.providers.alphabets),
                    sample_size=samples,
                ),
                user.role is Role.ADMIN,
            )
        )

    @api.post("/{campaign_id}/resend", summary="Re-send failed messages as new messages (the failed stay as history)")
    def resend(
        user: CampaignManager, campaign_id: CampaignId, body: Annotated[ResendIn | None, Body()] = None
    ) -> ResendOut:
        ids = set(body.messageIds) if body is not None and body.messageIds is not None else None
        result = resend_failed(campaign_id, ids, store=herald.store, clock=herald.clock, actor=Actor.api(user.username))
        return ResendOut(failed=result.failed, resent=result.resent, skipped=result.skipped)

    return api
