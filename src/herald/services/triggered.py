"""From a Fineract event to sent messages: every active triggered campaign listening to it, within a second.

The event's own id (the repayment transaction, the activated client ...) is the message's dedup
fact, so a hook Fineract sends twice, or a retried request, creates nothing twice. Whatever brought
the event (a hook, an external event, the catch-up job), one that happened longer ago than the
campaign's "too late after" is stored INVALID with the reason (domain/lateness.py), under the
same dedup key: a later hook of the same event finds it there and sends nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from herald.clock import Clock
from herald.corebank.engines import CoreBanks
from herald.corebank.event_rules import TriggeredQuery, event_ids
from herald.corebank.runner import AudienceRow
from herald.domain import lateness
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign
from herald.domain.compose import compose
from herald.domain.dedup import dedup_key
from herald.domain.message import MessageStatus
from herald.domain.segments import Alphabet
from herald.domain.times import campaign_zone
from herald.errors import ParameterError
from herald.rules.catalog import rules_for_event
from herald.services.hooks import FineractEvent
from herald.services.languages import LanguagePlan
from herald.services.materialize import record_row
from herald.services.office_profiles import OfficeProfiles
from herald.store import campaign_messages, hook_arrivals, optouts
from herald.store import campaigns as campaign_store
from herald.store import catchup as marks
from herald.store import messages as message_store


@dataclass
class EventOutcome:
    """What one event made: its messages, or why its ids were refused."""

    created: int = 0
    duplicates: int = 0
    too_late: int = 0
    refused: str | None = None  # a ParameterError's sentence: the rule cannot use the event's ids
    campaigns: int = 0  # the campaigns listening to it


@dataclass
class Materialized:
    """What a batch of events made, event by event, and the new PENDING messages to send now."""

    outcomes: list[EventOutcome]
    campaigns: int = 0
    pending_ids: list[int] = field(default_factory=list)


def materialize_events(
    events: Sequence[FineractEvent],
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
) -> Materialized:
    """Create the messages of every campaign listening to each event, a batch at a time.

    What a burst of events shares is done once per batch: the listening campaigns, the opt-out
    list, each campaign's rule made ready on one core-bank connection, its template parsed, and
    one transaction writing every campaign's messages, and one lookup of the events already
    messaged (they count as duplicates, and their rule's query is not run). The other events ask the
    core bank a few dozen to a statement (`TriggeredQuery.run_many`), and one whose ids the rule cannot
    use is refused alone (`EventOutcome.refused`).
    `campaign_id`: only that campaign's (the catch-up job feeds each campaign the events past its
    own mark). `hook`: the events came as hooks, which the campaign page's "last arrived" counts.
    """
    done = Materialized([EventOutcome() for _ in events])
    now = clock.now()
    if hook and events:
        arrived: dict[tuple[str, str, str], tuple[int, bool]] = {}  # per event kind: how many, the last one's fate
        for event in events:
            key = (event.tenant, event.entity, event.action)
            arrived[key] = (arrived.get(key, (0, True))[0] + 1, event.succeeded)
        with store.begin() as conn:  # the triggered campaign's page says when the hook last came
            for (tenant, entity, action), (count, succeeded) in arrived.items():
                hook_arrivals.record(
                    conn, tenant=tenant, entity=entity, action=action, at=now, succeeded=succeeded, count=count
                )
    kinds: dict[tuple[str, str, str], list[int]] = {}
    for n, event in enumerate(events):
        if event.succeeded:
            kinds.setdefault((event.tenant, event.entity, event.action), []).append(n)
    heard: dict[int, tuple[Campaign, list[int]]] = {}  # campaign id -> the campaign, its events in order
    with store.connect() as conn:
        for (tenant, entity, action), numbers in kinds.items():
            rule_ids = [r.id for r in rules_for_event(entity, action)]
            if not rule_ids:
                continue
            for campaign in campaign_store.listening(conn, tenant=tenant, rule_ids=rule_ids):
                if campaign_id is None or campaign.id == campaign_id:
                    heard.setdefault(campaign.id, (campaign, []))[1].extend(numbers)
        for _, numbers in heard.values():
            for n in set(numbers):
                done.outcomes[n].campaigns += 1
        blocked = frozenset(optouts.all_numbers(conn)) if heard else frozenset()
        for campaign, numbers in heard.values():
            numbers[:] = _not_yet_messaged(conn, campaign, numbers, events, done)
    zone = ZoneInfo(calendar.timezone)  # RepaymentTime in the institution's local time
    writes: list[tuple[Campaign, list[tuple[int, list[tuple[Any, ...]], bool]]]] = []
    for campaign, numbers in heard.values():
        if not numbers:  # every event already messaged: the core bank is not asked
            continue
        plan = LanguagePlan.of(campaign, corebanks, offices)
        regions = offices.regions(campaign.tenant)
        alphabet = (alphabets or {}).get(campaign.provider, Alphabet.GSM7)
        campaign_time_zone = campaign_zone(None, campaign.params, offices.timezones(campaign.tenant), calendar.timezone)
        made: list[tuple[int, list[tuple[Any, ...]], bool]] = []
        with corebanks.engine(campaign.tenant).connect() as source:
            query = TriggeredQuery(source, campaign.rule, campaign.params, date_format=date_format, zone=zone)
            found: list[tuple[int, list[AudienceRow]]] = []
            asked = sorted(set(numbers))
            answers = query.run_many([(events[n].ids, calendar.today(events[n].at or now)) for n in asked])
            for n, rows in zip(asked, answers, strict=True):
                if isinstance(rows, ParameterError):
                    done.outcomes[n].refused = str(rows)
                else:
                    found.append((n, rows))
            # The clients' languages of the whole batch of events in one lookup.
            pick = plan.batch(source, [row for _, rows in found for row in rows])
            for n, rows in found:
                event = events[n]
                composed = list(compose(rows, plan.first, regions, default_region, blocked, alphabet, pick))
                late = _too_late(event, campaign, now, campaign_time_zone)
                if late is not None:  # never sendable; the dedup key is the one its sendable message would have had
                    composed = [replace(c, status=MessageStatus.INVALID, reason=late) for c in composed]
                made.append((n, [record_row(c, campaign, None, now) for c in composed], late is not None))
        writes.append((campaign, made))
    if writes:
        with store.begin() as conn:
            for campaign, made in writes:
                keys = [r[1] for _, records, _late in made for r in records]
                taken = campaign_messages.taken_keys(conn, campaign.id, keys)
                message_store.insert_new(conn, [r for _, records, _late in made for r in records])
                done.pending_ids.extend(campaign_messages.untried_pending_ids(conn, campaign.id, keys))
                for n, records, refused_as_late in made:
                    fresh = sum(1 for r in records if r[1] not in taken)
                    taken.update(r[1] for r in records)  # one event's key twice in a batch counts once
                    outcome = done.outcomes[n]
                    outcome.created += fresh
                    outcome.duplicates += len(records) - fresh
                    outcome.too_late += fresh if refused_as_late else 0
    done.campaigns = len(heard)
    return done


def already_messaged(conn: Connection, campaign: Campaign, facts: Collection[str]) -> Counter[str]:
    """How many messages the campaign has for each of these event facts ("77031", "4410/3"); absent: none.

    A triggered rule's dedup key follows from the event's ids alone (where one event reaches several
    clients, the key is that followed by ":<client id>"), so this needs no rule query: the hooks, the
    event consumer and the catch-up job all ask it before running one.
    """
    rule = campaign.rule
    keyed = {dedup_key(rule.fact, fact, rule.dedup_scope, None): fact for fact in facts}
    if rule.fans_out:
        counts = marks.prefix_counts(conn, campaign.id, [f"{key}:" for key in keyed])
        return Counter({keyed[prefix[:-1]]: n for prefix, n in counts.items()})
    return Counter(keyed[key] for key in marks.existing_keys(conn, campaign.id, list(keyed)))


def _not_yet_messaged(
    conn: Connection, campaign: Campaign, numbers: list[int], events: Sequence[FineractEvent], done: Materialized
) -> list[int]:
    """The events (their numbers) the campaign has no message for yet; the others count as duplicates.

    An event already messaged, by its hook, its external event or the catch-up job, costs one lookup
    per batch instead of the rule's query: when the catch-up job and the event consumer work through
    the same backlog, each skips what the other has done.
    """
    rule = campaign.rule
    facts: dict[int, str] = {}  # event number -> its fact
    left: list[int] = []
    for n in sorted(set(numbers)):
        try:
            facts[n] = rule.event_fact(event_ids(rule, events[n].ids))
        except ParameterError:
            left.append(n)  # the rule's query path refuses it with the reason
    existing = already_messaged(conn, campaign, set(facts.values()))
    for n, fact in facts.items():
        if existing[fact]:
            done.outcomes[n].duplicates += existing[fact]
        else:
            left.append(n)
    return sorted(left)


def materialize_event(event: FineractEvent, **parts: Any) -> dict[str, Any]:
    """One event (a hook's): the counts and new PENDING ids; ParameterError when the rule cannot use its ids."""
    done = materialize_events([event], **parts)
    (outcome,) = done.outcomes
    if outcome.refused is not None:
        raise ParameterError(outcome.refused)
    return {
        "campaigns": outcome.campaigns,
        "created": outcome.created,
        "duplicates": outcome.duplicates,
        "too_late": outcome.too_late,
        "pending_ids": done.pending_ids,
    }


def _too_late(event: FineractEvent, campaign: Campaign, now: datetime, zone: str) -> str | None:
    """Why the event is too old for this campaign to message, or None (in time, or its time is not known).

    `zone`: the campaign's (its office's) time zone, in which the reason says when the event happened.
    """
    if event.at is None:
        return None
    return lateness.too_late(
        entity=event.entity,
        action=event.action,
        at=event.at,
        dated=event.dated,
        now=now,
        limit_minutes=campaign.late_limit,
        zone=zone,
    )
