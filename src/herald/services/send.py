"""Job "Send Messages to SMS Gateway": hand PENDING messages to their providers, once each, politely.

The shape of one pass, and why each step is there:
- **Claim** per provider, one statement each (store/messages.py), no more than the provider can
  take within half a lease at this process's share of its rate limit, and only for providers that
  could take a request now (breaker closed or ready to probe, not paused), else for the fallback
  that would take them. The lease is renewed by this process's heartbeat while it holds them.
- **Ask first.** A message whose earlier attempt has no known outcome is looked up at every
  provider that may have it (Twilio's message list, Infobip's logs); only a "no" lets it go out
  again or to a fallback. A provider that cannot be asked now keeps it waiting, attempt given back.
- **Send** through the process's one gate per provider (rate share, requests in flight, breaker),
  and only while this process's heartbeat is fresh, so nobody settles its claims mid-request.
- **Decide** per answer: accepted; permanent failure; "slow down" (the provider is paused for its
  Retry-After, the attempt given back); a known transient failure (the next provider in the chain
  may take it now, else backoff); no answer (in doubt: never failed over blind, asked about first
  next time; after the last attempt FAILED as "outcome unknown", never silently).
- **Record** every outcome in one short transaction; no transaction spans a network call.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from herald.app import Herald
from herald.domain.phones import mask
from herald.domain.quiet import QuietHours
from herald.domain.retry import RetryPolicy
from herald.domain.sending import Accepted, Claimed, Failure, Retry
from herald.errors import ProviderError, ProviderOutcome
from herald.providers.base import InDoubt, OutboundMessage, Reconciling, SendResult
from herald.providers.gate import Gate, Gates
from herald.services.loop import run_loop
from herald.services.runs import Job, recorded
from herald.store import messages as message_store
from herald.store import optouts
from herald.store import reports as report_store
from herald.store.messages import UNKNOWN_OUTCOME, OfficeFilter

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
    failovers: int = 0
    settled: int = 0

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


class Sender:
    """Sends through the process's shared gates and presence; cheap to make, holds no state of its own."""

    def __init__(self, herald: Herald, rng: random.Random | None = None) -> None:
        self.herald = herald
        settings = herald.settings
        self.policy = RetryPolicy(settings.max_attempts, settings.retry_base_seconds)
        self.rng = rng or random.Random()
        self.quiet = QuietHours.parse(settings.quiet_hours) if settings.quiet_hours else None
        self.stopping = False  # set on SIGTERM: claim nothing more, hand over nothing more

    @property
    def gates(self) -> Gates:
        return self.herald.gates

    def gate(self, name: str) -> Gate:
        return self.herald.gates[name]

    @property
    def lease(self) -> timedelta:
        """The claim's lease: never shorter than the slowest request could take, plus a margin."""
        slowest = max((c.timeout for c in self.herald.provider_settings.values()), default=10.0)
        return timedelta(seconds=max(self.herald.settings.send_lease_seconds, 2 * slowest + 5))

    def _office_filter(self, now: datetime) -> OfficeFilter | None:
        if self.quiet is None:
            return None
        profiles = self.herald.office_timezones()
        quiet = frozenset(o for o, tz in profiles.items() if self._is_quiet(now, tz))
        return OfficeFilter(quiet, self._is_quiet(now, self.herald.settings.timezone), frozenset(profiles))

    def _is_quiet(self, now: datetime, timezone: str) -> bool:
        assert self.quiet is not None
        return self.quiet.contains(now.astimezone(ZoneInfo(timezone)).time())

    # -- the pass ---------------------------------------------------------------------------------

    async def run(self, limit: int | None = None, max_seconds: float | None = None) -> dict[str, int]:
        """Send what is sendable now (up to `limit` messages), several batches in flight.

        With `max_seconds` the pass ends after that long even with a backlog left (the worker lets
        the other jobs run, then comes back at once); `more` in the counts says so.
        """
        settings = self.herald.settings
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

        async with self.herald.presence.alive():
            try:
                while not self.stopping and (limit is None or claimed_total < limit):
                    if until is not None and loop.time() >= until:
                        more = True
                        break
                    if not self.herald.presence.fresh(self.herald.clock.now()):
                        # Our heartbeat is not being written (the database is away): claim nothing until it is.
                        log.warning("the heartbeat is stale; sending pauses until it is written again")
                        more = True
                        break
                    room = settings.send_batch_size if limit is None else limit - claimed_total
                    batches = await asyncio.to_thread(self._claim, room, first)
                    first = False
                    if not batches:
                        if not in_flight:
                            break
                        # Budgets are full (rate limits): wait for a batch to finish, then claim again.
                        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                        collect(done)
                        continue
                    for batch, budget in batches:
                        if budget is not None:  # counted here, on the loop's thread, like its release
                            budget.holding += len(batch)
                        claimed_total += len(batch)
                        in_flight.add(asyncio.create_task(self.send_batch(batch, budget)))
                    while len(in_flight) >= settings.send_concurrency:
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

    def _claim(self, room: int, orphans: bool = False) -> list[tuple[list[Claimed], Gate | None]]:
        """Claim for each provider what it can take now, in one write transaction (runs in a thread)."""
        herald = self.herald
        now = herald.clock.now()
        offices = self._office_filter(now)
        lease = self.lease
        worker = herald.presence.id
        batches: list[tuple[list[Claimed], Gate | None]] = []
        with herald.store.begin() as conn:
            for name in herald.providers:
                if room <= 0:
                    break
                size, campaign_fallbacks, gate = self._claim_size(name, now, room)
                if size <= 0:
                    continue
                batch = message_store.claim_pending(
                    conn,
                    now,
                    size,
                    lease,
                    offices,
                    worker=worker,
                    provider=name,
                    campaign_fallbacks=campaign_fallbacks,
                )
                if batch:
                    room -= len(batch)
                    batches.append((batch, gate))
            if orphans:  # messages of a provider removed from the configuration: claimed to say why they wait
                found = message_store.claim_orphans(conn, now, min(room, 100), lease, list(herald.providers), worker)
                if found:
                    batches.append((found, None))
        return batches

    def _claim_size(self, name: str, now: datetime, room: int) -> tuple[int, list[str] | None, Gate]:
        """How many of `name`'s messages to claim now, whether only those of campaigns with a usable
        fallback, and the gate whose budget they take."""
        gate = self.gate(name)
        config = self.herald.provider_settings.get(name)
        chain = [n for n in (config.fallback if config else None, self.herald.settings.fallback_provider) if n]
        route: Gate | None = gate if gate.accepting(now) else None
        campaign_fallbacks: list[str] | None = None
        if route is None:
            route = next(
                (self.gate(n) for n in chain if n in self.herald.providers and self.gate(n).accepting(now)), None
            )
        if route is None:
            usable = [n for n in self.herald.providers if n != name and self.gate(n).accepting(now)]
            if not usable:
                return 0, None, gate
            campaign_fallbacks, route = usable, self.gate(usable[0])
        budget = route.budget(self.lease)
        size = room if budget is None else min(room, budget - route.holding)
        return min(size, self.herald.settings.send_batch_size), campaign_fallbacks, route

    # -- one batch --------------------------------------------------------------------------------

    async def send_batch(self, batch: list[Claimed], budget: Gate | None = None) -> dict[str, int]:
        """Route, send and record one claimed batch (`budget`: the gate whose claim budget it took)."""
        herald = self.herald
        outcome = _Outcome()
        try:
            blocked = await asyncio.to_thread(self._opted_out, [m.mobile_no for m in batch])
            sendable = [m for m in batch if m.mobile_no not in blocked]
            outcome.invalid = [m.id for m in batch if m.mobile_no in blocked]
            sendable = await self._reconcile(sendable, outcome)
            by_provider: dict[str, list[Claimed]] = defaultdict(list)
            for m in sendable:
                by_provider[m.provider].append(m)
            jobs: list[Awaitable[None]] = []
            for primary, group in by_provider.items():
                adapter = herald.providers.get(primary)  # a provider removed from the configuration: see _deliver
                size = max(adapter.max_batch if adapter is not None else 100, 1)
                jobs.extend(self._deliver(primary, group[i : i + size], outcome) for i in range(0, len(group), size))
            await asyncio.gather(*jobs)
            await self._record_surely(outcome)
        except BaseException:
            # Whatever was not recorded stays claimed by us: hand it back (in doubt) at the next heartbeat,
            # or it would be renewed for as long as this process lives.
            self.herald.presence.abandon([m.id for m in batch])
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
        with self.herald.store.connect() as conn:
            return optouts.contains(conn, numbers)

    def _record(self, outcome: _Outcome) -> None:
        now = self.herald.clock.now()
        with self.herald.store.begin() as conn:
            message_store.mark_accepted(conn, outcome.accepted, now)
            report_store.adopt_parked(conn, [(a.provider, a.external_id) for a in outcome.accepted], now)
            message_store.reschedule(conn, outcome.retries, now)
            message_store.mark_failed(conn, outcome.failed, now)
            message_store.mark_invalid(conn, outcome.invalid, "opted out", now)
            optouts.add(conn, outcome.unsubscribed, source="provider", detail="unsubscribed (send refused)", now=now)

    async def _reconcile(self, batch: list[Claimed], outcome: _Outcome) -> list[Claimed]:
        """Ask the providers about messages whose earlier attempts have no known outcome; return those to send.

        Every provider the message may have gone to is asked (its primary and fallbacks), about
        every attempt since the first one in doubt. One that already has it: adopted, not sent
        again. One that cannot be asked now (down, breaker open, no answer): the message waits with
        its attempt given back. SMPP and the simulator cannot be asked at all (README: what herald
        does then), so for them the message goes out again.
        """
        doubtful = [m for m in batch if m.in_doubt]
        if not doubtful:
            return batch
        found_ids: set[int] = set()
        unasked: dict[int, tuple[datetime, str]] = {}  # could not be asked somewhere: until when, why
        now = self.herald.clock.now()
        for name in dict.fromkeys(n for m in doubtful for n in self._candidates(m.provider, m.fallback)):
            provider = self.herald.provider(name)
            if not isinstance(provider, Reconciling):
                continue
            asked = [m for m in doubtful if m.id not in found_ids and name in self._candidates(m.provider, m.fallback)]
            if not asked:
                continue
            gate = self.gate(name)
            if not gate.accepting(now):
                reopens = max(self._reopens(name, now), now + timedelta(seconds=1))
                for m in asked:
                    unasked.setdefault(m.id, (reopens, f"{name} cannot be asked now"))
                continue
            questions = [InDoubt(m.id, m.mobile_no, m.body, m.attempts - 1, m.in_doubt_since or now) for m in asked]
            try:
                async with gate.slots:
                    found = await provider.lookup(questions)
            except ProviderError as exc:
                log.warning("cannot ask %s about %d messages of unknown outcome: %s", name, len(asked), exc)
                wait = now + timedelta(seconds=self.herald.settings.retry_base_seconds)
                if exc.outcome is ProviderOutcome.THROTTLED:
                    wait = max(wait, gate.throttled(now, exc.retry_after))
                for m in asked:
                    unasked.setdefault(m.id, (wait, str(exc.text or exc.message)))
                continue
            for m in asked:
                if m.id in found:
                    outcome.accepted.append(Accepted(m.id, name, found[m.id]))
                    found_ids.add(m.id)
        outcome.settled += len(found_ids)
        if found_ids:
            log.info("%d messages of unknown outcome found at their provider, not sent again", len(found_ids))
        waiting = {m.id for m in doubtful if m.id in unasked and m.id not in found_ids}
        outcome.retries += [_waiting(m, *unasked[m.id]) for m in doubtful if m.id in waiting]
        return [m for m in batch if m.id not in found_ids and m.id not in waiting]

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

    async def _deliver(self, primary: str, chunk: list[Claimed], outcome: _Outcome) -> None:
        """Send one chunk along its provider chain: a known failure moves on to the next provider, an
        unknown outcome never does (the next attempt asks first)."""
        herald = self.herald
        candidates = self._candidates(primary, chunk[0].fallback)
        now = herald.clock.now()
        if not candidates:  # its provider is gone from the configuration and nothing falls back
            text = f"provider {primary!r} is not configured; add it back or give the campaign a fallback"
            outcome.retries += [_held(m, now + MISCONFIGURED_WAIT, "NO_PROVIDER", text) for m in chunk]
            log.error("%d messages wait: %s", len(chunk), text)
            return
        pending = chunk
        last: dict[int, ProviderError] = {}
        for position, name in enumerate(candidates):
            gate = self.gate(name)
            now = herald.clock.now()
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
        now = herald.clock.now()
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
                self._retry_or_fail(m, error, outcome, now)

    def _reopens(self, name: str, now: datetime) -> datetime:
        gate = self.gate(name)
        return max(gate.paused_until or now, gate.breaker.reopens_at() or now)

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
        now = self.herald.clock.now()
        onward: list[Claimed] = []
        answered = failing = throttled = 0
        for m, result in zip(chunk, results, strict=True):
            if result.accepted:
                assert result.external_id is not None
                outcome.accepted.append(Accepted(m.id, name, result.external_id))
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
                self._retry_or_fail(m, error, outcome, now)
            elif error.outcome in _ONWARD:
                failing += 1
                last[m.id] = error
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

    def _retry_or_fail(self, m: Claimed, error: ProviderError, outcome: _Outcome, now: datetime) -> None:
        text = error.text or error.message
        delay = self.policy.delay(m.attempts, self.rng.random())
        if error.retry_after is not None and delay is not None:
            delay = max(delay, timedelta(seconds=error.retry_after))
        in_doubt = error.outcome is ProviderOutcome.OUTCOME_UNKNOWN
        unknown = in_doubt or m.in_doubt
        if delay is not None:
            outcome.retries.append(Retry(m.id, now + delay, error.code, text, in_doubt=in_doubt))
        elif unknown:
            outcome.failed.append(
                Failure(m.id, UNKNOWN_OUTCOME, f"outcome unknown after {m.attempts} attempts: {text}", True)
            )
        else:
            outcome.failed.append(Failure(m.id, error.code, text))

    async def _send(self, name: str, gate: Gate, chunk: Sequence[Claimed]) -> list[SendResult | None]:
        """Hand the chunk over through the gate, one burst at a time as the rate allows; None for a
        message that must not go (stopping, or our heartbeat is stale)."""
        outbound = [OutboundMessage(m.id, m.mobile_no, m.body, m.attempts) for m in chunk]
        step = gate.burst or len(outbound)
        calls: list[asyncio.Task[list[SendResult]]] = []
        results: list[SendResult | None] = []
        async with gate.slots:
            for start in range(0, len(outbound), step):
                piece = outbound[start : start + step]
                await gate.admit(len(piece))
                if self.stopping or not self.herald.presence.fresh(self.herald.clock.now()):
                    results += [None] * (len(outbound) - start)
                    break
                calls.append(asyncio.create_task(self._call(name, piece)))
            answers = await asyncio.gather(*calls)
        return [r for answer in answers for r in answer] + results

    async def _call(self, name: str, piece: Sequence[OutboundMessage]) -> list[SendResult]:
        """One send() of the adapter. Every adapter bounds each request by its provider's `timeout` (a
        hang comes back as a TIMEOUT in doubt); a bound on the whole call here would cut off requests
        still waiting for a free connection and put a healthy chunk in doubt."""
        provider = self.herald.provider(name)
        try:
            return await provider.send(piece)
        except ProviderError as exc:
            error = exc
        except Exception as exc:  # an adapter bug must not lose the batch: retry it, loudly
            log.exception("provider %s raised instead of answering", name)
            error = ProviderError(
                f"{type(exc).__name__}: {exc}", provider=name, code="ADAPTER_ERROR",
                outcome=ProviderOutcome.OUTCOME_UNKNOWN,
            )  # fmt: skip
        return [SendResult(m.message_id, error=error) for m in piece]


def _held(m: Claimed, until: datetime, code: str | None, text: str | None) -> Retry:
    """Not handed to any provider: waits until `until` with its attempt given back."""
    return Retry(m.id, until, code, text, counted=False, in_doubt=m.in_doubt)


def _waiting(m: Claimed, until: datetime, why: str) -> Retry:
    """In doubt and not yet asked: waits, attempt given back, still in doubt."""
    return Retry(m.id, until, "IN_DOUBT", f"waiting to learn whether it was sent ({why})", counted=False, in_doubt=True)


async def send_pending(herald: Herald, limit: int | None = None) -> dict[str, int]:
    """One pass of sending (the CLI's one-off run)."""
    return await Sender(herald).run(limit)


def run(herald: Herald, limit: int | None = None) -> dict[str, int]:
    """One recorded run of the job, providers closed afterwards (their connections belong to this loop)."""

    async def once() -> dict[str, int]:
        try:
            return await send_pending(herald, limit)
        finally:
            await herald.close_providers()
            await asyncio.to_thread(herald.presence.leave)

    with recorded(herald, Job.SEND) as counts:
        counts.update(run_loop(once()))
        return counts
