"""The campaigns list and the campaign page: tabs of messages, search, pages, the chart, and the lifecycle actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from herald.app import Herald
from herald.corebank import lookups
from herald.domain.business_rule import ParamKind
from herald.domain.campaign import LIFECYCLE, Campaign, CampaignAction, CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.domain.times import campaign_zone
from herald.errors import CoreBankError, PermissionDeniedError, ValidationError
from herald.services import campaigns as service
from herald.services.audit import Actor
from herald.services.auth import Role, User
from herald.services.confirmation import COSTLY
from herald.services.resend import chain_marks, resend_counts
from herald.services.search import MessageFilter, MessagePage, shown_number, shown_text, tab_page
from herald.services.stats import language_counts
from herald.web import confirm_pages
from herald.web.campaign_preview import campaign_panels
from herald.web.chart import deliveries
from herald.web.pages import TABS, Form, PageRoute, acting, render, see_other, viewer

PAGE_SIZE = 25
CampaignId = Annotated[int, Path(ge=1, le=2**53)]
TRIGGER_WORDS = {
    TriggerType.DIRECT: "Direct",
    TriggerType.SCHEDULE: "Scheduled",
    TriggerType.TRIGGERED: "Triggered",
    TriggerType.GATEWAY: "Fineract gateway",
}


def find_messages(
    herald: Herald, campaign_id: int, status: MessageStatus, q: str, page: int, *, reveal: bool = False
) -> MessagePage:
    """One page of a tab, newest first; `q` is a client id, or words of the message text.

    Only an admin (`reveal`) may search the text for digits: PermissionDeniedError otherwise.
    """
    return tab_page(
        MessageFilter(status=status, campaign_id=campaign_id),
        q,
        page,
        PAGE_SIZE,
        store=herald.store,
        timezone=herald.settings.timezone,
        default_region=herald.settings.default_region,
        reveal=reveal,
    )


def actions_for(campaign: Campaign, user: User, failed: int) -> list[str]:
    """The lifecycle buttons this user may press on this campaign now (none for a viewer)."""
    if not user.role.allows(Role.CAMPAIGN_MANAGER) or campaign.trigger_type is TriggerType.GATEWAY:
        return []
    found = [a.value for a in CampaignAction if (campaign.status, a) in LIFECYCLE]
    if campaign.status is CampaignStatus.ACTIVE and failed:
        found.append("resend")
    return found


def parameter_lines(
    herald: Herald, campaign: Campaign, problems: list[str] | None = None
) -> list[tuple[str, str]]:
    """The rule's parameters in words: office and officer names rather than ids where the core bank has them.

    A core bank that cannot be read leaves the ids, and its sentence in `problems` for the page to say.
    """
    lines = []
    try:
        offices = lookups.office_names(herald.corebanks.engine(campaign.tenant))
    except CoreBankError as exc:
        offices = {}  # the page still shows, with the ids
        if problems is not None:
            problems.append(str(exc))
    for p in campaign.rule.parameters:
        value = campaign.params.get(p.name)
        shown = str(value)
        if p.kind is ParamKind.OFFICE:
            shown = "All offices" if value == -1 else offices.get(value or 0, f"office {value}")
        elif p.kind is ParamKind.LOAN_OFFICER:
            shown = {-1: "All", -10: "No officer"}.get(value or 0, f"staff {value}")
        elif p.kind is ParamKind.LOAN_TYPE:
            shown = next((c.label for c in lookups.LOAN_TYPES if c.value == value), shown)
        lines.append((p.label, shown))
    return lines


def zone_of(herald: Herald, campaign: Campaign) -> str:
    """The zone a campaign's page shows its times in: its schedule's, its office's, else the institution's."""
    office_zones = herald.offices.timezones(campaign.tenant)
    return campaign_zone(campaign.timezone, campaign.params, office_zones, herald.settings.timezone)


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    @pages.get("/campaigns")
    def campaign_list(request: Request) -> Response:
        viewer(request)
        counts = service.message_counts(store=herald.store)
        return render(
            request,
            "campaigns.html",
            campaigns=service.list_all(store=herald.store),
            counts=counts,
            tabs=TABS,
            triggers=TRIGGER_WORDS,
        )

    @pages.get("/campaigns/{campaign_id}")
    def campaign_page(
        request: Request,
        campaign_id: CampaignId,
        tab: Annotated[str, Query(max_length=20)] = "pending",
        q: Annotated[str, Query(max_length=100)] = "",
        page: Annotated[int, Query(ge=1, le=10**9)] = 1,
    ) -> Response:
        user = viewer(request)
        campaign = service.get(campaign_id, store=herald.store)
        status = dict(TABS).get(tab)
        if status is None:
            raise ValidationError(f"No tab {tab!r}; the tabs are {', '.join(t for t, _ in TABS)}.")
        counts = service.message_counts(store=herald.store, campaign_id=campaign.id).get(campaign.id, {})
        upcoming = []
        if campaign.recurrence is not None and campaign.status is CampaignStatus.ACTIVE:
            after = campaign.last_trigger_at or herald.clock.now()
            upcoming = campaign.recurrence.occurrences_after(max(after, herald.clock.now()), 5)
        reveal = user.role is Role.ADMIN
        refused = None
        try:
            found = find_messages(herald, campaign.id, status, q.strip(), page, reveal=reveal)
        except PermissionDeniedError as exc:  # the page still shows; the search says why it was not run
            found, refused = MessagePage(0, [], 1, 1), str(exc)
        corebank_problems: list[str] = []
        parameters = parameter_lines(herald, campaign, corebank_problems)
        return render(
            request,
            "campaign.html",
            status=403 if refused else 200,
            zone=zone_of(herald, campaign),
            campaign=campaign,
            triggers=TRIGGER_WORDS,
            counts=counts,
            resends=resend_counts(store=herald.store, campaign_id=campaign.id).get(campaign.id, {}),
            tabs=TABS,
            tab=tab,
            q=q.strip(),
            found=found,
            search_refused=refused,
            chart=deliveries(herald, campaign.id),
            actions=actions_for(campaign, user, counts.get(MessageStatus.FAILED, 0)),
            parameters=parameters,
            corebank_problem=corebank_problems[0] if corebank_problems else None,
            upcoming=upcoming,
            per_language=language_counts(store=herald.store, campaign_id=campaign.id),
            price_per_segment=herald.settings.price_per_segment,
            currency=herald.settings.price_currency,
            marks=chain_marks(campaign.id, [m.id for m in found.rows], store=herald.store),
            **campaign_panels(herald, campaign, user),  # preview before activation, a Triggered one's hook
            number=lambda n: shown_number(n, reveal=reveal),
            shown=lambda t: shown_text(t, reveal=reveal),
        )

    @pages.post("/campaigns/{campaign_id}/{action}")
    def campaign_action(
        request: Request, campaign_id: CampaignId, action: Annotated[str, Path(max_length=20)], form: Form
    ) -> Response:
        user, _ = acting(request, Role.CAMPAIGN_MANAGER, form)
        actor = Actor.ui(user.username)
        if action in COSTLY:  # they cost money: done only with the confirmation they carry
            return confirm_pages.act(herald, request, campaign_id, action, form, user)
        if action == "close":
            service.close(campaign_id, store=herald.store, clock=herald.clock, actor=actor)
            return see_other(f"/campaigns/{campaign_id}?notice=closed")
        if action == "delete":
            service.remove(campaign_id, store=herald.store, clock=herald.clock, actor=actor)
            return see_other("/campaigns?notice=deleted")
        raise ValidationError(f"No campaign action {action!r}.")

    return pages
