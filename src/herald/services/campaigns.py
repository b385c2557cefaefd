"""The campaign service: create, edit, preview and move campaigns through their lifecycle.

Requests use Fineract's field names (campaignName, triggerType, runReportId, paramValue, message,
providerId, recurrence, recurrenceStartDate) so Mifos users and scripts recognise them, plus
herald's own (senderId, tooLateAfter, and language with translations: the message in each language,
domain/languages.py). Every refusal is a herald error that names the field and
says how to fix it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine

from herald.clock import Clock
from herald.corebank import lookups
from herald.corebank.catchup_sources import covers
from herald.corebank.engines import CoreBanks
from herald.domain import campaign as lifecycle
from herald.domain import wire
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign, CampaignAction, TriggerType
from herald.domain.languages import Translations
from herald.domain.lateness import DEFAULT_MINUTES as DEFAULT_LATE_MINUTES
from herald.domain.lateness import limit_code, parse_limit
from herald.domain.message import MessageStatus
from herald.domain.schedule import Recurrence
from herald.domain.senders import parse_sender
from herald.domain.templates import Template
from herald.errors import LifecycleError, NotFoundError, UnknownRuleError, ValidationError
from herald.providers.registry import Providers
from herald.rules.catalog import get_rule, validate_parameters
from herald.services import audit
from herald.services.audit import SYSTEM, Actor
from herald.services.catchup import starting_mark
from herald.services.office_profiles import OfficeProfiles
from herald.services.preview import PreviewSettings, audit_estimate
from herald.store import campaigns as campaign_store
from herald.store import catchup as catchup_marks
from herald.store import messages as message_store


class TranslationRequest(BaseModel):
    """One more language's template of a campaign: the same message, written for clients who read that language."""

    model_config = ConfigDict(extra="forbid")

    language: str = Field(max_length=40, description="ISO 639 code of two or three letters: en, sw, lg, rw ...")
    message: str = Field(description="The template in that language, with the same {{variables}} as `message`.")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        if isinstance(value, str) and (problem := wire.text_problem(value)):
            raise ValueError(f"the text {problem}")
        return value


class CampaignRequest(BaseModel):
    """A create or edit request, in Fineract's words."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    campaign_name: str = Field(alias="campaignName", min_length=1, max_length=100)
    trigger_type: str | int = Field(alias="triggerType")
    run_report_id: str | int = Field(alias="runReportId")
    param_value: dict[str, Any] = Field(default_factory=dict, alias="paramValue")
    message: str
    language: str | None = Field(
        None,
        max_length=40,
        description="The language `message` is written in (ISO 639: en, sw, lg, rw); needed once `translations`"
        " are given. A client whose own language and office's default have no template gets `message`.",
    )
    translations: list[TranslationRequest] = Field(
        default_factory=list,
        max_length=20,
        description="The same message in other languages, each with its language code; every one must use the"
        " same {{variables}}.",
    )
    provider_id: str = Field("simulator", alias="providerId")
    fallback_provider_id: str | None = Field(None, alias="fallbackProviderId")
    sender_id: str | None = Field(None, alias="senderId", max_length=40)
    recurrence: str | None = None
    recurrence_start_date: str | datetime | None = Field(None, alias="recurrenceStartDate")
    timezone: str | None = None
    tenant_id: str | None = Field(None, alias="tenantId")
    too_late_after: str | int | None = Field(
        None,
        alias="tooLateAfter",
        description='Triggered only: how old an event may be when herald first sees it, e.g. "24h" (the default),'
        ' "90m", "3d"; an older one is stored Invalid, never sent. An integer is minutes.',
    )

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        """Text herald keeps must be valid Unicode without NUL (PostgreSQL refuses both; SQLite would keep them)."""
        if isinstance(value, str) and (problem := wire.text_problem(value)):
            raise ValueError(f"the text {problem}")
        return value

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignRequest:
        """The request that would make this campaign: what an edit starts from, in Fineract's words."""
        recurrence = campaign.recurrence
        return cls(
            campaign_name=campaign.name,
            trigger_type=int(campaign.trigger_type),
            run_report_id=campaign.rule.id,
            param_value=dict(campaign.params),
            message=campaign.template,
            language=campaign.template_language,
            translations=[TranslationRequest(language=code, message=text) for code, text in campaign.translations],
            provider_id=campaign.provider,
            fallback_provider_id=campaign.fallback_provider,
            sender_id=campaign.sender_id,
            recurrence=recurrence.rule if recurrence else None,
            recurrence_start_date=recurrence.start.strftime("%Y-%m-%dT%H:%M") if recurrence else None,
            timezone=recurrence.timezone if recurrence else None,
            tenant_id=campaign.tenant,
            too_late_after=limit_code(campaign.too_late_after) if campaign.too_late_after else None,
        )


