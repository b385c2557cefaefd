"""Job "Send Messages to SMS Gateway": hand PENDING messages to their providers, once each, politely.

The shape of one pass, and why each step is there:
- **Claim** per provider, one statement each (store/messages.py), no more than the provider can
  take within half a lease at this process's share of its rate limit, and only for providers that
  could take a request now (breaker closed or ready to probe, not paused), else for the fallback
  that would take them. The lease is renewed by this process's heartbeat while it holds them.
- **Ask first** (services/reconcile.py). A message whose earlier attempt has no known outcome is
  looked up at every provider that may have it (Twilio's message list, Infobip's logs); only a
  "no" lets it go out again or to a fallback. A provider that cannot be asked now keeps it
  waiting, attempt given back.
- **Send** through the process's one gate per provider (rate share, requests in flight, breaker),
  and only while this process's heartbeat is fresh, so nobody settles its claims mid-request.
- **Decide** per answer: accepted; permanent failure; "slow down" (the provider is paused for its
  Retry-After, the attempt given back); a known transient failure (the next provider in the chain
  may take it now, else backoff); no answer (in doubt: never failed over blind, asked about first
  next time; after the last attempt FAILED as "outcome unknown", never silently; at once at a
  provider that cannot be asked and must not get it twice, Africa's Talking).
- **Record** every outcome in one short transaction; no transaction spans a network call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from herald.clock import Clock
from herald.config import Settings
from herald.domain.jobs import Job
from herald.domain.phones import mask
from herald.domain.quiet import QuietHours
from herald.domain.retry import RetryPolicy
from herald.domain.sending import Accepted, Claimed, Failure, Retry
from herald.errors import ProviderError, ProviderOutcome
from herald.providers.base import FailsInDoubt, OutboundMessage, SendResult
from herald.providers.gate import Gate, Gates
from herald.providers.registry import Providers
from herald.services.claiming import Claimer
from herald.services.loop import run_loop
from herald.services.office_profiles import OfficeProfiles
from herald.services.presence import Presence
from herald.services.reconcile import Reconciler, reopens
from herald.services.runs import recorded
from herald.services.telemetry import Telemetry
from herald.store import message_parts, optouts
from herald.store import messages as message_store
from herald.store import reports as report_store
from herald.store.messages import UNKNOWN_OUTCOME

log = logging.getLogger(__name__)

MISCONFIGURED_WAIT = timedelta(minutes=5)
"""How long messages wait while their provider refuses herald's credentials (and no fallback takes them)."""

_ONWARD = frozenset({ProviderOutcome.TRANSIENT, ProviderOutcome.UNREACHABLE, ProviderOutcome.MISCONFIGURED})
"""Failures the next provider of the chain may take over (known not to be at this provider)."""

COUNTS = ("accepted", "retry", "held", "failed", "invalid", "failover", "settled")


@dataclass
class _Outcome:
    accepted: list[Accepted] = field(default_factory=list)
    retries: list[Retry] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    # (provider, message id, external id, every part's id) of messages that went as several parts
    parts: list[tuple[str, int, str, tuple[str, ...]]] = field(default_factory=list)
    failovers: int = 0
    settled: int = 0
    tried_on: dict[int, str] = field(default_factory=dict)  # message id -> the provider whose error it last had

    def counts(self) -> dict[str, int]:
        return {
            "accepted": len(self.accepted),
            "retry": sum(r.counted for r in self.retries),
            "held": sum(not r.counted for r in self.retries),
            "failed": len(self.failed),
            "invalid": len(self.invalid),
            "failover": self.failovers,
            "settled": self.settled,
        }


