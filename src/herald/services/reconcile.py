"""Asking first: messages whose earlier attempt has no known outcome are looked up at their providers before any resend.

A claimed message still marked in flight (its worker died, or its request got no answer) may
already be at a provider. Every provider it may have gone to (its primary and fallbacks) that can
be asked (Twilio's message list, Infobip's logs) is asked about every attempt since the doubt
began. One that already holds it: adopted, never sent again. One that cannot be asked now (down,
breaker open, no answer): the message waits with its attempt given back, still in doubt. SMPP and
the simulator cannot be asked at all (README: what herald does then), so for them it goes out again.
Africa's Talking cannot be asked either, and its sends are bulk: a message of an AT campaign still
in doubt here (its worker died mid-send) is FAILED as OUTCOME_UNKNOWN, never sent again.
A provider's message that herald already records for another of its messages is never adopted: a
re-send has its original's number and text, and finding the original says nothing about the copy.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.sending import Accepted, Claimed, Failure, Retry
from herald.errors import ProviderError, ProviderOutcome
from herald.providers.base import FailsInDoubt, InDoubt, Reconciling
from herald.providers.gate import Gate, Gates
from herald.providers.registry import Providers
from herald.store import campaign_messages
from herald.store.messages import UNKNOWN_OUTCOME

_ROUNDS = 4  # lookups per provider for one batch: the first, then past ids other messages hold

log = logging.getLogger(__name__)


@dataclass
class Reconciled:
    """What asking settled: found at a provider, waiting to be asked, and the rest (to send)."""

    found: list[Accepted] = field(default_factory=list)
    waiting: list[Retry] = field(default_factory=list)
    to_send: list[Claimed] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)  # in doubt at a provider that cannot be asked (AT)


def reopens(gate: Gate, now: datetime) -> datetime:
    """When the gate takes requests again: the end of its pause or of its open breaker (`now` if neither)."""
    return max(gate.paused_until or now, gate.breaker.reopens_at() or now)


class Reconciler:
    """Asks the providers about the in-doubt messages of a claimed batch, through the process's gates."""

    def __init__(
        self,
        *,
        providers: Providers,
        gates: Gates,
        clock: Clock,
        retry_base_seconds: float,
        store: Engine | None = None,
    ) -> None:
        self.providers, self.gates, self.clock, self.store = providers, gates, clock, store
        self.retry_base = timedelta(seconds=retry_base_seconds)  # how long one that could not be asked waits

    async def reconcile(self, batch: list[Claimed]) -> Reconciled:
        """Ask about the batch's messages in doubt; the ones neither found nor waiting are to be sent."""
        doubtful = [m for m in batch if m.in_doubt]
        if not doubtful:
            return Reconciled(to_send=batch)
        result = Reconciled()
        found_ids: set[int] = set()
        unasked: dict[int, tuple[datetime, str]] = {}  # could not be asked somewhere: until when, why
        now = self.clock.now()

        def chain(m: Claimed) -> list[str]:
            return self.providers.chain(m.provider, m.fallback)

        for name in dict.fromkeys(n for m in doubtful for n in chain(m)):
            provider = self.providers.named(name)
            if not isinstance(provider, Reconciling):
                continue
            asked = [m for m in doubtful if m.id not in found_ids and name in chain(m)]
            if not asked:
                continue
            gate = self.gates[name]
            if not gate.accepting(now):
                until = max(reopens(gate, now), now + timedelta(seconds=1))
                for m in asked:
                    unasked.setdefault(m.id, (until, f"{name} cannot be asked now"))
                continue
            questions = [
                InDoubt(
                    m.id,
                    m.mobile_no,
                    m.body,
                    m.attempts - 1,
                    m.in_doubt_since or now,
                    sender=m.sender_id,
                    installation=self.providers.installation,
                    installed_since=self.providers.installed_since,
                )
                for m in asked
            ]
            try:
                found = await self._ask(name, provider, gate, questions)
            except ProviderError as exc:
                log.warning("cannot ask %s about %d messages of unknown outcome: %s", name, len(asked), exc)
                wait = now + self.retry_base
                if exc.outcome is ProviderOutcome.THROTTLED:
                    wait = max(wait, gate.throttled(now, exc.retry_after))
                for m in asked:
                    unasked.setdefault(m.id, (wait, str(exc.text or exc.message)))
                continue
            for m in asked:
                if m.id in found:
                    result.found.append(Accepted(m.id, name, found[m.id]))
                    found_ids.add(m.id)
        if found_ids:
            log.info("%d messages of unknown outcome found at their provider, not sent again", len(found_ids))
        waiting = {m.id for m in doubtful if m.id in unasked and m.id not in found_ids}
        result.waiting = [_waiting(m, *unasked[m.id]) for m in doubtful if m.id in waiting]
        # Its worker died with it in flight at a provider that cannot be asked (Africa's Talking): it may
        # well have gone, and sending it again could send it twice, so it ends here, never silently.
        for m in doubtful:
            primary = self.providers.get(m.provider)
            if m.id not in found_ids and m.id not in waiting and isinstance(primary, FailsInDoubt):
                why = primary.in_doubt_reason()
                result.failed.append(Failure(m.id, UNKNOWN_OUTCOME, f"outcome unknown ({why})", True))
        settled = found_ids | waiting | {f.message_id for f in result.failed}
        result.to_send = [m for m in batch if m.id not in settled]
        return result

    async def _ask(self, name: str, provider: Reconciling, gate: Gate, questions: list[InDoubt]) -> dict[int, str]:
        """The provider's finds, none of them a provider id another herald message holds.

        A re-send has its original's number and text, so a lookup that matches on those may well pick
        the original: such a find is dropped and the message asked about again with that id `taken`,
        so the provider looks past it to the copy it may hold (a few rounds: a chain may be long)."""
        found: dict[int, str] = {}
        for _ in range(_ROUNDS):
            async with gate.slots:
                answer = await provider.lookup(questions)
            if not answer or self.store is None:
                return found | answer
            holders = await asyncio.to_thread(self._holders, name, sorted(set(answer.values())))
            clashes = {mid: sid for mid, sid in answer.items() if holders.get(sid, mid) != mid}
            found |= {mid: sid for mid, sid in answer.items() if mid not in clashes}
            # Asked again past the clash and past what this batch has just adopted: the adapter keeps
            # one listed message to one of herald's only within one lookup.
            adopted = set(found.values())
            questions = [
                replace(q, taken=q.taken | {clashes[q.message_id]} | adopted)
                for q in questions
                if q.message_id in clashes
            ]
            if not questions:
                break
        return found

    def _holders(self, provider: str, external_ids: list[str]) -> dict[str, int]:
        """Which message of herald's holds each of these provider ids (runs in a thread)."""
        assert self.store is not None
        with self.store.connect() as conn:
            return campaign_messages.external_id_holders(conn, provider, external_ids)


def _waiting(m: Claimed, until: datetime, why: str) -> Retry:
    """In doubt and not yet asked: waits, attempt given back, still in doubt."""
    return Retry(m.id, until, "IN_DOUBT", f"waiting to learn whether it was sent ({why})", counted=False, in_doubt=True)