def draft(
    request: CampaignRequest,
    *,
    corebanks: CoreBanks,
    providers: Providers,
    clock: Clock,
    calendar: BusinessCalendar,
) -> Campaign:
    """The Pending campaign a request describes, checked completely and not stored (id 0): what create()
    and edit() store, and what a form previews while it is being filled in."""
    trigger = TriggerType.parse(request.trigger_type)
    tenant = corebanks.requested(request.tenant_id)
    rule = get_rule(request.run_report_id)
    if rule.triggered != (trigger is TriggerType.TRIGGERED):
        kind = "a Triggered" if rule.triggered else "a Direct or Scheduled"
        raise UnknownRuleError(
            f'Rule {rule.id} "{rule.name}" is for {kind} campaign, not a {trigger.name.capitalize()} one.',
            field="runReportId",
            hint="`herald rules list` shows which rules each trigger type takes.",
            page_hint="Choose one of the rules the form offers for this trigger type.",
        )
    params = validate_parameters(rule, request.param_value)
    _check_office(corebanks, tenant, params)
    template = Template.parse(request.message)
    template.check_variables(rule.variables, rule=rule.name)
    translations = Translations.check(
        [(request.language or None, request.message), *((t.language, t.message) for t in request.translations)],
        rule.variables,
    )
    if request.provider_id not in providers:
        raise ValidationError(
            f"Unknown provider {request.provider_id!r}; choose one of: {', '.join(sorted(providers))}.",
            field="providerId",
        )
    fallback = request.fallback_provider_id or None
    if fallback is not None and (fallback not in providers or fallback == request.provider_id):
        raise ValidationError(
            f"Fallback provider {fallback!r} must be another configured provider: "
            f"{', '.join(sorted(p for p in providers if p != request.provider_id))}.",
            field="fallbackProviderId",
        )
    sender = None
    for name in providers.chain(request.provider_id, fallback):  # every provider that may send under it
        sender = parse_sender(request.sender_id, provider_kind=providers.settings[name].kind)
    recurrence = None
    if trigger is TriggerType.SCHEDULE:
        if not request.recurrence:
            raise ValidationError(
                "A Scheduled campaign needs a recurrence, e.g. FREQ=DAILY;BYHOUR=8.", field="recurrence"
            )
        # No start given: from now, an instant that Recurrence.parse turns into the zone's wall clock
        # (the UTC clock's "12:07" read as Kampala's wall time started the schedule three hours late).
        start = request.recurrence_start_date or clock.now().replace(second=0, microsecond=0)
        recurrence = Recurrence.parse(request.recurrence, start, request.timezone or calendar.timezone)
    elif request.recurrence:
        raise ValidationError(
            "Only Scheduled campaigns take a recurrence; a Direct campaign runs once when activated.",
            field="recurrence",
        )
    too_late_after = None
    if trigger is TriggerType.TRIGGERED:
        given = request.too_late_after
        too_late_after = DEFAULT_LATE_MINUTES if given is None or given == "" else parse_limit(given)
    elif request.too_late_after not in (None, ""):
        raise ValidationError(
            "Only Triggered campaigns take a too-late-after: a Direct or Scheduled campaign's audience is read"
            " when it runs, so nothing it sends is late.",
            field="tooLateAfter",
        )
    return Campaign(
        name=request.campaign_name.strip(),
        tenant=tenant,
        trigger_type=trigger,
        rule=rule,
        params=params,
        template=request.message,
        template_language=translations.first[0],
        translations=tuple((code or "", text) for code, text in translations.items[1:]),
        provider=request.provider_id,
        fallback_provider=fallback,
        sender_id=sender.text if sender else None,
        recurrence=recurrence,
        too_late_after=too_late_after,
    )


def _check_office(corebanks: CoreBanks, tenant: str, params: dict[str, int]) -> None:
    if params.get("officeId", -1) < 0:  # absent, or -1 = every office (triggered rules)
        return
    if not lookups.office_exists(corebanks.engine(tenant), params["officeId"]):
        raise ValidationError(
            f"Office {params['officeId']} does not exist in the core-banking database.",
            field="paramValue.officeId",
            hint="`herald offices list` shows the offices.",
            page_hint="The Offices page lists them.",
        )