@dataclass(frozen=True)
class SendPolicy:
    """The settings the send job follows: batch and concurrency, leases, retries, quiet hours."""

    batch_size: int = 500
    concurrency: int = 16  # batches in flight at once
    lease_seconds: float = 60.0  # at least; never shorter than the slowest request could take
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    quiet_hours: str | None = None  # local hours with no sending, e.g. "21:00-07:30"
    timezone: str = "Africa/Nairobi"  # the local time of offices without a profile

    @classmethod
    def of(cls, settings: Settings) -> SendPolicy:
        return cls(
            batch_size=settings.send_batch_size,
            concurrency=settings.send_concurrency,
            lease_seconds=settings.send_lease_seconds,
            max_attempts=settings.max_attempts,
            retry_base_seconds=settings.retry_base_seconds,
            quiet_hours=settings.quiet_hours,
            timezone=settings.timezone,
        )


class Sender:
    """Sends through the process's shared gates and presence; cheap to make, holds no state of its own."""

    def __init__(
        self,
        *,
        store: Engine,
        providers: Providers,
        gates: Gates,
        presence: Presence,
        clock: Clock,
        offices: OfficeProfiles,
        policy: SendPolicy,
        rng: random.Random | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.store, self.providers, self.gates, self.presence = store, providers, gates, presence
        self.telemetry = telemetry or Telemetry(gates, lambda: providers.settings.keys())
        self.clock, self.offices, self.send_policy = clock, offices, policy
        self.retry = RetryPolicy(policy.max_attempts, policy.retry_base_seconds)
        self.rng = rng or random.Random()
        self.stopping = False  # set on SIGTERM: claim nothing more, hand over nothing more
        self._written: asyncio.Event | None = None  # set by written(): new messages may be claimable (per pass)
        self.reconciler = Reconciler(
            providers=providers, gates=gates, clock=clock, retry_base_seconds=policy.retry_base_seconds, store=store
        )
        slowest = max((c.timeout for c in providers.settings.values()), default=10.0)
        # The claim's lease: never shorter than the slowest request could take, plus a margin.
        self.lease = timedelta(seconds=max(policy.lease_seconds, 2 * slowest + 5))
        self.claimer = Claimer(
            store=store,
            providers=providers,
            gates=gates,
            clock=clock,
            offices=offices,
            worker=presence.id,
            lease=self.lease,
            batch_size=policy.batch_size,
            quiet=QuietHours.parse(policy.quiet_hours) if policy.quiet_hours else None,
            timezone=policy.timezone,
        )

    def gate(self, name: str) -> Gate:
        return self.gates[name]

    # -- the pass ---------------------------------------------------------------------------------

    async def run(self, limit: int | None = None, max_seconds: float | None = None) -> dict[str, int]:
        """Send what is sendable now (up to `limit` messages), several batches in flight.

        With `max_seconds` the pass ends after that long even with a backlog left (the worker lets
        the other jobs run, then comes back at once); `more` in the counts says so.
        """
        policy = self.send_policy
        totals: dict[str, int] = defaultdict(int)
        in_flight: set[asyncio.Task[dict[str, int]]] = set()
        claimed_total = 0
        loop = asyncio.get_running_loop()
        until = None if max_seconds is None else loop.time() + max_seconds
        more = False
        first = True  # the first claim of a pass also looks for messages of unconfigured providers

        def collect(done: set[asyncio.Task[dict[str, int]]]) -> None:
            for task in done:
                if task.cancelled() or task.exception() is not None:
                    # Its claims are handed back at the next heartbeat (send_batch saw to it); the pass goes on.
                    log.error("a batch could not be sent or recorded", exc_info=task.exception())
                    totals["errors"] += 1
                    continue
                for key, value in task.result().items():
                    totals[key] += value

        async with self.presence.alive():
            try:
                while not self.stopping and (limit is None or claimed_total < limit):
                    if until is not None and loop.time() >= until:
                        more = True
                        break
                    if not self.presence.fresh(self.clock.now()):
                        # Our heartbeat is not being written (the database is away): claim nothing until it is.
                        log.warning("the heartbeat is stale; sending pauses until it is written again")
                        more = True
                        break
                    room = policy.batch_size if limit is None else limit - claimed_total
                    self._written = asyncio.Event()  # before the claim: what is written during it is not missed
                    batches = await asyncio.to_thread(self.claimer.claim, room, first)
                    first = False
                    if not batches:
                        if not in_flight:
                            break
                        # Nothing claimable yet, or budgets are full (rate limits): claim again when a batch
                        # finishes, or as soon as materializing writes more.
                        done, in_flight = await self._finished_or_written(in_flight)
                        collect(done)
                        continue
                    for batch, budget in batches:
                        if budget is not None:  # counted here, on the loop's thread, like its release
                            budget.holding += len(batch)
                        claimed_total += len(batch)
                        in_flight.add(asyncio.create_task(self.send_batch(batch, budget)))
                    while len(in_flight) >= policy.concurrency:
                        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                        collect(done)
                if in_flight:
                    done, _ = await asyncio.wait(in_flight)
                    collect(done)
            except asyncio.CancelledError:
                # Stopped past the grace period: end every request now, before the claims are handed back,
                # so nobody else asks about (or sends) a message while one of ours is still on the wire.
                for task in in_flight:
                    task.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)
                raise
        return dict.fromkeys(COUNTS, 0) | totals | ({"more": 1} if more else {})

    def written(self) -> None:
        """New messages were stored (a materialized chunk): a pass waiting on its requests claims again now.
        Call it on the loop's thread."""
        if self._written is not None:
            self._written.set()

    async def _finished_or_written(
        self, in_flight: set[asyncio.Task[dict[str, int]]]
    ) -> tuple[set[asyncio.Task[dict[str, int]]], set[asyncio.Task[dict[str, int]]]]:
        """Wait until a batch finishes or new messages are written since the last claim, whichever comes first."""
        assert self._written is not None
        woken = asyncio.create_task(self._written.wait())
        try:
            done, _ = await asyncio.wait({*in_flight, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
        finished = {t for t in in_flight if t in done}
        return finished, in_flight - finished

    async def send_now(self, ids: list[int]) -> None:
        """Hand these new messages (a triggered event's) to their providers at once, if they are
        sendable now (quiet hours included); whatever is not sent stays PENDING for the send job."""
        try:
            async with self.presence.alive():
                claimed = await asyncio.to_thread(self.claimer.claim_these, ids)
                if claimed:
                    await self.send_batch(claimed)
        except Exception:  # the messages stay PENDING: the worker's send job picks them up
            log.exception("immediate send of %d triggered messages failed", len(ids))

    # -- one batch --------------------------------------------------------------------------------

    async def send_batch(self, batch: list[Claimed], budget: Gate | None = None) -> dict[str, int]:
        """Route, send and record one claimed batch (`budget`: the gate whose claim budget it took)."""
        outcome = _Outcome()
        try:
            blocked = await asyncio.to_thread(self._opted_out, [m.mobile_no for m in batch])
            sendable = [m for m in batch if m.mobile_no not in blocked]
            outcome.invalid = [m.id for m in batch if m.mobile_no in blocked]
            reconciled = await self.reconciler.reconcile(sendable)
            outcome.accepted += reconciled.found
            outcome.settled += len(reconciled.found)
            outcome.retries += reconciled.waiting
            outcome.failed += reconciled.failed
            sendable = reconciled.to_send
            by_provider: dict[str, list[Claimed]] = defaultdict(list)
            for m in sendable:
                by_provider[m.provider].append(m)
            jobs: list[Awaitable[None]] = []
            for primary, group in by_provider.items():
                adapter = self.providers.get(primary)  # a provider removed from the configuration: see _deliver
                size = max(adapter.max_batch if adapter is not None else 100, 1)
                jobs.extend(self._deliver(primary, group[i : i + size], outcome) for i in range(0, len(group), size))
            await asyncio.gather(*jobs)
            await self._record_surely(outcome)
        except BaseException:
            # Whatever was not recorded stays claimed by us: hand it back (in doubt) at the next heartbeat,
            # or it would be renewed for as long as this process lives.
            self.presence.abandon([m.id for m in batch])
            raise
        finally:
            if budget is not None:
                budget.holding -= len(batch)
        return outcome.counts()

    async def _record_surely(self, outcome: _Outcome) -> None:
        """Record the outcomes, trying again while the database is busy: they describe what providers did."""
        for attempt in range(5):
            try:
                await asyncio.to_thread(self._record, outcome)
                return
            except Exception as exc:
                if attempt == 4:
                    raise
                log.warning("recording %d outcomes failed (%s); trying again", len(outcome.accepted), exc)
                await asyncio.sleep(0.5 * 2**attempt)

    def _opted_out(self, numbers: list[str]) -> set[str]:
        with self.store.connect() as conn:
            return optouts.contains(conn, numbers)

    def _record(self, outcome: _Outcome) -> None:
        now = self.clock.now()
        with self.store.begin() as conn:
            message_store.mark_accepted(conn, outcome.accepted, now)
            # Part ids before adopting parked reports: a part's early receipt may be waiting for them.
            for provider, mid, external_id, part_ids in outcome.parts:
                message_parts.record(conn, provider, [(mid, external_id, part_ids)])
            accepted = [(a.provider, a.external_id) for a in outcome.accepted]
            accepted += [(provider, part) for provider, _, _, ids in outcome.parts for part in ids[1:]]
            report_store.adopt_parked(conn, accepted, now, sharing=self.providers.sharing)
            message_store.reschedule(conn, outcome.retries, now)
            message_store.mark_failed(conn, outcome.failed, now)
            message_store.mark_invalid(conn, outcome.invalid, "opted out", now)
            optouts.add(conn, outcome.unsubscribed, source="provider", detail="unsubscribed (send refused)", now=now)

    def _candidates(self, primary: str, campaign_fallback: str | None) -> list[str]:
        return self.providers.chain(primary, campaign_fallback)

    async def _deliver(self, primary: str, chunk: list[Claimed], outcome: _Outcome) -> None:
        """Send one chunk along its provider chain: a known failure moves on to the next provider, an
        unknown outcome never does (the next attempt asks first)."""
        candidates = self._candidates(primary, chunk[0].fallback)
        now = self.clock.now()
        if not candidates:  # its provider is gone from the configuration and nothing falls back
            text = f"provider {primary!r} is not configured; add it back or give the campaign a fallback"
            outcome.retries += [_held(m, now + MISCONFIGURED_WAIT, "NO_PROVIDER", text) for m in chunk]
            log.error("%d messages wait: %s", len(chunk), text)
            return
        pending = chunk
        last: dict[int, ProviderError] = {}
        for position, name in enumerate(candidates):
            gate = self.gate(name)
            now = self.clock.now()
            if gate.paused(now) or not gate.breaker.allows(now):
                continue
            probing = gate.cautious
            if probing:  # one request of one message goes first and decides for the others
                if not gate.take_probe():
                    continue
                outcome.retries += [
                    _held(m, now + timedelta(seconds=1), "HELD", f"{name} is being probed") for m in pending[1:]
                ]
                pending = pending[:1]
            try:
                results = await self._send(name, gate, pending)
            finally:
                if probing:
                    gate.probe_done()
            unsent = [m for m, r in zip(pending, results, strict=True) if r is None]
            # Stopping, or our heartbeat is stale: never handed over, so anyone may take them now, not in doubt.
            outcome.retries += [_held(m, now, "HELD", "handed back unsent") for m in unsent]
            answered = [(m, r) for m, r in zip(pending, results, strict=True) if r is not None]
            pending = self._judge(name, gate, [m for m, _ in answered], [r for _, r in answered], outcome, last)
            if not pending:
                outcome.failovers += int(position > 0 and bool(answered))
                return
        now = self.clock.now()
        why = self.gate(candidates[0]).last_error  # the primary's last failure, for messages never tried
        reopen = max(min((self._reopens(n, now) for n in candidates), default=now), now + timedelta(seconds=1))
        for m in pending:
            error = last.get(m.id)
            if error is None:  # no provider would take it now (breakers open, paused): hold, attempt given back
                if why is not None and why.outcome is ProviderOutcome.MISCONFIGURED:
                    outcome.retries.append(_held(m, now + MISCONFIGURED_WAIT, why.code, why.text or why.message))
                elif why is not None:
                    outcome.retries.append(_held(m, reopen, why.code, why.text or why.message))
                else:
                    outcome.retries.append(_held(m, reopen, "HELD", "every provider is failing"))
            elif error.outcome is ProviderOutcome.MISCONFIGURED:  # refuses herald itself: hold the message, not fail it
                outcome.retries.append(_held(m, now + MISCONFIGURED_WAIT, error.code, error.text or error.message))
            else:
                self._retry_or_fail(m, error, outcome, now, outcome.tried_on.get(m.id))

    def _reopens(self, name: str, now: datetime) -> datetime:
        return reopens(self.gate(name), now)

    def _judge(
        self,
        name: str,
        gate: Gate,
        chunk: Sequence[Claimed],
        results: Sequence[SendResult],
        outcome: _Outcome,
        last: dict[int, ProviderError],
    ) -> list[Claimed]:
        """Record what is settled by these answers; return the messages the next provider may try."""
        now = self.clock.now()
        onward: list[Claimed] = []
        answered = failing = throttled = 0
        for m, result in zip(chunk, results, strict=True):
            if result.accepted:
                assert result.external_id is not None
                outcome.accepted.append(Accepted(m.id, name, result.external_id, result.cost, result.cost_currency))
                if result.part_ids:
                    outcome.parts.append((name, m.id, result.external_id, result.part_ids))
                answered += 1
                continue
            error = result.error
            assert error is not None
            log.info("send to %s via %s failed: %s (%s)", mask(m.mobile_no), name, error.code, error.outcome)
            if error.outcome is ProviderOutcome.THROTTLED:
                throttled += 1
                until = gate.throttled(now, error.retry_after)
                outcome.retries.append(_held(m, until, error.code, error.text or error.message))
            elif error.outcome is ProviderOutcome.OUTCOME_UNKNOWN:  # it may be at the provider: never elsewhere blind
                failing += 1
                self._retry_or_fail(m, error, outcome, now, name)
            elif error.outcome in _ONWARD:
                failing += 1
                last[m.id] = error
                outcome.tried_on[m.id] = name
                onward.append(m)
            else:
                answered += 1
                if error.outcome is ProviderOutcome.OPTED_OUT:
                    outcome.unsubscribed.append(m.mobile_no)
                outcome.failed.append(Failure(m.id, error.code, error.text or error.message))
        if answered:
            gate.breaker.succeeded()
            gate.last_error = None
        elif failing:
            gate.last_error = next(iter(last.values()), None) or next(
                (r.error for r in results if r.error is not None and r.error.outcome is not ProviderOutcome.THROTTLED),
                None,
            )
            # Per request, not per chunk: twenty failed Twilio requests are twenty failures, a failed
            # Infobip batch (one request, one error for all its messages) is one.
            failed = {
                id(r.error) for r in results if r.error is not None and r.error.outcome is not ProviderOutcome.THROTTLED
            }
            for _ in range(len(failed)):
                gate.breaker.failed(now)
            log.warning(
                "provider %s failing (%s); breaker %s", name, next(iter(last.values()), None), gate.breaker.state
            )
        if not throttled:
            gate.answered()
        return onward

    def _retry_or_fail(
        self, m: Claimed, error: ProviderError, outcome: _Outcome, now: datetime, provider: str | None
    ) -> None:
        text = error.text or error.message
        delay = self.retry.delay(m.attempts, self.rng.random())
        if error.retry_after is not None and delay is not None:
            delay = max(delay, timedelta(seconds=error.retry_after))
        in_doubt = error.outcome is ProviderOutcome.OUTCOME_UNKNOWN
        unknown = in_doubt or m.in_doubt
        adapter = self.providers.get(provider) if provider is not None else None
        if in_doubt and isinstance(adapter, FailsInDoubt):
            # It may be at a provider that cannot be asked: another attempt could send it twice.
            why = adapter.in_doubt_reason()
            outcome.failed.append(Failure(m.id, UNKNOWN_OUTCOME, f"outcome unknown ({why}): {text}", True))
            return
        if delay is not None:
            outcome.retries.append(Retry(m.id, now + delay, error.code, text, in_doubt=in_doubt, provider=provider))
        elif unknown:
            outcome.failed.append(
                Failure(m.id, UNKNOWN_OUTCOME, f"outcome unknown after {m.attempts} attempts: {text}", True)
            )
        else:
            outcome.failed.append(Failure(m.id, error.code, text))

    async def _send(self, name: str, gate: Gate, chunk: Sequence[Claimed]) -> list[SendResult | None]:
        """Hand the chunk over through the gate, one burst at a time as the rate allows; None for a
        message that must not go (stopping, or our heartbeat is stale)."""
        mine = self.providers.installation  # in every reference: unique on an account other installations share
        outbound = [
            OutboundMessage(m.id, m.mobile_no, m.body, m.attempts, sender=m.sender_id, installation=mine) for m in chunk
        ]
        step = gate.burst or len(outbound)
        calls: list[asyncio.Task[list[SendResult]]] = []
        results: list[SendResult | None] = []
        async with gate.slots:
            for start in range(0, len(outbound), step):
                piece = outbound[start : start + step]
                await gate.admit(len(piece))
                if self.stopping or not self.presence.fresh(self.clock.now()):
                    results += [None] * (len(outbound) - start)
                    break
                calls.append(asyncio.create_task(self._call(name, piece)))
            answers = await asyncio.gather(*calls)
        return [r for answer in answers for r in answer] + results

    async def _call(self, name: str, piece: Sequence[OutboundMessage]) -> list[SendResult]:
        """One send() of the adapter. Every adapter bounds each request by its provider's `timeout` (a
        hang comes back as a TIMEOUT in doubt); a bound on the whole call here would cut off requests
        still waiting for a free connection and put a healthy chunk in doubt."""
        provider = self.providers.named(name)
        started = time.perf_counter()
        try:
            results = await provider.send(piece)
        except ProviderError as exc:
            results = [SendResult(m.message_id, error=exc) for m in piece]
        except Exception as exc:  # an adapter bug must not lose the batch: retry it, loudly
            log.exception("provider %s raised instead of answering", name)
            error = ProviderError(
                f"{type(exc).__name__}: {exc}", provider=name, code="ADAPTER_ERROR",
                outcome=ProviderOutcome.OUTCOME_UNKNOWN,
            )  # fmt: skip
            results = [SendResult(m.message_id, error=error) for m in piece]
        self.telemetry.answered(name, time.perf_counter() - started, results)  # the request's own latency and codes
        return results


def _held(m: Claimed, until: datetime, code: str | None, text: str | None) -> Retry:
    """Not handed to any provider: waits until `until` with its attempt given back."""
    return Retry(m.id, until, code, text, counted=False, in_doubt=m.in_doubt)


def run(sender: Sender, limit: int | None = None) -> dict[str, int]:
    """One recorded run of the job (the CLI's one-off run), providers closed afterwards (their
    connections belong to this loop) and this process's presence left."""

    async def once() -> dict[str, int]:
        try:
            return await sender.run(limit)
        finally:
            await sender.providers.close()
            await asyncio.to_thread(sender.presence.leave)

    with recorded(sender.store, sender.clock, Job.SEND) as counts:
        counts.update(run_loop(once()))
        return counts
