"""What Activate, Reactivate and Re-send would cost, shown before they are confirmed (UI and CLI alike).

Activation reuses the preview (audience, segments, cost of one run); a re-send counts the failed
messages it would copy, per failure code, and prices their segments. Both warn when a schedule
would message the same audience more often than daily.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Engine

from herald.clock import Clock
from herald.corebank.engines import CoreBanks
from herald.domain import campaign as lifecycle
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign, CampaignAction, CampaignStatus, TriggerType
from herald.domain.confirmation import OCCURRENCES_LOOKED_AT, busiest_day, fingerprint
from herald.errors import HeraldError, LifecycleError, ValidationError
from herald.services import campaigns as campaign_service
from herald.services.office_profiles import OfficeProfiles
from herald.services.preview import PreviewSettings, preview
from herald.services.resend import code_of, resendable

COSTLY = ("activate", "reactivate", "resend")


@dataclass(frozen=True)
class CodeCount:
    """One failure code among the messages a re-send could copy: how many, and their segments."""

    code: str
    messages: int
    segments: int


@dataclass(frozen=True)
class Estimate:
    """What a costly action would do, as shown before it is confirmed."""

    action: str
    campaign: Campaign
    audience: int | None  # clients (activation) or messages (re-send); None when not known beforehand
    sendable: int = 0
    segments: int = 0
    cost: float = 0.0
    currency: str = ""
    exact: bool = True
    note: str | None = None  # why there are no numbers, or what they leave out
    warnings: tuple[str, ...] = ()
    codes: tuple[CodeCount, ...] = ()  # re-send: every failure code present
    chosen: tuple[str, ...] = ()  # re-send: the codes it would copy
    per_run: bool = False  # a Scheduled campaign's numbers are for each run
    newest: int = 0  # re-send: the highest id among the messages it would copy

    @property
    def fingerprint(self) -> str:
        """What a confirmation of this estimate binds to (see domain/confirmation.py)."""
        if self.action == "resend":  # a new failure meanwhile changes what would go
            # `newest` too: copies that failed again the same way are as many, yet other messages (a replay).
            return fingerprint(self.action, self.campaign, self.chosen, self.audience, self.segments, self.newest)
        return fingerprint(self.action, self.campaign)

    @property
    def nothing_to_do(self) -> bool:
        return self.action == "resend" and not self.audience


def schedule_warnings(campaign: Campaign, clock: Clock) -> tuple[str, ...]:
    """A warning when the campaign's schedule runs more than once on one day."""
    if campaign.recurrence is None or campaign.trigger_type is not TriggerType.SCHEDULE:
        return ()
    upcoming = campaign.recurrence.occurrences_after(clock.now(), OCCURRENCES_LOOKED_AT)
    busy = busiest_day(upcoming, campaign.recurrence.timezone)
    return (busy.sentence(campaign.recurrence.timezone),) if busy else ()


def activation_estimate(
    campaign_id: int | str,
    action: str,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    preview_settings: PreviewSettings,
) -> Estimate:
    """The audience, segments and cost an activation or reactivation commits to (one run of a Scheduled one)."""
    campaign = campaign_service.get(campaign_id, store=store)
    lifecycle.apply(campaign.status, CampaignAction(action), name=campaign.name)  # refused before anyone is counted
    warnings = schedule_warnings(campaign, clock)
    per_run = campaign.trigger_type is TriggerType.SCHEDULE
    if campaign.trigger_type is TriggerType.TRIGGERED:
        event_note = (
            "It messages whoever each Fineract event is about, the moment it happens: there is no audience "
            f"to count beforehand; each message costs its segments at {preview_settings.price_per_segment} "
            f"{preview_settings.price_currency}."
        )
        return Estimate(
            action, campaign, None, note=event_note, warnings=warnings, currency=preview_settings.price_currency
        )
    try:
        found = preview(
            campaign,
            store=store,
            corebanks=corebanks,
            calendar=calendar,
            offices=offices,
            clock=clock,
            settings=preview_settings,
            sample_size=0,
        )
    except ValidationError:
        raise
    except HeraldError as exc:  # the core bank is unreachable: say so, the officer decides
        unavailable = f"The estimate is not available: {exc}"
        return Estimate(action, campaign, None, note=unavailable, warnings=warnings, per_run=per_run)
    note = None
    if action == "reactivate":
        note = "Clients already messaged by this campaign are not messaged again, so it may cost less."
    return Estimate(
        action,
        campaign,
        found.audience,
        sendable=found.sendable,
        segments=found.segments,
        cost=found.cost,
        currency=found.currency,
        exact=found.exact,
        note=note,
        warnings=warnings,
        per_run=per_run,
    )