def _name_is_free(taken: bool, name: str) -> None:
    if taken:
        raise ValidationError(f'A campaign named "{name}" already exists; choose another name.', field="campaignName")


def _changed(before: Campaign, after: Campaign) -> list[str]:
    """The request fields an edit changed, for the audit log, in the words people know."""
    was = CampaignRequest.of(before).model_dump(by_alias=True)
    now = CampaignRequest.of(after).model_dump(by_alias=True)
    return sorted(k for k in now if was[k] != now[k])


def create(
    request: CampaignRequest,
    *,
    store: Engine,
    corebanks: CoreBanks,
    providers: Providers,
    clock: Clock,
    calendar: BusinessCalendar,
    actor: Actor = SYSTEM,
) -> Campaign:
    campaign = draft(request, corebanks=corebanks, providers=providers, clock=clock, calendar=calendar)
    now = clock.now()
    with store.begin() as conn:
        _name_is_free(campaign_store.name_taken(conn, campaign.name), campaign.name)
        new_id = campaign_store.add(conn, campaign, now=now)
        detail = {"id": new_id, "triggerType": int(campaign.trigger_type), "runReportId": campaign.rule.id}
        audit.record(conn, actor, "campaign.create", now, target=campaign.name, tenant=campaign.tenant, detail=detail)
    return get(new_id, store=store)


def edit(
    campaign_id: int,
    request: CampaignRequest,
    *,
    store: Engine,
    corebanks: CoreBanks,
    providers: Providers,
    clock: Clock,
    calendar: BusinessCalendar,
    actor: Actor = SYSTEM,
) -> Campaign:
    current = get(campaign_id, store=store)
    if current.trigger_type is TriggerType.GATEWAY:
        raise LifecycleError(
            f'"{current.name}" holds the messages Fineract sends through herald; herald manages it, '
            "so it cannot be edited (close it to pause the gateway)."
        )
    lifecycle.apply(current.status, CampaignAction.EDIT, name=current.name)
    # The tenant is fixed at creation: it says whose Fineract the rule reads and whose the messages are. An edit
    # that names no tenant (the CLI, the form) keeps it; one that names another is refused.
    if request.tenant_id and request.tenant_id != current.tenant:
        raise ValidationError(
            f'Campaign "{current.name}" belongs to tenant {current.tenant!r}; a campaign\'s tenant is fixed '
            f"when it is created, so an edit cannot move it to {request.tenant_id!r}.",
            field="tenantId",
            hint="Create a new campaign for that tenant, or leave tenantId out of the edit.",
        )
    kept = request.model_copy(update={"tenant_id": current.tenant})
    wanted = draft(kept, corebanks=corebanks, providers=providers, clock=clock, calendar=calendar)
    with store.begin() as conn:
        _name_is_free(campaign_store.name_taken(conn, wanted.name, except_id=campaign_id), wanted.name)
        before = _stored(campaign_store.by_id(conn, campaign_id), campaign_id)
        changed = _changed(before, wanted)
        campaign_store.replace_chosen(conn, campaign_id, wanted)
        audit.record(
            conn,
            actor,
            "campaign.edit",
            clock.now(),
            target=wanted.name,
            tenant=wanted.tenant,
            detail={"id": campaign_id, "changed": changed}
            | ({"was": current.name} if "campaignName" in changed else {}),
        )
    return get(campaign_id, store=store)


def _stored(found: Campaign | None, key: int | str) -> Campaign:
    if found is None:
        raise NotFoundError(
            f"No campaign {key!r}.",
            hint="`herald campaigns list` shows them.",
            page_hint="The Campaigns page lists them.",
        )
    return found


def get(campaign_id_or_name: int | str, *, store: Engine) -> Campaign:
    """A campaign by id (an int or a digit string) or by its exact name; NotFoundError otherwise."""
    key = campaign_id_or_name
    with store.connect() as conn:
        if isinstance(key, int) or str(key).isdigit():
            return _stored(campaign_store.by_id(conn, int(key)), key)
        return _stored(campaign_store.by_name(conn, key), key)


def message_counts(*, store: Engine, campaign_id: int | None = None) -> dict[int, dict[MessageStatus, int]]:
    """Messages per campaign (or of one) per status: the tabs' counts."""
    with store.connect() as conn:
        return message_store.status_counts(conn, campaign_id)


def list_all(*, store: Engine) -> list[Campaign]:
    with store.connect() as conn:
        return campaign_store.all_campaigns(conn)


