"""A Triggered campaign's page: a sample from a recent real event, the hook URL, its registration, its last call.

A Triggered campaign has no audience to preview, so the officer sees the message the latest
matching event in Fineract would have produced (masked as the viewer may see it), and the IT
person sees whether Fineract can call herald at all: the URL to register, whether Fineract has it
registered for the rule's events (asked through Fineract's API when herald has its credentials),
and when the hook last arrived. Both see how far the catch-up job has read Fineract for events
whose hook never came (its mark, its last run, the messages it made and how many were too late),
and the campaign's "too late after".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from herald.clock import Clock
from herald.config import Settings
from herald.corebank.catchup_sources import covers
from herald.corebank.engines import CoreBanks
from herald.corebank.recent_events import event_kind, latest_event
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign
from herald.domain.compose import compose
from herald.domain.lateness import limit_text
from herald.domain.phones import mask
from herald.domain.redact import redact_phones
from herald.domain.segments import Alphabet
from herald.errors import HeraldError
from herald.events.kinds import kinds_for
from herald.services.catchup import mark_of
from herald.services.hook_registration import HOOK_EVENTS, payload_url, registered_events
from herald.services.languages import LanguagePlan
from herald.services.office_profiles import OfficeProfiles
from herald.services.preview import PreviewSample, PreviewSettings
from herald.store import catchup as catchup_store
from herald.store import external_events as event_store
from herald.store import hook_arrivals, optouts
from herald.store.catchup import CatchUpMark
from herald.store.hook_arrivals import HookArrival

CHECK_EVERY = 60.0
"""Seconds a Fineract answer about its hooks is reused: a page refresh must not call Fineract each time."""
_checked: dict[tuple[str, str, str], tuple[float, set[tuple[str, str]] | str]] = {}


@dataclass(frozen=True)
class EventSample:
    """The message a recent real event would have sent, or why there is none."""

    sample: PreviewSample | None
    sample_from: str | None  # "the loan repayment of 20 Nov 2026 (loanTransactionId 2851)"
    problem: str | None


@dataclass(frozen=True)
class TriggeredStatus:
    """Everything the page shows; a `*_problem` is the sentence saying why that part is missing."""

    events: tuple[str, ...]
    event: EventSample
    hook_url: str | None
    hook_url_problem: str | None
    registered: bool | None  # None: not known
    registration: str
    arrivals: tuple[HookArrival, ...]
    too_late_after: str = ""  # "24 hours": older events are stored Invalid, never sent
    catchup: CatchUpMark | None = None
    catchup_problem: str | None = None  # why there is no mark to show
    too_late: int = 0  # this campaign's messages refused as too late, whatever brought their event
    event_types: tuple[str, ...] = ()  # the Fineract external event types that fire the rule
    events_from: str | None = None  # the broker herald reads them from (no password); None: HERALD_EVENTS_URL unset
    event_arrivals: tuple[EventArrival, ...] = ()

    @property
    def source(self) -> str:
        """Where this campaign's events have come from: hooks, external events, both, or nothing yet."""
        sources = [
            name for name, seen in (("Fineract hooks", self.arrivals), ("external events", self.event_arrivals)) if seen
        ]
        if not sources:
            return "Nothing has arrived yet" + (" (hooks or external events)" if self.events_from else " (hooks)")
        return " and ".join(sources)


@dataclass(frozen=True)
class EventArrival:
    """The latest external event of one kind and how many have come."""

    kind: str  # Fineract's type name, e.g. LoanTransactionMakeRepaymentPostBusinessEvent
    last_at: datetime
    received: int


def _registration(
    settings: Settings, tenant: str, url: str, events: tuple[tuple[str, str], ...]
) -> tuple[bool | None, str]:
    password = settings.fineract_password.get_secret_value() if settings.fineract_password else ""
    if not settings.fineract_api_url or not password:
        return None, (
            "herald cannot ask Fineract: set HERALD_FINERACT_API_URL and HERALD_FINERACT_PASSWORD (a Fineract user"
            " allowed to read hooks, HERALD_FINERACT_USERNAME, default mifos) to see it here."
        )
    key = (settings.fineract_api_url, tenant, url)
    cached = _checked.get(key)
    if cached is None or time.monotonic() - cached[0] > CHECK_EVERY:
        try:
            answer: set[tuple[str, str]] | str = registered_events(
                settings.fineract_api_url,
                tenant,
                settings.fineract_username,
                password,
                url,
                verify_tls=settings.fineract_verify_tls,
            )
        except HeraldError as exc:
            answer = str(exc)
        cached = _checked[key] = (time.monotonic(), answer)
    found = cached[1]
    if isinstance(found, str):
        return None, found
    # What `herald fineract hook` registers (LOAN/RECOVERYPAYMENT, which also fires 179, is not among them).
    required = [e for e in events if e in HOOK_EVENTS] or list(events)
    missing = [f"{e}/{a}" for e, a in required if (e, a) not in found]
    if not missing:
        return True, "Fineract has an active hook sending these events to this URL."
    if len(missing) == len(required):
        return (
            False,
            "Fineract has no active hook sending these events to this URL: register it (herald fineract hook).",
        )
    return False, f"Fineract's hook to this URL lacks {', '.join(missing)}: add them to the hook's events."


