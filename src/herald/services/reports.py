"""Job "Get Delivery Reports from SMS Gateway": pull reports for messages still waiting for one."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from herald.app import Herald
from herald.errors import ProviderError
from herald.services.loop import run_loop
from herald.services.runs import Job, recorded
from herald.store import messages as message_store
from herald.store import reports as report_store

PAGE = 1_000

log = logging.getLogger(__name__)


async def pull_reports(herald: Herald) -> dict[str, int]:
    """Ask each provider about its waiting messages, page by page, and apply what it says."""
    totals = {"asked": 0, "reports": 0, "changed": 0}
    after = 0
    pushing = [name for name, p in herald.providers.items() if getattr(p, "pushes_reports", False)]
    quiet_since = herald.clock.now() - timedelta(seconds=herald.settings.reports_poll_after)
    while True:
        with herald.store.connect() as conn:
            page = message_store.awaiting_reports(conn, PAGE, after, pushing=pushing, quiet_since=quiet_since)
        if not page:
            break
        after = page[-1][0]
        by_provider: dict[str, list[str]] = defaultdict(list)
        for _, provider, external_id in page:
            by_provider[provider].append(external_id)
        for name, ids in by_provider.items():
            try:
                reports = await herald.provider(name).fetch_reports(ids)
            except ProviderError as exc:  # one provider's outage must not stop the others' reports
                log.warning("pulling reports from %s failed: %s", name, exc)
                totals["errors"] = totals.get("errors", 0) + 1
                continue
            with herald.store.begin() as conn:
                # A pull may bring reports on messages not asked about (Infobip hands out each report
                # once): record() applies what it can and parks the rest.
                totals["changed"] += report_store.record(conn, name, reports, herald.clock.now())
            totals["asked"] += len(ids)
            totals["reports"] += len(reports)
    return totals


def run(herald: Herald) -> dict[str, int]:
    """One recorded run of the job, provider connections closed afterwards."""

    async def once() -> dict[str, int]:
        try:
            return await pull_reports(herald)
        finally:
            await herald.close_providers()

    with recorded(herald, Job.DELIVERY_REPORTS) as counts:
        counts.update(run_loop(once()))
        return counts
