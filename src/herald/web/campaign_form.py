"""The create / edit campaign form, step by step: trigger type, business rule, parameters, message, schedule, provider.

The form re-renders itself on the server: changing the trigger type, rule or office posts it
with `action=refresh` (a few lines of inline script press that button; without script the
officer presses it), so the rule list, the parameter drop-downs and the variable picker always
match the choices above them. `action=preview` renders samples, segments, cost and the next five
occurrences without storing anything; the inline script also fetches that fragment as the
message is typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from herald.app import Herald
from herald.corebank import lookups
from herald.domain import campaign as lifecycle
from herald.domain.business_rule import BusinessRule, ParamKind
from herald.domain.campaign import Campaign, CampaignAction
from herald.domain.languages import NAMES
from herald.domain.lateness import limit_code
from herald.domain.preview_warnings import to_gsm7
from herald.domain.schedule import Recurrence
from herald.domain.schedule_picker import DAYS, build_rule, pick_of, picker_says, read_rule, zone_groups
from herald.errors import HeraldError, RecurrenceError, ValidationError
from herald.rules.catalog import all_rules
from herald.services import campaigns as service
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from herald.services.preview import Preview, PreviewSettings, as_seen_by, preview
from herald.services.triggered_status import EventSample, event_sample
from herald.web.campaign_preview import error_field
from herald.web.pages import Form, PageRoute, acting, allowed, render, see_other, text, viewer

TRIGGERS = (("direct", "Direct"), ("schedule", "Scheduled"), ("triggered", "Triggered"))
RECURRENCES = (
    ("FREQ=DAILY", "every day"),
    ("FREQ=WEEKLY;BYDAY=MO", "every Monday"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
    ("FREQ=MONTHLY", "every month on the start's day"),
    ("FREQ=HOURLY", "every hour"),
)
CampaignId = Annotated[int, Path(ge=1, le=2**53)]


@dataclass
class Draft:
    """What the officer has entered so far, as form text (kept as typed, so nothing is lost on re-render)."""

    name: str = ""
    trigger: str = "direct"
    rule_id: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    message: str = ""
    language: str = ""  # the first template's (the message's) language
    translations: tuple[tuple[str, str], ...] = ()  # (language, message) of the others, blank rows left out
    provider: str = "simulator"
    fallback: str = ""
    sender_id: str = ""
    recurrence: str = "FREQ=DAILY"
    start: str = ""
    timezone: str = ""
    # The schedule picker (web/templates/_schedule.html): "daily", "weekly", "monthly", or "rrule" for the
    # hand-written `recurrence`; its fields stay as typed, and the server writes the RRULE from them.
    repeat: str = "daily"
    at: str = "08:00"
    days: tuple[str, ...] = ()
    month_day: str = "1"
    too_late_after: str = "24h"  # Triggered only (domain/lateness.py)
    tenant: str = ""  # a saved campaign's (fixed at creation); empty for a new one: the default tenant

    @classmethod
    def of_form(cls, form: FormData) -> Draft:
        rule = text(form, "runReportId")
        return cls(
            name=text(form, "campaignName"),
            trigger=text(form, "triggerType") or "direct",
            rule_id=int(rule) if rule.isascii() and rule.isdigit() and len(rule) <= 9 else None,  # "²" is no int
            params={k[6:]: text(form, k) for k in form if k.startswith("param.")},
            message=text(form, "message"),
            language=text(form, "language"),
            translations=_translations_of(form),
            provider=text(form, "providerId") or "simulator",
            fallback=text(form, "fallbackProviderId"),
            sender_id=text(form, "senderId"),
            too_late_after=text(form, "tooLateAfter") if "tooLateAfter" in form else cls.too_late_after,
            # Absent until the form first shows the schedule (trigger type just changed): start from the default.
            recurrence=text(form, "recurrence") if "recurrence" in form else cls.recurrence,
            start=text(form, "recurrenceStartDate"),
            timezone=text(form, "timezone"),
            tenant=text(form, "tenantId"),
            # A post with an RRULE and no picker (a script, an older page) means that RRULE.
            repeat=text(form, "schedule.kind") or ("rrule" if "recurrence" in form else cls.repeat),
            at=text(form, "schedule.at") or cls.at,
            days=tuple(d for d in form.getlist("schedule.days") if isinstance(d, str)),
            month_day=text(form, "schedule.monthDay") or cls.month_day,
        )

    @classmethod
    def of_campaign(cls, c: Campaign) -> Draft:
        return replace(cls._of_campaign(c), **_picked(c.recurrence.rule if c.recurrence else None))

    @classmethod
    def _of_campaign(cls, c: Campaign) -> Draft:
        return cls(
            name=c.name,
            trigger={1: "direct", 2: "schedule", 3: "triggered"}.get(int(c.trigger_type), "direct"),
            rule_id=c.rule.id,
            params={k: str(v) for k, v in c.params.items()},
            message=c.template,
            language=c.template_language or "",
            translations=c.translations,
            provider=c.provider,
            fallback=c.fallback_provider or "",
            sender_id=c.sender_id or "",
            too_late_after=limit_code(c.late_limit),
            recurrence=c.recurrence.rule if c.recurrence else "FREQ=DAILY",
            start=c.recurrence.start.strftime("%Y-%m-%dT%H:%M") if c.recurrence else "",
            timezone=c.timezone or "",
            tenant=c.tenant,
        )

    @property
    def triggered(self) -> bool:
        return self.trigger == "triggered"

    def rrule(self) -> str:
        """The RRULE this draft stands for: the picker's, written on the server, or the hand-written one."""
        if self.repeat == "rrule":
            return self.recurrence
        return build_rule(pick_of(self.repeat, self.at, list(self.days), self.month_day))

    def shown_rrule(self) -> str:
        """What the advanced field shows: the picker's rule while it makes one, so switching starts from it."""
        try:
            return self.rrule()
        except RecurrenceError:
            return self.recurrence

    def rule(self) -> BusinessRule:
        """The chosen rule if it fits the trigger type, else the first rule that does."""
        choices = all_rules(self.triggered)
        return next((r for r in choices if r.id == self.rule_id), choices[0])

    def request(self, herald: Herald) -> CampaignRequest:
        rule = self.rule()
        scheduled = self.trigger == "schedule"
        return CampaignRequest.model_validate(
            {
                "campaignName": self.name,
                "triggerType": self.trigger,
                "runReportId": rule.id,
                "paramValue": {p.name: self.params[p.name] for p in rule.parameters if self.params.get(p.name)},
                "message": self.message,
                "language": self.language or None,
                "translations": [{"language": code, "message": body} for code, body in self.translations],
                "providerId": self.provider,
                "fallbackProviderId": self.fallback or None,
                "senderId": self.sender_id or None,
                "recurrence": self.rrule() if scheduled else None,
                "recurrenceStartDate": (self.start or None) if scheduled else None,
                "timezone": (self.timezone or herald.settings.timezone) if scheduled else None,
                "tenantId": self.tenant or None,
                "tooLateAfter": self.too_late_after if self.triggered else None,
            }
        )


