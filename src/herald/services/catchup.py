"""The job "Catch up missed Fineract events": the messages Triggered campaigns owe for hooks that never came.

Fineract's hooks are fire-and-forget: while herald is down, restarting or unreachable, a repayment
gets no receipt and nobody knows. This job reads, per active Triggered campaign, the events of its
rule in the core-banking database past the campaign's mark (corebank/catchup_sources.py) and feeds
each through `materialize_event` as the hook would have come, with the same ids: the same dedup
keys, so a hook that arrives late or twice changes nothing, and an event older than the campaign's
"too late after" is stored INVALID with the reason.

Guarantees, and how:
- Nothing owed twice: every message's dedup key is unique in the database; two runs at once (two
  workers on PostgreSQL) insert each message once, whoever comes first.
- Nothing lost: a mark moves forward only after the messages of the events it passes are stored,
  and never backwards; a crash anywhere means the next run repeats at most its last batch.
- No history: (re)activation sets the mark to "now" (the newest event id, today's business date),
  so activating a campaign, or reactivating one closed for a month, messages nothing from before.
- Bounded: at most `batch` events per campaign per run; the run's counts say what is left.
- Time for the hook: a transaction written less than HERALD_CATCHUP_SETTLE ago (2 minutes) is
  not read yet: its hook or external event is on its way, and a lower id may not be committed.
- Cheap rescans: events of a date-read rule dated today are read again each run (a loan approved
  this afternoon may have a lower id than this morning's); those whose message already exists are
  skipped before any rule SQL runs.

An event dated on its (re)activation day, before the (re)activation, is caught up: a business date
has no time of day to compare.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from herald.clock import Clock
from herald.corebank import catchup_sources as sources
from herald.corebank.catchup_sources import BY_ID, SourceEvent
from herald.corebank.engines import CoreBanks
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign, TriggerType
from herald.domain.lateness import day_start
from herald.domain.segments import Alphabet
from herald.domain.times import campaign_zone
from herald.errors import CoreBankError, HeraldError, ParameterError
from herald.services.hooks import FineractEvent
from herald.services.office_profiles import OfficeProfiles
from herald.services.triggered import already_messaged, materialize_events
from herald.store import campaigns as campaign_store
from herald.store import catchup as marks
from herald.store.catchup import CatchUpMark

log = logging.getLogger(__name__)

SETTLE = timedelta(minutes=2)
"""How long after a transaction is written the job first reads it: time for its hook or external event to come,
and for a transaction given a lower id to commit."""

BATCH = 500
"""Events fed through per campaign per run; a longer backlog carries on at the next run."""
AHEAD = timedelta(days=1)
"""How far ahead of herald's clock a transaction's time may be (the core bank's clock drifts) and still be believed."""
PAGES = 20
"""Pages of already-messaged events a date rescan may skip in one run (skipping costs one lookup per page)."""


def starting_mark(
    campaign: Campaign, *, corebanks: CoreBanks, calendar: BusinessCalendar, now: datetime
) -> tuple[int | None, date | None]:
    """The mark a (re)activation sets: (newest event id, None) or (0, today) by the rule's source; (None, None)
    for a rule the job does not read. A core bank that does not answer leaves the id unknown: the first run
    takes the newest then."""
    rule_id = campaign.rule.id
    if campaign.trigger_type is not TriggerType.TRIGGERED or not sources.covers(rule_id):
        return None, None
    if sources.SOURCES[rule_id].by != BY_ID:
        return 0, calendar.today(now)
    try:
        with corebanks.engine(campaign.tenant).connect() as conn:
            return sources.newest_id(conn, rule_id), None
    except HeraldError as exc:
        log.warning("campaign %s activated without a catch-up mark (set at the next run): %s", campaign.id, exc)
        return None, None


@dataclass
class CatchUp:
    """One pass of the job over every active Triggered campaign; `run()` returns its counts."""

    store: Engine
    corebanks: CoreBanks
    calendar: BusinessCalendar
    offices: OfficeProfiles
    clock: Clock
    date_format: str
    default_region: str
    alphabets: Mapping[str, Alphabet] = field(default_factory=dict)
    batch: int = BATCH
    settle: timedelta = SETTLE
    pending_ids: list[int] = field(default_factory=list)  # new sendable messages of the last run (for the sender)

    def run(self, on_corebank_error: Callable[[Campaign, CoreBankError], None] | None = None) -> dict[str, int]:
        """Catch up every active Triggered campaign whose rule the job reads; counts for the job's run."""
        self.pending_ids = []
        totals = {"campaigns": 0, "events": 0, "created": 0, "too_late": 0, "skipped": 0, "behind": 0, "failed": 0}
        with self.store.connect() as conn:
            ids = campaign_store.active_ids(conn, [TriggerType.TRIGGERED])
            active = [c for c in (campaign_store.by_id(conn, i) for i in ids) if c is not None]
        for campaign in active:
            if not sources.covers(campaign.rule.id):
                continue
            try:
                counts = self.campaign(campaign)
            except CoreBankError as exc:
                totals["failed"] += 1
                log.warning("catch-up of campaign %s skipped: %s", campaign.id, exc)
                if on_corebank_error is not None:
                    on_corebank_error(campaign, exc)
                continue
            totals["campaigns"] += 1
            for key in ("events", "created", "too_late", "skipped"):
                totals[key] += counts[key]
            totals["behind"] += int(counts["more"])
        if not (totals["events"] or totals["behind"] or totals["failed"]):
            return dict.fromkeys(totals, 0)  # an idle pass: the worker records no run for it
        return totals

    def campaign(self, campaign: Campaign) -> dict[str, Any]:
        """Catch up one campaign by at most one batch; its counts, and whether more is waiting ("more")."""
        with self.store.connect() as conn:
            mark = marks.get(conn, campaign.id)
        source = sources.SOURCES[campaign.rule.id]
        now = self.clock.now()
        if mark is None or (source.by == BY_ID and mark.last_id is None) or (source.by != BY_ID and not mark.last_date):
            self._first_mark(campaign, mark, now)  # activated before herald had the job, or the core bank was down
            return {"events": 0, "created": 0, "too_late": 0, "skipped": 0, "more": False}
        if source.by == BY_ID:
            return self._by_id(campaign, mark)
        return self._by_date(campaign, mark)

    def _first_mark(self, campaign: Campaign, mark: CatchUpMark | None, now: datetime) -> None:
        last_id, last_date = starting_mark(campaign, corebanks=self.corebanks, calendar=self.calendar, now=now)
        if last_id is None and last_date is None:
            raise CoreBankError(f"The core bank of campaign {campaign.id} did not answer; its mark waits for it.")
        with self.store.begin() as conn:
            if mark is None:
                marks.reset(conn, campaign.id, last_id=last_id, last_date=last_date, now=now)
            else:
                marks.advance(conn, campaign.id, last_id=last_id, last_date=last_date, now=now)

    def _by_id(self, campaign: Campaign, mark: CatchUpMark) -> dict[str, Any]:
        assert mark.last_id is not None
        # A row written less than `settle` ago is left alone, and so is every row after it: its hook or
        # external event has had no time to come yet (the event consumer working through a backlog would
        # otherwise race the job over the same rows), and a lower id than its own may not be committed yet
        # (two tellers at once). The mark stops before it. Pages of rows already messaged are read past.
        # A time more than a day ahead is no clock's drift but a wrong value: believed, it would hold the
        # job behind that row for ever, so the row counts as settled.
        now = self.clock.now()
        settled, believable = now - self.settle, now + AHEAD
        todo: list[SourceEvent] = []
        skipped, last_id, held, full = 0, None, False, False
        cursor, found = mark.last_id, []
        with self.corebanks.engine(campaign.tenant).connect() as conn:
            for _ in range(PAGES):
                found = sources.events_after_id(conn, campaign.rule.id, cursor, self.batch)
                fresh = next(
                    (n for n, e in enumerate(found) if e.created is not None and settled < e.created <= believable),
                    None,
                )
                if fresh is not None:
                    found, held = found[:fresh], True
                done = self._already_messaged(campaign, found)  # hooks came after all, or a crashed run stored them
                for event in found:
                    if event.id not in done and len(todo) == self.batch:
                        full = True  # the first event not fed: the next run reads from the mark again
                        break
                    if event.id in done:
                        skipped += 1
                    else:
                        todo.append(event)
                    last_id = cursor = event.id
                if full or held or len(found) < self.batch:
                    break
        counts = self._feed(campaign, todo)
        counts["skipped"] += skipped
        with self.store.begin() as conn:  # only now: the messages of every event it passes are stored
            marks.advance(
                conn, campaign.id, last_id=last_id, now=self.clock.now(),
                events=counts["events"], created=counts["created"], too_late=counts["too_late"],
            )  # fmt: skip
        # More now: a full batch fed, or pages of done events read past that the mark could follow.
        return counts | {"more": full or (len(found) == self.batch and not held)}

    def _by_date(self, campaign: Campaign, mark: CatchUpMark) -> dict[str, Any]:
        assert mark.last_date is not None
        today = self.calendar.today(self.clock.now())
        since = min(mark.last_date, today)
        # A past day is over: resume after its last event done. Today is read again from its start.
        cursor: tuple[date, int] | None = (since, mark.last_id or 0) if since < today else None
        todo: list[SourceEvent] = []
        resume: tuple[date, int] | None = None  # where the next run starts; None: caught up to today
        prev: tuple[date, int] | None = cursor
        skipped = 0
        with self.corebanks.engine(campaign.tenant).connect() as conn:
            for _ in range(PAGES):
                page = sources.events_from_date(conn, campaign.rule.id, since, today, cursor, self.batch)
                done = self._already_messaged(campaign, page)
                for event in page:
                    if event.id not in done and len(todo) == self.batch:
                        resume = prev or (event.on, 0)  # the first event not fed: the next run starts at it
                        break
                    if event.id in done:
                        skipped += 1
                    else:
                        todo.append(event)
                    prev = (event.on, event.id)
                if resume is not None or len(page) < self.batch:
                    break
                cursor = (page[-1].on, page[-1].id)
            else:
                resume = cursor  # only already-messaged pages so far: carry on after them next time
        counts = self._feed(campaign, todo)
        counts["skipped"] += skipped
        last_date, last_id = resume if resume is not None else (today, 0)
        if last_date >= today:
            last_date, last_id = today, 0  # today is read again from its start until it is over
        with self.store.begin() as conn:
            marks.advance_date(
                conn, campaign.id, last_date=last_date, last_id=last_id, now=self.clock.now(),
                events=counts["events"], created=counts["created"], too_late=counts["too_late"],
            )  # fmt: skip
        return counts | {"more": resume is not None}

    def _already_messaged(self, campaign: Campaign, events: list[SourceEvent]) -> set[int]:
        """The events whose message the campaign already has (a hook came, or an earlier run): no SQL for them."""
        if not events:
            return set()
        with self.store.connect() as conn:
            found = already_messaged(conn, campaign, {str(e.id) for e in events})
        return {e.id for e in events if found[str(e.id)]}

    def _feed(self, campaign: Campaign, events: list[SourceEvent]) -> dict[str, Any]:
        counts = {"events": 0, "created": 0, "too_late": 0, "skipped": 0}
        if not events:
            return counts
        zone = campaign_zone(None, campaign.params, self.offices.timezones(campaign.tenant), self.calendar.timezone)
        hook_shaped = [
            FineractEvent(
                campaign.tenant,
                found.entity,
                found.action,
                dict(found.ids),
                found.created if found.created is not None else day_start(found.on, zone),
                dated=found.created is None,
            )
            for found in events
        ]
        made = materialize_events(
            hook_shaped,
            store=self.store,
            corebanks=self.corebanks,
            calendar=self.calendar,
            offices=self.offices,
            clock=self.clock,
            date_format=self.date_format,
            default_region=self.default_region,
            alphabets=self.alphabets,
            campaign_id=campaign.id,
            hook=False,  # the catch-up job's events are no hook arrival
        )
        for outcome in made.outcomes:
            if outcome.refused is not None:
                raise ParameterError(outcome.refused)  # ids from Fineract's own rows: the rule cannot be run
            counts["events"] += 1
            counts["created"] += outcome.created
            counts["too_late"] += outcome.too_late
        self.pending_ids.extend(made.pending_ids)
        return counts


def mark_of(campaign: Campaign, *, store: Engine) -> CatchUpMark | None:
    """The campaign's catch-up mark for its page; None before its first (re)activation or for a rule not read."""
    if not sources.covers(campaign.rule.id):
        return None
    with store.connect() as conn:
        return marks.get(conn, campaign.id)
