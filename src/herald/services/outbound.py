"""Job "Update SMS Outbound with Campaign Message": materialize every campaign occurrence that is due.

Direct campaigns are due once, right after (re)activation. Scheduled campaigns are due at each
RRULE occurrence; if the worker was down across several, the latest one runs once (the audience
is "now", so replaying each missed day would message people about a state long gone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update

from herald.app import Herald
from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.jobs import Job
from herald.errors import TemplateError
from herald.services import campaigns as campaign_service
from herald.services.campaigns import Campaign
from herald.services.materialize import MaterializePolicy, Materializer, MaterializeResult
from herald.services.runs import recorded
from herald.store.tables import campaigns

log = logging.getLogger(__name__)


def due_occurrence(campaign: Campaign, now: datetime) -> tuple[bool, datetime | None]:
    """(is it due, which occurrence): Direct -> (next_trigger_at <= now, None)."""
    if campaign.trigger_type is TriggerType.DIRECT:
        return campaign.next_trigger_at is not None and campaign.next_trigger_at <= now, None
    if campaign.recurrence is None:
        return False, None
    occurrence = campaign.recurrence.due(campaign.last_trigger_at, now)
    return occurrence is not None, occurrence


def run_campaign(
    herald: Herald, campaign: Campaign, progress: Callable[[int], None] | None = None
) -> MaterializeResult | None:
    """Materialize one campaign if it is due, then move its trigger dates on."""
    now = herald.clock.now()
    due, occurrence = due_occurrence(campaign, now)
    if not due:
        return None
    today = herald.today(campaign.timezone, occurrence or now)
    try:
        materializer = Materializer(
            store=herald.store,
            corebanks=herald.corebanks,
            offices=herald.offices,
            clock=herald.clock,
            policy=MaterializePolicy.of(herald.settings),
        )
        result = materializer.materialize_all(campaign, occurrence, today, progress)
    except TemplateError as error:
        # A template stored before herald refused it (a dotted name, a triple brace ...): this
        # occurrence messages nobody, and the other campaigns still run.
        log.warning("campaign %s: occurrence skipped, its message template is refused: %s", campaign.id, error)
        result = MaterializeResult(campaign.id)
    values: dict[str, object]
    if campaign.trigger_type is TriggerType.DIRECT:
        values = {"next_trigger_at": None, "last_trigger_at": now}
    else:
        assert campaign.recurrence is not None and occurrence is not None
        values = {"last_trigger_at": occurrence, "next_trigger_at": campaign.recurrence.next_after(occurrence)}
    with herald.store.begin() as conn:
        # Only if nobody closed it meanwhile; the messages already made stay (they are held, not sent).
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign.id, campaigns.c.status == CampaignStatus.ACTIVE)
            .values(**values)
        )
    return result


def run(herald: Herald, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """One recorded run of the job over every active campaign."""
    with recorded(herald.store, herald.clock, Job.UPDATE_OUTBOUND) as counts:
        counts.update(run_due(herald, progress))
        return counts


def run_due(herald: Herald, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Materialize every active Direct or Scheduled campaign that is due; return the counts."""
    counts = {"campaigns": 0, "created": 0, "invalid": 0, "already": 0}
    with herald.store.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                select(campaigns.c.id)
                .where(
                    campaigns.c.status == CampaignStatus.ACTIVE,
                    campaigns.c.trigger_type.in_([TriggerType.DIRECT, TriggerType.SCHEDULE]),
                )
                .order_by(campaigns.c.id)
            )
        ]
    for cid in ids:
        result = run_campaign(herald, campaign_service.get(herald, cid), progress)
        if result is not None:
            counts["campaigns"] += 1
            counts["created"] += result.created
            counts["invalid"] += result.invalid
            counts["already"] += result.already
    return counts
