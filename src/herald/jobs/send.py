"""Job "Send Messages to SMS Gateway": hand PENDING messages to their providers, safely and politely.

A batch is claimed (leased, attempt counted, marked in flight) in one short transaction, sent, and
its outcomes recorded in another: no transaction stays open across the network. On the way:
opted-out numbers become INVALID; offices inside quiet hours wait; a provider whose circuit
breaker is open hands its messages to the campaign's (or the provider's, or the global) fallback;
every provider keeps to its rate limit; transient errors are retried with backoff and jitter up to
the maximum number of attempts, then FAILED with the last error; a recipient who unsubscribed is
put on the opt-out list.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from herald.app import Herald
from herald.domain.breaker import CircuitBreaker
from herald.domain.phones import mask
from herald.domain.quiet import QuietHours
from herald.domain.retry import RetryPolicy
from herald.errors import ProviderError
from herald.jobs.runs import Job, recorded
from herald.providers.base import InDoubt, OutboundMessage, Reconciling, SendResult
from herald.providers.gate import Gate
from herald.store import messages as message_store
from herald.store import optouts
from herald.store import reports as report_store
from herald.store.messages import Claimed, OfficeFilter

log = logging.getLogger(__name__)

MISCONFIGURED_WAIT = timedelta(minutes=5)
"""How long messages wait while their provider refuses herald's credentials (and no fallback takes them)."""

LEASE = timedelta(minutes=5)
"""How long a claimed message stays off other workers' hands: far longer than any send takes."""


@dataclass
class _Outcome:
    accepted: list[tuple[int, str, str]] = field(default_factory=list)
    retries: list[tuple[int, datetime, str | None, str | None]] = field(default_factory=list)
    doubtful: list[tuple[int, datetime, str | None, str | None]] = field(default_factory=list)
    held: list[tuple[int, datetime, str | None, str | None]] = field(default_factory=list)
    failed: list[tuple[int, str | None, str | None]] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)