def _transition(
    campaign_id: int,
    action: CampaignAction,
    *,
    store: Engine,
    clock: Clock,
    actor: Actor,
    detail: dict[str, Any] | None = None,
    mark: tuple[int | None, date | None] = (None, None),
) -> Campaign:
    now = clock.now()
    with store.begin() as conn:
        current = _stored(campaign_store.by_id(conn, campaign_id), campaign_id)
        lifecycle.apply(current.status, action, name=current.name)
        if action is CampaignAction.CLOSE:
            campaign_store.closed(conn, campaign_id, now=now)
        else:
            next_at, last_at = current.next_trigger_at, current.last_trigger_at
            if current.trigger_type is TriggerType.DIRECT:
                next_at = now  # the worker materializes it at once
            elif current.recurrence is not None:
                # Occurrences before (re)activation are not owed; the first one is the next one.
                last_at = max(now, current.last_trigger_at or now)
                next_at = current.recurrence.next_after(last_at)
            campaign_store.activated(
                conn, campaign_id, was=current.status, now=now, next_trigger_at=next_at, last_trigger_at=last_at
            )
            if current.trigger_type is TriggerType.TRIGGERED and covers(current.rule.id):
                # The catch-up job starts from now: activating never messages history, nor does a reactivation.
                last_id, last_date = mark
                catchup_marks.reset(conn, campaign_id, last_id=last_id, last_date=last_date, now=now)
        audit.record(
            conn,
            actor,
            f"campaign.{action.name.lower()}",
            now,
            target=current.name,
            tenant=current.tenant,
            detail={"id": campaign_id} | (detail or {}),
        )
    return get(campaign_id, store=store)


def _activation(
    campaign_id: int,
    action: CampaignAction,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    preview_settings: PreviewSettings,
    actor: Actor,
) -> Campaign:
    campaign = get(campaign_id, store=store)
    lifecycle.apply(campaign.status, action, name=campaign.name)  # refuse before counting anybody
    estimate = audit_estimate(
        campaign,
        store=store,
        corebanks=corebanks,
        calendar=calendar,
        offices=offices,
        clock=clock,
        settings=preview_settings,
    )
    mark = starting_mark(campaign, corebanks=corebanks, calendar=calendar, now=clock.now())
    return _transition(campaign_id, action, store=store, clock=clock, actor=actor, detail=estimate, mark=mark)


class ActivationParts(TypedDict):
    """What activate and reactivate take besides the campaign and the actor (the composition root builds it)."""

    store: Engine
    corebanks: CoreBanks
    calendar: BusinessCalendar
    offices: OfficeProfiles
    clock: Clock
    preview_settings: PreviewSettings


def activate(
    campaign_id: int,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    preview_settings: PreviewSettings,
    actor: Actor = SYSTEM,
) -> Campaign:
    """Pending -> Active; the audit log keeps the audience and cost the activation committed to."""
    return _activation(
        campaign_id,
        CampaignAction.ACTIVATE,
        store=store,
        corebanks=corebanks,
        calendar=calendar,
        offices=offices,
        clock=clock,
        preview_settings=preview_settings,
        actor=actor,
    )


def close(campaign_id: int, *, store: Engine, clock: Clock, actor: Actor = SYSTEM) -> Campaign:
    return _transition(campaign_id, CampaignAction.CLOSE, store=store, clock=clock, actor=actor)


def reactivate(
    campaign_id: int,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    preview_settings: PreviewSettings,
    actor: Actor = SYSTEM,
) -> Campaign:
    """Closed -> Active; nobody already messaged is messaged again (the dedup keys see to it)."""
    return _activation(
        campaign_id,
        CampaignAction.REACTIVATE,
        store=store,
        corebanks=corebanks,
        calendar=calendar,
        offices=offices,
        clock=clock,
        preview_settings=preview_settings,
        actor=actor,
    )


def remove(campaign_id: int, *, store: Engine, clock: Clock, actor: Actor = SYSTEM) -> None:
    """Delete a campaign that is not active, with its messages."""
    with store.begin() as conn:
        current = _stored(campaign_store.by_id(conn, campaign_id), campaign_id)
        lifecycle.apply(current.status, CampaignAction.DELETE, name=current.name)
        gone = campaign_store.remove(conn, campaign_id)
        audit.record(
            conn,
            actor,
            "campaign.delete",
            clock.now(),
            target=current.name,
            tenant=current.tenant,
            detail={"id": campaign_id, "messages": gone},
        )