def event_sample(
    campaign: Campaign,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    settings: PreviewSettings,
    reveal: bool = False,
) -> EventSample:
    """The campaign's template rendered for the newest event of its rule's kind that reaches its recipients."""
    rule = campaign.rule
    preview = settings
    sample = sample_from = sample_problem = None
    try:
        with corebanks.engine(campaign.tenant).connect() as conn:
            found = latest_event(
                conn,
                rule,
                campaign.params,
                calendar.today(clock.now()),
                date_format=preview.date_format,
                zone=ZoneInfo(calendar.timezone),
            )
        if found is None:
            sample_problem = f"No recent {event_kind(rule)} in Fineract reaches this campaign's recipients yet."
        else:
            with store.connect() as conn:
                opted_out = frozenset(optouts.all_numbers(conn))
            plan = LanguagePlan.of(campaign, corebanks, offices)
            with corebanks.engine(campaign.tenant).connect() as conn:
                pick = plan.batch(conn, [found.row])
            (c,) = compose(
                [found.row],
                plan.first,
                offices.regions(campaign.tenant),
                preview.default_region,
                opted_out,
                preview.alphabets.get(campaign.provider, Alphabet.GSM7),
                pick,
            )
            sample = PreviewSample(
                c.row.client_id, mask(c.mobile_no), c.body, c.encoding, c.segments, c.status, c.reason, c.language
            )
            if not reveal:
                sample = replace(sample, body=redact_phones(sample.body) or "", reason=redact_phones(sample.reason))
            ids = ", ".join(f"{name} {value}" for name, value in found.event.items())
            day = date.fromisoformat(found.on).strftime("%d %b %Y")  # as the pages write a day: 20 Nov 2026
            sample_from = f"the {event_kind(rule)} of {day} ({ids})"
    except HeraldError as exc:
        sample_problem = str(exc)
    return EventSample(sample, sample_from, sample_problem)


def triggered_status(
    campaign: Campaign,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    settings: Settings,
    alphabets: dict[str, Alphabet] | None = None,
    reveal: bool = False,
) -> TriggeredStatus:
    """The triggered campaign's page facts; `reveal` (an admin) sees full numbers and the hook URL's secret."""
    rule = campaign.rule
    found_sample = event_sample(
        campaign,
        store=store,
        corebanks=corebanks,
        calendar=calendar,
        offices=offices,
        clock=clock,
        settings=PreviewSettings.of(settings, alphabets),
        reveal=reveal,
    )
    secret = settings.fineract_hook_secret.get_secret_value() if settings.fineract_hook_secret else None
    hook_url = hook_url_problem = None
    registered: bool | None = None
    registration = "set the hook URL first."
    try:
        url = payload_url(settings.public_url, secret)
        hook_url = url if reveal or not secret else url.replace(f"/{secret}/", "/" + "•" * 8 + "/")
        registered, registration = _registration(settings, campaign.tenant, url, rule.events)
    except HeraldError as exc:
        hook_url_problem = str(exc)
    with store.connect() as conn:
        arrivals = hook_arrivals.latest(conn, tenant=campaign.tenant, events=rule.events)
        came = event_store.latest_arrivals(conn, tenant=campaign.tenant)
        too_late = catchup_store.too_late_count(conn, campaign.id)
    mark = mark_of(campaign, store=store)
    kinds = kinds_for(set(rule.events))
    catchup_problem = None
    if not covers(rule.id):
        catchup_problem = (
            f"The catch-up job does not read {rule.name!r} events: only Fineract's hooks or external events bring them."
        )
    elif mark is None:
        catchup_problem = "Not caught up yet: the mark is set when the campaign is activated."
    return TriggeredStatus(
        events=tuple(f"{e}/{a}" for e, a in rule.events),
        event=found_sample,
        hook_url=hook_url,
        hook_url_problem=hook_url_problem,
        registered=registered,
        registration=registration,
        arrivals=tuple(arrivals),
        too_late_after=limit_text(campaign.late_limit),
        catchup=mark,
        catchup_problem=catchup_problem,
        too_late=too_late,
        event_types=tuple(k.type for k in kinds),
        events_from=settings.events_broker.shown() if settings.events_broker else None,
        event_arrivals=tuple(
            sorted(
                (EventArrival(k.type, *came[(k.entity, k.action)]) for k in kinds if (k.entity, k.action) in came),
                key=lambda a: a.last_at,
                reverse=True,
            )
        ),
    )