def _translations_of(form: FormData) -> tuple[tuple[str, str], ...]:
    """The form's other languages, `translation.<n>.language` / `.message` in order; rows left blank are no row."""
    numbers = sorted(
        {int(n) for k in form if k.startswith("translation.") and (n := k.split(".")[1]).isascii() and n.isdigit()}
    )[:20]
    rows = ((text(form, f"translation.{n}.language"), text(form, f"translation.{n}.message")) for n in numbers)
    return tuple((code, body) for code, body in rows if code.strip() or body.strip())


def _picked(rule: str | None) -> dict[str, Any]:
    """The picker's fields for a stored rule: filled in when the picker writes exactly that rule, else "rrule".

    A hand-written rule the picker could say differently (FREQ=DAILY with the time in its start)
    stays as written, so saving the form unchanged never rewrites it.
    """
    if rule is None:
        return {}
    pick = read_rule(rule)
    if pick is None or not picker_says(rule):
        return {"repeat": "rrule"}
    return {
        "repeat": pick.kind,
        "at": pick.at.strftime("%H:%M"),
        "days": pick.days,
        "month_day": str(pick.month_day),
    }


@dataclass(frozen=True)
class PreviewResult:
    preview: Preview | None = None
    schedule: str | None = None
    upcoming: tuple[datetime, ...] = ()
    zone: str = ""
    rule: str = ""  # the RRULE the schedule stands for (the picker's, as the server wrote it)
    runs_30_days: int | None = None  # occurrences in the next 30 days: the per-month cost multiplies by it
    note: str | None = None
    error: str | None = None
    event: EventSample | None = None  # a Triggered draft: its message for a recent real event


