"""Job "Get Delivery Reports from SMS Gateway": pull reports for messages still waiting for one, then
make the re-sends the policy for failures that pass allows (services/transient_resend.py).

A report may be lost on the way: Infobip hands each out once, so a pull whose answer never arrives
(a timeout after Infobip let go of the batch) takes those reports with it. Messages waiting far
longer than usual (the provider's `report_lookup_after`) are therefore looked up one by one where
the provider can be asked (Infobip's message logs), at most once per that interval each.

A report parked because it came before its message's send was recorded, by a transaction the send
job's record could not see yet, is applied by the next run (store/reports.py, orphans).

A provider asked one message per request (Twilio, SMPP's query_sm) is asked about a waiting message at
every run at first, then less and less often the longer its report takes (store/messages.py, ASKING).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.jobs import Job
from herald.errors import ProviderError
from herald.providers.base import ReportLookup
from herald.providers.registry import Providers
from herald.services.loop import run_loop
from herald.services.runs import recorded
from herald.services.transient_resend import TransientResender
from herald.store import message_parts
from herald.store import messages as message_store
from herald.store import reports as report_store

PAGE = 1_000
LOOKUPS_PER_RUN = 1_000  # per provider: Infobip's logs allow 120 requests a minute, 100 ids each

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportPuller:
    """Asks the providers about messages waiting for a report; `poll_after`: how long a pushing provider's
    message waits for its push before it is asked about (seconds); `resender`: the re-send policy for
    failures that pass, run after the reports are applied (pushed reports included)."""

    store: Engine
    providers: Providers
    clock: Clock
    poll_after: float
    resender: TransientResender | None = None

    async def pull(self) -> dict[str, int]:
        """Ask each provider about its waiting messages, page by page, and apply what it says."""
        totals = {"asked": 0, "reports": 0, "changed": 0}
        after = 0
        pushing = [name for name, p in self.providers.items() if getattr(p, "pushes_reports", False)]
        one_by_one = [name for name, p in self.providers.items() if getattr(p, "asks_one_by_one", False)]
        now = self.clock.now()
        quiet_since = now - timedelta(seconds=self.poll_after)
        with self.store.connect() as conn:  # reports parked while their message's send was being recorded
            orphans = report_store.orphans(conn, sharing=self.providers.sharing)
        if orphans:  # a write transaction only when there is something to adopt
            with self.store.begin() as conn:
                totals["changed"] += report_store.adopt_parked(conn, orphans, now, sharing=self.providers.sharing)
        while True:
            with self.store.connect() as conn:
                page = message_store.awaiting_reports(
                    conn, PAGE, after, pushing=pushing, quiet_since=quiet_since, one_by_one=one_by_one, now=now
                )
            if not page:
                break
            after = page[-1][0]
            by_provider: dict[str, list[str]] = defaultdict(list)
            asked: dict[str, list[int]] = defaultdict(list)  # message ids, of the providers asked one by one
            for message_id, provider, external_id in page:
                by_provider[provider].append(external_id)
                if provider in one_by_one:
                    asked[provider].append(message_id)
            with self.store.connect() as conn:
                for name, ids in by_provider.items():
                    # A long message sent as several parts is asked about part by part; the store combines them.
                    parts = message_parts.parts_of(conn, name, ids)
                    ids[:] = [part for ext in ids for part in parts.get(ext, [ext])]
            for name, ids in by_provider.items():
                try:
                    reports = await self.providers.named(name).fetch_reports(ids)
                except ProviderError as exc:  # one provider's outage must not stop the others' reports
                    log.warning("pulling reports from %s failed: %s", name, exc)
                    totals["errors"] = totals.get("errors", 0) + 1
                    continue
                with self.store.begin() as conn:
                    # A pull may bring reports on messages not asked about (Infobip hands out each report
                    # once per account): record() finds them under any provider of the account, parks the rest.
                    totals["changed"] += report_store.record(
                        conn, name, reports, self.clock.now(), sharing=self.providers.sharing(name)
                    )
                    report_store.looked_up(conn, asked.get(name, []), now)
                totals["asked"] += len(ids)
                totals["reports"] += len(reports)
        for name, adapter in self.providers.items():
            if isinstance(adapter, ReportLookup):
                await self._look_up(name, adapter, totals)
        if self.resender is not None:
            totals.update(self.resender.run())
        return totals

    async def _look_up(self, name: str, provider: ReportLookup, totals: dict[str, int]) -> None:
        """Ask the provider about its messages whose report is long overdue, and apply what it knows."""
        now = self.clock.now()
        with self.store.connect() as conn:
            overdue = report_store.overdue(
                conn, name, now - timedelta(seconds=provider.report_lookup_after), LOOKUPS_PER_RUN
            )
        if not overdue:
            return
        try:
            reports = await provider.lookup_reports({external_id: number for _, external_id, number in overdue})
        except ProviderError as exc:  # asked again next run: nothing was marked
            log.warning("looking up %d overdue reports at %s failed: %s", len(overdue), name, exc)
            totals["errors"] = totals.get("errors", 0) + 1
            return
        with self.store.begin() as conn:
            totals["changed"] += report_store.record(conn, name, reports, now, sharing=self.providers.sharing(name))
            report_store.looked_up(conn, [message_id for message_id, _, _ in overdue], now)
        totals["looked_up"] = totals.get("looked_up", 0) + len(overdue)
        totals["reports"] += len(reports)


def run(puller: ReportPuller) -> dict[str, int]:
    """One recorded run of the job, provider connections closed afterwards."""

    async def once() -> dict[str, int]:
        try:
            return await puller.pull()
        finally:
            await puller.providers.close()

    with recorded(puller.store, puller.clock, Job.DELIVERY_REPORTS) as counts:
        counts.update(run_loop(once()))
        return counts
