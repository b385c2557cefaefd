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
from sqlalchemy.exc import SQLAlchemyError

from herald.clock import Clock
from herald.domain import wire
from herald.domain.phones import mask
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.errors import HeraldError, WebhookError
from herald.providers.base import WebhookBatch
from herald.services.batches import Batches, Then
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
    call = Call(provider, batch, tuple(sharing))
    return keep_many([call], store=store, clock=clock, default_region=default_region)[0]


@dataclass(frozen=True)
class Call:
    """One webhook call to keep: the provider it came to, what it carried, the providers sharing its account."""

    provider: str
    batch: WebhookBatch
    sharing: tuple[str, ...] = ()


def keep_many(calls: Sequence[Call], *, store: Engine, clock: Clock, default_region: str) -> list[dict[str, int]]:
    """keep() for several calls in one transaction, in their order; each call's own counts.

    Raises HeraldError when the database refuses the transaction (nothing of any call is kept then)."""
    now = clock.now()
    planned = []
    for call in calls:
        stops = optouts.stop_requests(call.batch.inbound, default_region)
        notified = optouts.numbers(call.batch.optouts, default_region)
        planned.append((call, stops, notified))
    counts = []
    try:
        with store.begin() as conn:
            for call, stops, notified in planned:
                batch, source = call.batch, call.provider
                changed = report_store.record(conn, source, batch.reports, now, sharing=call.sharing)
                added = optouts.add(conn, stops, source=source, detail="STOP reply", now=now)
                added += optouts.add(conn, notified, source=source, detail="provider's opt-out notification", now=now)
                kept = {"reports": len(batch.reports), "applied": changed, "inbound": len(batch.inbound)}
                counts.append(kept | {"opted_out": added} | ({"optouts": len(batch.optouts)} if batch.optouts else {}))
    except SQLAlchemyError as exc:  # the details for the log, not for the provider's answer
        log.warning("keeping %d webhook calls failed: %s", len(calls), str(exc).splitlines()[0][:300])
        raise HeraldError("herald's database did not take the call") from exc
    for call, stops, notified in planned:
        for number in stops + notified:
            log.info("opt-out from %s via %s", mask(number), call.provider)
    return counts


class ConnectionSinks:
    """Where providers hand what arrives on their own connection (SMPP receipts and replies): kept as a
    webhook's, in a thread, receipts that arrive together in one transaction (services/batches.py).
    The SMSC's deliver_sm is answered only once its receipt is stored, as before; before, each
    receipt's transaction ran on the event loop itself and held every bind's submits up meanwhile."""

    def __init__(self, store: Engine, clock: Clock, default_region: str) -> None:
        self.store, self.clock, self.default_region = store, clock, default_region

        def keep_all(waiting: Sequence[Call]) -> tuple[list[dict[str, int]], Then]:
            return keep_many(waiting, store=store, clock=clock, default_region=default_region), None

        self.calls: Batches[Call, dict[str, int]] = Batches(keep_all)

    async def reports(self, provider: str, reports: Sequence[DeliveryReport]) -> None:
        await self.calls.store(Call(provider, WebhookBatch(reports=list(reports))))

    async def inbound(self, provider: str, messages: Sequence[InboundMessage]) -> None:
        await self.calls.store(Call(provider, WebhookBatch(inbound=list(messages))))
