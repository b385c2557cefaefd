"""Job "Send Messages to SMS Gateway": hand PENDING messages to their providers, retry what is transient.

Each batch is claimed (leased) in one short transaction, sent with several requests in flight,
and its results recorded in another: no transaction stays open across the network.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from datetime import timedelta

from herald.app import Herald
from herald.domain.phones import mask
from herald.domain.retry import RetryPolicy
from herald.errors import ProviderError
from herald.jobs.runs import Job, recorded
from herald.providers.base import OutboundMessage, SendResult
from herald.store import messages as message_store
from herald.store.messages import Claimed

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


async def send_batch(herald: Herald, batch: list[Claimed], policy: RetryPolicy, rng: random.Random) -> dict[str, int]:
    """Send one claimed batch (grouped per provider) and record every outcome."""
    by_provider: dict[str, list[Claimed]] = defaultdict(list)
    for m in batch:
        by_provider[m.provider].append(m)
    outcomes: list[tuple[Claimed, SendResult]] = []
    for name, group in by_provider.items():
        outbound = [OutboundMessage(m.id, m.mobile_no, m.body, m.attempts) for m in group]
        try:
            results = await herald.provider(name).send(outbound)
        except ProviderError as exc:
            results = [SendResult(m.id, error=exc) for m in group]
        outcomes.extend(zip(group, results, strict=True))
    now = herald.clock.now()
    accepted: list[tuple[int, str]] = []
    retries: list[tuple[int, object, str | None, str | None]] = []
    failed: list[tuple[int, str | None, str | None]] = []
    for claimed, result in outcomes:
        if result.accepted:
            assert result.external_id is not None
            accepted.append((claimed.id, result.external_id))
            continue
        error = result.error
        assert error is not None
        delay = policy.delay(claimed.attempts, rng.random()) if error.retryable else None
        log.info("send to %s failed (%s, retryable=%s)", mask(claimed.mobile_no), error.code, error.retryable)
        if delay is None:
            failed.append((claimed.id, error.code, error.text or error.message))
        else:
            retries.append((claimed.id, now + delay, error.code, error.text or error.message))
    with herald.store.begin() as conn:
        message_store.mark_accepted(conn, accepted, now)
        message_store.reschedule(conn, retries, now)  # type: ignore[arg-type]
        message_store.mark_failed(conn, failed, now)
    return {"accepted": len(accepted), "retry": len(retries), "failed": len(failed)}


async def send_pending(herald: Herald, limit: int | None = None) -> dict[str, int]:
    """Send everything sendable now (or up to `limit` messages), several batches in flight."""
    settings = herald.settings
    policy = RetryPolicy(settings.max_attempts, settings.retry_base_seconds)
    rng = random.Random()
    totals = {"accepted": 0, "retry": 0, "failed": 0}
    in_flight: set[asyncio.Task[dict[str, int]]] = set()
    claimed_total = 0

    def collect(done: set[asyncio.Task[dict[str, int]]]) -> None:
        for task in done:
            for key, value in task.result().items():
                totals[key] += value

    while limit is None or claimed_total < limit:
        size = settings.send_batch_size if limit is None else min(settings.send_batch_size, limit - claimed_total)
        with herald.store.begin() as conn:
            batch = message_store.claim_pending(conn, herald.clock.now(), size, LEASE)
        if not batch:
            break
        claimed_total += len(batch)
        in_flight.add(asyncio.create_task(send_batch(herald, batch, policy, rng)))
        if len(in_flight) >= settings.send_concurrency:
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            collect(done)
    if in_flight:
        done, _ = await asyncio.wait(in_flight)
        collect(done)
    return totals


def run(herald: Herald, limit: int | None = None) -> dict[str, int]:
    """One run of the job, recorded."""
    with recorded(herald, Job.SEND) as counts:
        counts.update(asyncio.run(send_pending(herald, limit)))
        return counts