def recurrence_of(herald: Herald, draft: Draft) -> Recurrence:
    start = draft.start or herald.clock.now().astimezone(ZoneInfo(herald.settings.timezone)).strftime("%Y-%m-%dT%H:%M")
    return Recurrence.parse(draft.recurrence or "", start, draft.timezone or herald.settings.timezone)


def preview_of(herald: Herald, draft: Draft, reveal: bool = False) -> PreviewResult:
    """Preview an unsaved draft: the same checks and rendering as a saved campaign's preview, nothing stored.

    `reveal`: the viewer is an admin, who may see full numbers inside the sample bodies."""
    try:
        # The name is not needed to see who gets what: an empty or over-long one must not stop the preview.
        request = replace(draft, name=draft.name.strip()[:100] or "(new campaign)").request(herald)
        campaign = service.draft(
            request,
            corebanks=herald.corebanks,
            providers=herald.providers,
            clock=herald.clock,
            calendar=herald.calendar,
        )
        if draft.triggered:
            return PreviewResult(
                note="A Triggered campaign has no audience to preview: it messages whoever "
                "the next Fineract event is about, the moment it happens.",
                event=event_sample(
                    campaign,
                    store=herald.store,
                    corebanks=herald.corebanks,
                    calendar=herald.calendar,
                    offices=herald.offices,
                    clock=herald.clock,
                    settings=PreviewSettings.of(herald.settings, herald.providers.alphabets),
                    reveal=reveal,
                ),
            )
        recurrence = campaign.recurrence
        upcoming: tuple[datetime, ...] = ()
        runs: int | None = None
        if recurrence is not None:
            now = herald.clock.now()
            upcoming = tuple(recurrence.occurrences_after(now, 5))
            runs = recurrence.count_between(now, now + timedelta(days=30))
        result = as_seen_by(
            preview(
                campaign,
                store=herald.store,
                corebanks=herald.corebanks,
                calendar=herald.calendar,
                offices=herald.offices,
                clock=herald.clock,
                settings=PreviewSettings.of(herald.settings, herald.providers.alphabets),
                sample_size=5,
            ),
            reveal,
        )
    except HeraldError as exc:
        return PreviewResult(error=exc.on_page())
    except PydanticValidationError as exc:  # a field the request model refuses (text that cannot be stored ...)
        return PreviewResult(error=str(exc.errors()[0]["msg"]))
    return PreviewResult(
        preview=result,
        schedule=recurrence.describe() if recurrence else None,
        upcoming=upcoming,
        zone=recurrence.timezone if recurrence else "",
        rule=recurrence.rule if recurrence else "",
        runs_30_days=runs,
    )


def choices(herald: Herald, rule: BusinessRule, draft: Draft) -> tuple[dict[str, list[lookups.Choice]], str | None]:
    """Drop-down choices of the rule's select parameters, loan officers narrowed to the chosen office."""
    office = draft.params.get("officeId", "")
    try:
        office_id = int(office) if office.lstrip("-").isdigit() else None
        return lookups.choices_for(rule, herald.corebanks.engine(draft.tenant or None), office_id), None
    except HeraldError as exc:
        return {}, exc.on_page()


