"""Job "Update SMS Outbound with Campaign Message": materialize every campaign occurrence that is due.

Direct campaigns are due once, right after (re)activation. Scheduled campaigns are due at each
RRULE occurrence; if the worker was down across several, the latest one runs once (the audience
is "now", so replaying each missed day would message people about a state long gone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign, TriggerType
from herald.domain.jobs import Job
from herald.errors import CoreBankError, TemplateError
from herald.services import campaigns as campaign_service
from herald.services.materialize import Materializer, MaterializeResult
from herald.services.runs import recorded
from herald.store import campaigns as campaign_store

log = logging.getLogger(__name__)


def due_occurrence(campaign: Campaign, now: datetime) -> tuple[bool, datetime | None]:
    """(is it due, which occurrence): Direct -> (next_trigger_at <= now, None)."""
    if campaign.trigger_type is TriggerType.DIRECT:
        return campaign.next_trigger_at is not None and campaign.next_trigger_at <= now, None
    if campaign.recurrence is None:
        return False, None
    occurrence = campaign.recurrence.due(campaign.last_trigger_at, now)
    return occurrence is not None, occurrence


def due_campaigns(store: Engine, now: datetime) -> set[int]:
    """The active Direct and Scheduled campaigns whose next trigger has come (what the worker watches for)."""
    with store.connect() as conn:
        return campaign_store.due_ids(conn, now)


@dataclass(frozen=True)
class Outbound:
    """The job on one process's parts: the store, the materializer (core banks, offices), the clock and calendar."""

    store: Engine
    materializer: Materializer
    clock: Clock
    calendar: BusinessCalendar

    def run_campaign(
        self, campaign: Campaign, progress: Callable[[int], None] | None = None
    ) -> MaterializeResult | None:
        """Materialize one campaign if it is due, then move its trigger dates on."""
        now = self.clock.now()
        due, occurrence = due_occurrence(campaign, now)
        if not due:
            return None
        today = self.calendar.today(occurrence or now, campaign.timezone)
        try:
            result = self.materializer.materialize_all(campaign, occurrence, today, progress)
        except TemplateError as error:
            # A template stored before herald refused it (a dotted name, a triple brace ...): this
            # occurrence messages nobody, and the other campaigns still run.
            log.warning("campaign %s: occurrence skipped, its message template is refused: %s", campaign.id, error)
            result = MaterializeResult(campaign.id)
        if campaign.trigger_type is TriggerType.DIRECT:
            last, upcoming = now, None
        else:
            assert campaign.recurrence is not None and occurrence is not None
            last, upcoming = occurrence, campaign.recurrence.next_after(occurrence)
        with self.store.begin() as conn:
            # Only if nobody closed it meanwhile; the messages already made stay (they are held, not sent).
            campaign_store.advanced(conn, campaign.id, last_trigger_at=last, next_trigger_at=upcoming)
        return result

    def run(self, progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """One recorded run of the job over every active campaign."""
        with recorded(self.store, self.clock, Job.UPDATE_OUTBOUND) as counts:
            counts.update(self.run_due(progress))
            return counts

    def run_due(
        self,
        progress: Callable[[int], None] | None = None,
        *,
        skip_tenants: Collection[str] = (),
        on_corebank_error: Callable[[Campaign, CoreBankError], None] | None = None,
    ) -> dict[str, int]:
        """Materialize every active Direct or Scheduled campaign that is due; return the counts.

        The worker skips the tenants whose core bank it found broken, and with `on_corebank_error`
        a campaign whose core bank fails is reported there and left due (it runs once the core bank
        is back) while the other tenants' campaigns go on; without it (a run by hand) the failure
        is raised, to be said.
        """
        counts = {"campaigns": 0, "created": 0, "invalid": 0, "already": 0}
        with self.store.connect() as conn:
            ids = campaign_store.active_ids(conn, (TriggerType.DIRECT, TriggerType.SCHEDULE))
        for cid in ids:
            campaign = campaign_service.get(cid, store=self.store)
            if campaign.tenant in skip_tenants:
                continue
            try:
                result = self.run_campaign(campaign, progress)
            except CoreBankError as error:
                if on_corebank_error is None:
                    raise
                on_corebank_error(campaign, error)
                continue
            if result is not None:
                counts["campaigns"] += 1
                counts["created"] += result.created
                counts["invalid"] += result.invalid
                counts["already"] += result.already
        return counts