def resend_estimate(
    campaign_id: int | str,
    codes: Collection[str] | None,
    *,
    store: Engine,
    clock: Clock,
    preview_settings: PreviewSettings,
) -> Estimate:
    """The failed messages a re-send of these failure codes (all when None) would copy, and their cost."""
    campaign = campaign_service.get(campaign_id, store=store)
    if campaign.status is not CampaignStatus.ACTIVE:
        raise LifecycleError(
            f'Campaign "{campaign.name}" is {campaign.status.name.capitalize()}: its messages are not sent, '
            "so a re-send would only wait.",
            hint="Activate or reactivate it first.",
        )
    per_code: dict[str, list[int]] = {}
    newest_of: dict[str, int] = {}
    for message in resendable(campaign.id, store=store):
        per_code.setdefault(code_of(message), []).append(message.segments)
        newest_of[code_of(message)] = max(newest_of.get(code_of(message), 0), message.id)
    present = tuple(
        CodeCount(code, len(segments), sum(segments))
        for code, segments in sorted(per_code.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    chosen = tuple(sorted(c.code for c in present)) if codes is None else tuple(sorted(set(codes)))
    messages = sum(c.messages for c in present if c.code in chosen)
    segments = sum(c.segments for c in present if c.code in chosen)
    return Estimate(
        "resend",
        campaign,
        messages,
        sendable=messages,
        segments=segments,
        cost=round(segments * preview_settings.price_per_segment, 4),
        currency=preview_settings.price_currency,
        warnings=schedule_warnings(campaign, clock),
        codes=present,
        chosen=chosen,
        newest=max((newest_of.get(c, 0) for c in chosen), default=0),
    )


def in_words(estimate: Estimate) -> list[str]:
    """The estimate as the CLI says it, one line each."""
    lines: list[str] = []
    e = estimate
    approx = "" if e.exact else "about "
    if e.action == "resend":
        if e.codes:
            shown = [f"{c.code} {c.messages:,}" + ("" if c.code in e.chosen else " (not chosen)") for c in e.codes]
            lines.append("Failed messages to re-send, by failure code: " + ", ".join(shown) + ".")
        lines.append(nothing_sentence(e) if e.nothing_to_do else f"{e.audience or 0:,} failed messages to re-send.")
    elif e.audience is not None:
        lines.append(
            f"Audience{' per run' if e.per_run else ''}: {approx}{e.audience:,} clients; "
            f"{e.sendable:,} sendable, {e.audience - e.sendable:,} invalid."
        )
    if e.audience:
        lines.append(f"Estimated cost: {approx}{e.segments:,} segments = {e.cost:,.2f} {e.currency}.")
    if e.note:
        lines.append(e.note)
    lines += [f"Warning: {w}" for w in e.warnings]
    return lines


def nothing_sentence(estimate: Estimate) -> str:
    """Why a re-send would queue nothing, in one line."""
    chosen = set(estimate.chosen) != {c.code for c in estimate.codes}
    which = f" with code {', '.join(estimate.chosen)}" if chosen and estimate.chosen else ""
    if not estimate.codes:
        return "0 failed messages to re-send: every failed message has been re-sent already."
    if not estimate.chosen:
        return "0 failed messages to re-send: choose at least one failure code."
    return f"0 failed messages to re-send{which}; the codes that have some are listed above."
