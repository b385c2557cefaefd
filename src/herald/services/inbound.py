"""Keeping what providers push to herald: delivery reports applied (or parked) and STOP replies opted out.

A webhook answers 2xx only once this has committed, so a provider retries anything herald could
not keep. Reports herald cannot store (an id too long, a time out of range) are left out one by
one with the reason, so one bad report never costs the rest of the call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain import wire
from herald.domain.phones import mask
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.errors import WebhookError
from herald.providers.base import WebhookBatch
from herald.store import optouts
from herald.store import reports as report_store
from herald.store.search import ERROR_CODE_LENGTH, ERROR_TEXT_LENGTH, EXTERNAL_ID_LENGTH

log = logging.getLogger(__name__)


def keepable(batch: WebhookBatch) -> WebhookBatch:
    """The batch without reports herald cannot store (whatever the provider), refused whole if none is left."""
    kept, skipped = [], list(batch.skipped)
    for report in batch.reports:
        problem = _report_problem(report)
        if problem:
            skipped.append(f"the report on {report.external_id[:40]!r} {problem}")
            continue
        if report.error_text is not None:
            report = replace(report, error_text=wire.cleaned(report.error_text, ERROR_TEXT_LENGTH))
        kept.append(report)
    if batch.reports and not kept and not batch.inbound:
        raise WebhookError(f"Nothing in the call can be kept: {'; '.join(skipped[:3])}.", status=400)
    return WebhookBatch(kept, batch.inbound, skipped, batch.optouts)


def _report_problem(report: DeliveryReport) -> str | None:
    id_problem = wire.text_problem(report.external_id, EXTERNAL_ID_LENGTH)
    if id_problem:
        return f"has a message id that {id_problem}"
    if report.error_code is not None and (code_problem := wire.text_problem(report.error_code, ERROR_CODE_LENGTH)):
        return f"has an error code that {code_problem}"
    try:
        report.at.astimezone(UTC)
    except OverflowError:
        return f"has a time out of range ({report.at.isoformat()})"
    return None


def keep(
    provider: str,
    batch: WebhookBatch,
    *,
    store: Engine,
    clock: Clock,
    default_region: str,
    sharing: Sequence[str] = (),
) -> dict[str, int]:
    """Apply (or park) the reports and put STOP replies on the opt-out list, in one transaction; the counts.

    `sharing`: the providers on the same account as `provider`, whose messages a report may be on."""
    now = clock.now()
    stops = optouts.stop_requests(batch.inbound, default_region)
    notified = optouts.numbers(batch.optouts, default_region)
    for number in stops + notified:
        log.info("opt-out from %s via %s", mask(number), provider)
    with store.begin() as conn:
        changed = report_store.record(conn, provider, batch.reports, now, sharing=sharing)
        added = optouts.add(conn, stops, source=provider, detail="STOP reply", now=now)
        added += optouts.add(conn, notified, source=provider, detail="provider's opt-out notification", now=now)
    counts = {"reports": len(batch.reports), "applied": changed, "inbound": len(batch.inbound), "opted_out": added}
    return counts | ({"optouts": len(batch.optouts)} if batch.optouts else {})


@dataclass(frozen=True)
class ConnectionSinks:
    """Where providers hand what arrives on their own connection (SMPP receipts and replies): kept as a webhook's."""

    store: Engine
    clock: Clock
    default_region: str

    async def reports(self, provider: str, reports: Sequence[DeliveryReport]) -> None:
        keep(
            provider,
            WebhookBatch(reports=list(reports)),
            store=self.store,
            clock=self.clock,
            default_region=self.default_region,
        )

    async def inbound(self, provider: str, messages: Sequence[InboundMessage]) -> None:
        keep(
            provider,
            WebhookBatch(inbound=list(messages)),
            store=self.store,
            clock=self.clock,
            default_region=self.default_region,
        )