class Sender:
    """Sends for one worker; keeps breakers and rate limits between runs."""

    def __init__(self, herald: Herald, rng: random.Random | None = None) -> None:
        self.herald = herald
        settings = herald.settings
        self.policy = RetryPolicy(settings.max_attempts, settings.retry_base_seconds)
        self.rng = rng or random.Random()
        self.gates: dict[str, Gate] = {}
        self.quiet = QuietHours.parse(settings.quiet_hours) if settings.quiet_hours else None

    def gate(self, name: str) -> Gate:
        if name not in self.gates:
            config = self.herald.provider_settings.get(name)
            rate = config.rate_limit if config is not None else None
            self.gates[name] = Gate(rate, self.herald.settings.send_concurrency, CircuitBreaker())
        return self.gates[name]

    def _office_filter(self, now: datetime) -> OfficeFilter | None:
        if self.quiet is None:
            return None
        profiles = self.herald.office_timezones()
        quiet = frozenset(o for o, tz in profiles.items() if self._is_quiet(now, tz))
        return OfficeFilter(quiet, self._is_quiet(now, self.herald.settings.timezone), frozenset(profiles))

    def _is_quiet(self, now: datetime, timezone: str) -> bool:
        assert self.quiet is not None
        return self.quiet.contains(now.astimezone(ZoneInfo(timezone)).time())

    async def run(self, limit: int | None = None) -> dict[str, int]:
        """Send everything sendable now (or up to `limit` messages), several batches in flight."""
        settings = self.herald.settings
        totals: dict[str, int] = defaultdict(int)
        in_flight: set[asyncio.Task[dict[str, int]]] = set()
        claimed_total = 0

        def collect(done: set[asyncio.Task[dict[str, int]]]) -> None:
            for task in done:
                for key, value in task.result().items():
                    totals[key] += value

        while limit is None or claimed_total < limit:
            size = settings.send_batch_size if limit is None else min(settings.send_batch_size, limit - claimed_total)
            now = self.herald.clock.now()
            with self.herald.store.begin() as conn:
                batch = message_store.claim_pending(conn, now, size, LEASE, self._office_filter(now))
            if not batch:
                break
            claimed_total += len(batch)
            in_flight.add(asyncio.create_task(self.send_batch(batch)))
            if len(in_flight) >= settings.send_concurrency:
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                collect(done)
        if in_flight:
            done, _ = await asyncio.wait(in_flight)
            collect(done)
        return dict.fromkeys(("accepted", "retry", "held", "failed", "invalid", "failover"), 0) | totals

    async def send_batch(self, batch: list[Claimed]) -> dict[str, int]:
        """Route, send and record one claimed batch."""
        herald = self.herald
        with herald.store.connect() as conn:
            blocked = optouts.contains(conn, [m.mobile_no for m in batch])
        sendable = [m for m in batch if m.mobile_no not in blocked]
        refused = [m.id for m in batch if m.mobile_no in blocked]
        outcome = _Outcome()
        failovers = 0
        sendable = await self._reconcile(sendable, outcome)
        by_provider: dict[str, list[Claimed]] = defaultdict(list)
        for m in sendable:
            by_provider[m.provider].append(m)
        jobs = []
        for primary, group in by_provider.items():
            adapter = herald.providers.get(primary)  # a provider removed from the configuration: see _deliver
            size = max(adapter.max_batch if adapter is not None else 100, 1)
            for start in range(0, len(group), size):
                jobs.append(self._deliver(primary, group[start : start + size], outcome))
        for used_fallback in await asyncio.gather(*jobs):
            failovers += used_fallback
        now = herald.clock.now()
        with herald.store.begin() as conn:
            message_store.mark_accepted(conn, outcome.accepted, now)
            report_store.adopt_parked(conn, [(provider, ext) for _, provider, ext in outcome.accepted], now)
            message_store.reschedule(conn, outcome.retries, now)
            message_store.reschedule(conn, outcome.doubtful, now, in_doubt=True)
            message_store.reschedule(conn, outcome.held, now, uncount=True)
            message_store.mark_failed(conn, outcome.failed, now)
            message_store.mark_invalid(conn, refused, "opted out", now)
            optouts.add(conn, outcome.unsubscribed, source="provider", detail="unsubscribed (send refused)", now=now)
        return {
            "accepted": len(outcome.accepted),
            "retry": len(outcome.retries) + len(outcome.doubtful),
            "held": len(outcome.held),
            "failed": len(outcome.failed),
            "invalid": len(refused),
            "failover": failovers,
        }

    async def _reconcile(self, batch: list[Claimed], outcome: _Outcome) -> list[Claimed]:
        """Ask the providers about messages whose last attempt has no known outcome; return those to send.

        Where the provider takes a client reference or can list what it holds (Infobip's messageId,
        Twilio's message list), a message it already accepted is adopted instead of sent again. A
        provider that cannot answer now keeps the message waiting: resending blind could send twice.
        SMPP and the simulator cannot be asked, so their messages are sent again.
        """
        doubtful = [m for m in batch if m.in_doubt]
        if not doubtful:
            return batch
        settled: set[int] = set()
        now = self.herald.clock.now()
        for name in dict.fromkeys(n for m in doubtful for n in self._candidates(m.provider, m.fallback)):
            provider = self.herald.provider(name)
            if not isinstance(provider, Reconciling):
                continue
            asked = [m for m in doubtful if m.id not in settled and name in self._candidates(m.provider, m.fallback)]
            if not asked:
                continue
            questions = [InDoubt(m.id, m.mobile_no, m.body, m.attempts - 1, m.in_doubt_since or now) for m in asked]
            try:
                found = await provider.lookup(questions)
            except ProviderError as exc:
                log.warning("cannot ask %s about %d messages of unknown outcome: %s", name, len(asked), exc)
                wait = now + timedelta(seconds=self.herald.settings.retry_base_seconds)
                outcome.doubtful += [(m.id, wait, "IN_DOUBT", "waiting to learn whether it was sent") for m in asked]
                settled |= {m.id for m in asked}
                continue
            for m in asked:
                if m.id in found:
                    outcome.accepted.append((m.id, name, found[m.id]))
                    settled.add(m.id)
        if settled:
            log.info("%d messages of unknown outcome settled without resending", len(settled))
        return [m for m in batch if m.id not in settled]

    def _candidates(self, primary: str, campaign_fallback: str | None) -> list[str]:
        """The primary, then the fallbacks in order of precedence: campaign, provider, global."""
        config = self.herald.provider_settings.get(primary)
        chain = [
            primary,
            campaign_fallback,
            config.fallback if config else None,
            self.herald.settings.fallback_provider,
        ]
        return [p for p in dict.fromkeys(chain) if p is not None and p in self.herald.providers]

    async def _deliver(self, primary: str, chunk: list[Claimed], outcome: _Outcome) -> int:
        """Send one chunk, failing over while the providers it tries are failing; return 1 if a fallback took it."""
        candidates = self._candidates(primary, chunk[0].fallback)
        if not candidates:  # its provider is gone from the configuration and nothing falls back
            wait = self.herald.clock.now() + MISCONFIGURED_WAIT
            text = f"provider {primary!r} is not configured; add it back or give the campaign a fallback"
            outcome.held += [(m.id, wait, "NO_PROVIDER", text) for m in chunk]
            log.error("%d messages wait: %s", len(chunk), text)
            return 0
        pending = chunk
        last: dict[int, SendResult] = {}
        tried = primary
        for position, name in enumerate(candidates):
            gate = self.gate(name)
            if not gate.breaker.allows(self.herald.clock.now()):
                continue
            results = await self._send(name, gate, pending)
            transient = [(m, r) for m, r in zip(pending, results, strict=True) if _is_transient(r)]
            now = self.herald.clock.now()
            if len(transient) == len(pending):
                gate.breaker.failed(now)
                log.warning("provider %s failing (%s); breaker %s", name, _first_code(results), gate.breaker.state)
            else:
                gate.breaker.succeeded()
            self._record(name, [(m, r) for m, r in zip(pending, results, strict=True) if not _is_transient(r)], outcome)
            pending = [m for m, _ in transient]
            if not pending:
                return int(position > 0)
            last, tried = {m.id: r for m, r in transient}, name
        now = self.herald.clock.now()
        if last:  # every provider that was tried failed transiently: back off and retry later
            refused = [m for m in pending if _misconfigured(last[m.id])]
            self._record(tried, [(m, last[m.id]) for m in pending if not _misconfigured(last[m.id])], outcome)
            for m in refused:  # the provider refuses herald itself: hold the message, do not fail it
                error = last[m.id].error
                assert error is not None
                outcome.held.append((m.id, now + MISCONFIGURED_WAIT, error.code, error.text or error.message))
            return 0
        # No candidate would take them (breakers open): hold without spending an attempt.
        reopen = min((self.gate(n).breaker.reopens_at() or now for n in candidates), default=now)
        outcome.held += [
            (m.id, max(reopen, now + timedelta(seconds=1)), "HELD", "every provider is failing") for m in pending
        ]
        return 0

    async def _send(self, name: str, gate: Gate, chunk: Sequence[Claimed]) -> list[SendResult]:
        provider = self.herald.provider(name)
        outbound = [OutboundMessage(m.id, m.mobile_no, m.body, m.attempts) for m in chunk]
        async with gate.slots:
            await gate.limiter.acquire(len(outbound))
            try:
                return await provider.send(outbound)
            except ProviderError as exc:
                return [SendResult(m.id, error=exc) for m in chunk]
            except Exception as exc:  # an adapter bug must not lose the batch: retry it, loudly
                log.exception("provider %s raised instead of answering", name)
                error = ProviderError(
                    f"{type(exc).__name__}: {exc}", provider=name, code="ADAPTER_ERROR", retryable=True
                )
                return [SendResult(m.id, error=error) for m in chunk]

    def _record(self, name: str, pairs: Sequence[tuple[Claimed, SendResult]], outcome: _Outcome) -> None:
        now = self.herald.clock.now()
        for claimed, result in pairs:
            if result.accepted:
                assert result.external_id is not None
                outcome.accepted.append((claimed.id, name, result.external_id))
                continue
            error = result.error
            assert error is not None
            text = error.text or error.message
            delay = self.policy.delay(claimed.attempts, self.rng.random()) if error.retryable else None
            log.info(
                "send to %s via %s failed: %s (retryable=%s)",
                mask(claimed.mobile_no),
                name,
                error.code,
                error.retryable,
            )
            if error.opted_out:
                outcome.unsubscribed.append(claimed.mobile_no)
            if delay is None:
                outcome.failed.append((claimed.id, error.code, text))
            elif error.outcome_unknown:
                outcome.doubtful.append((claimed.id, now + delay, error.code, text))
            else:
                outcome.retries.append((claimed.id, now + delay, error.code, text))


def _is_transient(result: SendResult) -> bool:
    """Worth trying elsewhere or later: a transient error, or a provider that refuses herald's credentials."""
    return result.error is not None and (result.error.retryable or result.error.misconfigured)


def _misconfigured(result: SendResult) -> bool:
    return result.error is not None and result.error.misconfigured


def _first_code(results: Sequence[SendResult]) -> str | None:
    return next((r.error.code for r in results if r.error is not None), None)


async def send_pending(herald: Herald, limit: int | None = None) -> dict[str, int]:
    """One pass of sending with a fresh Sender (the CLI's one-off run)."""
    return await Sender(herald).run(limit)


def run(herald: Herald, limit: int | None = None) -> dict[str, int]:
    """One recorded run of the job, providers closed afterwards (their connections belong to this loop)."""

    async def once() -> dict[str, int]:
        try:
            return await send_pending(herald, limit)
        finally:
            await herald.close_providers()

    with recorded(herald, Job.SEND) as counts:
        counts.update(asyncio.run(once()))
        return counts
