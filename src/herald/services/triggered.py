"""From a Fineract event to sent messages: every active triggered campaign listening to it, within a second.

The event's own id (the repayment transaction, the activated client ...) is the message's dedup
fact, so a hook Fineract sends twice, or a retried request, creates nothing twice. Whatever brought
the event (a hook, an external event, the catch-up job), one that happened longer ago than the
campaign's "too late after" is stored INVALID with the reason (domain/lateness.py), under the
same dedup key: a later hook of the same event finds it there and sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from herald.clock import Clock
from herald.corebank.engines import CoreBanks
from herald.corebank.event_rules import run_triggered
from herald.domain import lateness
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign
from herald.domain.compose import compose
from herald.domain.message import MessageStatus
from herald.domain.segments import Alphabet
from herald.domain.templates import Template
from herald.domain.times import campaign_zone
from herald.rules.catalog import rules_for_event
from herald.services.hooks import FineractEvent
from herald.services.materialize import record_row
from herald.services.office_profiles import OfficeProfiles
from herald.store import campaign_messages, hook_arrivals, optouts
from herald.store import campaigns as campaign_store
from herald.store import messages as message_store


def materialize_event(
    event: FineractEvent,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    date_format: str,
    default_region: str,
    alphabets: Mapping[str, Alphabet] | None = None,
    campaign_id: int | None = None,
    hook: bool = True,
) -> dict[str, Any]:
    """Create the messages of every campaign listening to the event; return counts and the new PENDING ids.

    `campaign_id`: only that campaign's (the catch-up job feeds each campaign the events past its
    own mark). `hook`: the event came as a hook, which the campaign page's "last arrived" counts.
    """
    result: dict[str, Any] = {"campaigns": 0, "created": 0, "duplicates": 0, "too_late": 0, "pending_ids": []}
    if hook:
        with store.begin() as conn:  # the triggered campaign's page says when the hook last came
            hook_arrivals.record(
                conn,
                tenant=event.tenant,
                entity=event.entity,
                action=event.action,
                at=clock.now(),
                succeeded=event.succeeded,
            )
    if not event.succeeded:
        return result
    rules = {r.id: r for r in rules_for_event(event.entity, event.action)}
    if not rules:
        return result
    with store.connect() as conn:
        listening = campaign_store.listening(conn, tenant=event.tenant, rule_ids=list(rules))
    if campaign_id is not None:
        listening = [c for c in listening if c.id == campaign_id]
    if not listening:
        return result
    now = clock.now()
    with store.connect() as conn:
        blocked = frozenset(optouts.all_numbers(conn))
    for campaign in listening:
        today = calendar.today(event.at or now)
        with corebanks.engine(campaign.tenant).connect() as source:
            rows = list(
                run_triggered(
                    source,
                    campaign.rule,
                    campaign.params,
                    event.ids,
                    today,
                    date_format=date_format,
                    zone=ZoneInfo(calendar.timezone),  # RepaymentTime in the institution's local time
                )
            )
        composed = list(
            compose(
                rows,
                Template.parse(campaign.template),
                offices.regions(campaign.tenant),
                default_region,
                blocked,
                (alphabets or {}).get(campaign.provider, Alphabet.GSM7),
            )
        )
        late = _too_late(event, campaign, now, offices, calendar)
        if late is not None:  # never sendable; the dedup key is the one its sendable message would have had
            composed = [replace(c, status=MessageStatus.INVALID, reason=late) for c in composed]
        records = [record_row(c, campaign, None, now) for c in composed]
        with store.begin() as conn:
            created = message_store.insert_new(conn, records)
            new_pending = campaign_messages.untried_pending_ids(conn, campaign.id, [r[1] for r in records])
        result["campaigns"] += 1
        result["created"] += created
        result["too_late"] += created if late is not None else 0
        result["duplicates"] += len(records) - created
        result["pending_ids"] = [*result["pending_ids"], *new_pending]
    return result


def _too_late(
    event: FineractEvent, campaign: Campaign, now: datetime, offices: OfficeProfiles, calendar: BusinessCalendar
) -> str | None:
    """Why the event is too old for this campaign to message, or None (in time, or its time is not known)."""
    if event.at is None:
        return None
    zone = campaign_zone(None, campaign.params, offices.timezones(campaign.tenant), calendar.timezone)
    return lateness.too_late(
        entity=event.entity,
        action=event.action,
        at=event.at,
        dated=event.dated,
        now=now,
        limit_minutes=campaign.late_limit,
        zone=zone,
    )
