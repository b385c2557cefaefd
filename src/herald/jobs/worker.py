"""The worker: runs the three jobs continuously, each at its own interval, until told to stop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, or_, select

from herald.app import Herald
from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.jobs import outbound
from herald.jobs.reports import pull_reports
from herald.jobs.runs import Job, recorded
from herald.jobs.send import send_pending
from herald.store.tables import campaigns, messages

log = logging.getLogger(__name__)


class Worker:
    """Runs the jobs when their interval has passed; `tick()` does one pass, `run()` loops."""

    def __init__(self, herald: Herald, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.herald = herald
        self._monotonic = monotonic
        settings = herald.settings
        self.intervals = {
            Job.UPDATE_OUTBOUND: settings.materialize_interval,
            Job.SEND: settings.send_interval,
            Job.DELIVERY_REPORTS: settings.reports_interval,
        }
        self._next = dict.fromkeys(self.intervals, 0.0)

    def _run_job(self, job: Job) -> dict[str, Any]:
        herald = self.herald
        try:
            with recorded(herald, job, keep_idle=False) as counts:
                if job is Job.UPDATE_OUTBOUND:
                    counts.update(outbound.run_due(herald))
                elif job is Job.SEND:
                    counts.update(asyncio.run(send_pending(herald)))
                else:
                    counts.update(asyncio.run(pull_reports(herald)))
        except Exception:  # a failing job must not stop the others; the run is recorded with its error
            log.exception("job %s failed", job.slug)
            return {}
        return counts

    def tick(self, force: bool = False) -> dict[Job, dict[str, Any]]:
        """Run each job whose interval has passed (all of them when `force`)."""
        done: dict[Job, dict[str, Any]] = {}
        for job, interval in self.intervals.items():
            now = self._monotonic()
            if force or now >= self._next[job]:
                done[job] = self._run_job(job)
                self._next[job] = self._monotonic() + interval
                if job is Job.UPDATE_OUTBOUND and done[job].get("created"):
                    self._next[Job.SEND] = 0.0  # new messages: send them now, not at the next tick
        return done

    def run(self, should_stop: Callable[[], bool], on_tick: Callable[[], None] | None = None) -> None:
        while not should_stop():
            self.tick()
            if on_tick is not None:
                on_tick()
            wait = min(self._next.values()) - self._monotonic()
            time.sleep(min(max(wait, 0.02), 0.25))

    def idle(self) -> bool:
        """Nothing left to do now: no sendable message, nothing awaiting a report, nothing due."""
        herald = self.herald
        now = herald.clock.now()
        with herald.store.connect() as conn:
            busy = conn.execute(
                select(func.count())
                .select_from(messages)
                .join(campaigns, campaigns.c.id == messages.c.campaign_id)
                .where(
                    campaigns.c.status == CampaignStatus.ACTIVE,
                    or_(
                        messages.c.status.in_([MessageStatus.WAITING_FOR_DELIVERY_REPORT, MessageStatus.SENT]),
                        messages.c.status == MessageStatus.PENDING,
                    ),
                )
            ).scalar_one()
            direct_due = conn.execute(
                select(func.count())
                .select_from(campaigns)
                .where(
                    campaigns.c.status == CampaignStatus.ACTIVE,
                    campaigns.c.trigger_type == TriggerType.DIRECT,
                    campaigns.c.next_trigger_at.is_not(None),
                )
            ).scalar_one()
            scheduled_due = conn.execute(
                select(func.count())
                .select_from(campaigns)
                .where(
                    campaigns.c.status == CampaignStatus.ACTIVE,
                    campaigns.c.trigger_type == TriggerType.SCHEDULE,
                    campaigns.c.next_trigger_at <= now,
                )
            ).scalar_one()
        return busy == 0 and direct_due == 0 and scheduled_due == 0