def zone_choices(herald: Herald, draft: Draft) -> list[tuple[str, list[str]]]:
    """The schedule's time-zone list: the draft's own and the institution's, the offices', Africa/*, the rest."""
    try:
        offices = sorted(set(herald.offices.timezones(draft.tenant or None).values()))
    except HeraldError:
        offices = []
    return zone_groups([draft.timezone, herald.settings.timezone, *offices], available_timezones())


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    def form_page(
        request: Request,
        draft: Draft,
        *,
        campaign: Campaign | None = None,
        error: Any = None,
        field: str | None = None,
        show: bool = False,
    ) -> Response:
        rule = draft.rule()
        found, lookup_error = choices(herald, rule, draft)
        return render(
            request,
            "campaign_form.html",
            status=422 if error else 200,
            draft=draft,
            campaign=campaign,
            rule=rule,
            rules=all_rules(draft.triggered),
            choices=found,
            kinds=ParamKind,
            triggers=TRIGGERS,
            recurrences=RECURRENCES,
            zones=zone_choices(herald, draft),
            weekdays=DAYS,
            providers=sorted(herald.providers),
            error=error,
            error_field=field,  # the input the error is shown next to; None: above the form
            in_form=True,
            languages=NAMES,
            lookup_error=lookup_error,
            result=preview_of(herald, draft, viewer(request).role is Role.ADMIN) if show else None,
        )

    def handle(request: Request, form: FormData, campaign: Campaign | None) -> Response:
        user, _ = acting(request, Role.CAMPAIGN_MANAGER, form)
        draft = Draft.of_form(form)
        action = text(form, "action")
        if action == "gsm7":  # "Use GSM-7 characters" without script: the same rewrite, shown for saving
            draft = replace(draft, message=to_gsm7(draft.message))
            return form_page(request, draft, campaign=campaign, show=True)
        if action != "save":
            return form_page(request, draft, campaign=campaign, show=action == "preview")
        try:
            request_in = draft.request(herald)
            if campaign is None:
                saved = service.create(
                    request_in,
                    store=herald.store,
                    corebanks=herald.corebanks,
                    providers=herald.providers,
                    clock=herald.clock,
                    calendar=herald.calendar,
                    actor=Actor.ui(user.username),
                )
                return see_other(f"/campaigns/{saved.id}?notice=created")
            service.edit(
                campaign.id,
                request_in,
                store=herald.store,
                corebanks=herald.corebanks,
                providers=herald.providers,
                clock=herald.clock,
                calendar=herald.calendar,
                actor=Actor.ui(user.username),
            )
            return see_other(f"/campaigns/{campaign.id}?notice=saved")
        except ValidationError as exc:  # in the UI's words, next to the input it is about
            field = error_field(exc, draft.rule())
            return form_page(request, draft, campaign=campaign, error=exc.on_page(), field=field)
        except ValueError as exc:  # pydantic's, for a name too long or empty
            message = exc.errors()[0]["msg"] if hasattr(exc, "errors") else exc
            return form_page(request, draft, campaign=campaign, error=message, field=error_field(exc, draft.rule()))

    @pages.get("/campaigns/new")
    def new_campaign(request: Request) -> Response:
        allowed(viewer(request), Role.CAMPAIGN_MANAGER)
        return form_page(request, Draft())

    @pages.post("/campaigns/new")
    def create(request: Request, form: Form) -> Response:
        return handle(request, form, None)

    @pages.post("/campaigns/form-preview")
    def preview_fragment(request: Request, form: Form) -> Response:
        user, _ = acting(request, Role.CAMPAIGN_MANAGER, form)
        result = preview_of(herald, Draft.of_form(form), user.role is Role.ADMIN)
        return render(request, "_preview.html", result=result, in_form=True)

    @pages.get("/campaigns/{campaign_id}/edit")
    def edit_campaign(
        request: Request, campaign_id: CampaignId, gsm7: Annotated[bool, Query()] = False
    ) -> Response:
        allowed(viewer(request), Role.CAMPAIGN_MANAGER)
        campaign = service.get(campaign_id, store=herald.store)
        lifecycle.apply(campaign.status, CampaignAction.EDIT, name=campaign.name)  # say so now, not after typing
        draft = Draft.of_campaign(campaign)
        if gsm7:  # from the campaign page's "Use GSM-7 characters": the rewrite is saved only when the officer saves
            draft = replace(draft, message=to_gsm7(draft.message))
        return form_page(request, draft, campaign=campaign, show=True)

    @pages.post("/campaigns/{campaign_id}/edit")
    def edit(request: Request, campaign_id: CampaignId, form: Form) -> Response:
        return handle(request, form, service.get(campaign_id, store=herald.store))

    return pages
