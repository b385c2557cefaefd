"""The external events herald kept aside, for admins: list them, retry them once the cause is fixed, or discard them.

A retry runs the stored body through an EventConsumer built as the worker builds it (the entry
point passes a fresh one), so what changed since (a tenant added to HERALD_TENANTS, schemas set in
HERALD_EVENTS_SCHEMAS, a campaign fixed) is what decides. It goes through the consumer's own path
(`handle_again`): messages get the same dedup keys as the first time, and an event acted on
meanwhile is a duplicate, so retrying twice, or beside the worker, never sends twice. What the
retry keeps aside again replaces the letter's reason; when nothing is kept aside the letter is
removed. Nothing is written before the consumer is done, so a retry that fails on the way (the
database or the core bank down) leaves the letter as it was.

Reasons pass through `redact_phones` on the way out and when they are written again: the decoder's
and fastavro's messages may quote bytes of a body, and a body may hold a client's number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from herald.clock import Clock
from herald.domain import wire
from herald.domain.redact import redact_phones
from herald.errors import NotFoundError, ValidationError
from herald.events.transport import Delivery
from herald.services import audit
from herald.services.audit import Actor
from herald.services.external_events import EventConsumer, KeptAside
from herald.store import external_events as event_store
from herald.store.external_events import Arrivals as Arrivals  # the entry points' rows
from herald.store.external_events import DeadLetter as DeadLetter

PAGE = 100
REASON_LIMIT = 500
HOURS = 24


@dataclass(frozen=True)
class LetterPage:
    total: int
    limit: int
    offset: int
    letters: list[DeadLetter]


@dataclass(frozen=True)
class Retried:
    """What retrying one letter did: it went through (the letter is gone) or it was kept aside again."""

    letter_id: int
    went_through: bool
    created: int  # messages the retry created
    duplicates: int  # events herald had acted on meanwhile
    reason: str | None  # why it was kept aside again


@dataclass(frozen=True)
class RetriedAll:
    tried: int
    went_through: int
    kept: int
    created: int


@dataclass(frozen=True)
class StreamStatus:
    """What the events page says about the stream besides its dead letters."""

    broker: str | None  # HERALD_EVENTS_URL without its password; None when unset
    arrivals: list[Arrivals]
    acted_24h: int
    per_hour: list[tuple[datetime, int]]  # the start of each of the last 24 hours (UTC), and its count
    dead: int


def _shown(letter: DeadLetter) -> DeadLetter:
    return replace(letter, reason=redact_phones(letter.reason) or "")


def _not_found(letter_id: int) -> NotFoundError:
    return NotFoundError(
        f"There is no dead letter {letter_id}: it was retried or discarded meanwhile.",
        hint="`herald events dead-letters` lists the ones left.",
    )


def page(limit: int = PAGE, offset: int = 0, *, store: Engine) -> LetterPage:
    """One page of the dead letters, newest first, with how many there are (no bodies)."""
    with store.connect() as conn:
        total = event_store.dead_count(conn)
        letters = event_store.dead(conn, limit=limit, offset=offset)
    return LetterPage(total, limit, offset, [_shown(letter) for letter in letters])


def count(*, store: Engine) -> int:
    with store.connect() as conn:
        return event_store.dead_count(conn)


def get(letter_id: int, *, store: Engine) -> DeadLetter:
    with store.connect() as conn:
        found = event_store.dead_letter(conn, letter_id)
    if found is None:
        raise _not_found(letter_id)
    return _shown(found[0])


def body(letter_id: int, *, store: Engine) -> bytes:
    """The raw message as the broker gave it (for admins: it may hold clients' phone numbers)."""
    with store.connect() as conn:
        found = event_store.dead_letter(conn, letter_id)
    if found is None:
        raise _not_found(letter_id)
    return found[1]


def retry(letter_id: int, consumer: EventConsumer, actor: Actor, *, store: Engine, clock: Clock) -> Retried:
    """Run one letter's body through `consumer` again; the letter goes when nothing is kept aside."""
    with store.connect() as conn:
        found = event_store.dead_letter(conn, letter_id)
    if found is None:
        raise _not_found(letter_id)
    letter, raw = found
    done, kept = consumer.handle_again(Delivery(raw, letter.broker_message_id, redelivered=True))
    own = next((k for k in kept if event_store.stored_ref(k.ref) == letter.ref), None)
    with store.begin() as conn:
        if own is None:
            # It went through, or its events are now kept aside under their own keys (a body that now
            # decodes but whose tenant herald does not serve): those letters hold the same body.
            event_store.unpark(conn, letter.id)
        else:
            event_store.repark(conn, letter.ref, _reason(own))
        for other in kept:
            if other is not own:
                _keep(conn, other, letter, raw)
        audit.record(
            conn,
            actor,
            "event.retry",
            clock.now(),
            target=f"dead letter {letter.id}",
            tenant=letter.tenant,
            detail={"ref": letter.ref, "created": done.created, "keptAside": len(kept)},
        )
    first = own or (kept[0] if kept else None)
    return Retried(letter.id, not kept, done.created, done.duplicates, _reason(first) if first else None)


def _reason(kept: KeptAside) -> str:
    return redact_phones(kept.reason) or ""


def _keep(conn: Connection, kept: KeptAside, letter: DeadLetter, raw: bytes) -> None:
    letter_id = event_store.park(
        conn,
        ref=kept.ref,
        at=letter.received_at,
        broker_message_id=letter.broker_message_id,
        reason=_reason(kept),
        body=raw,
        tenant=kept.tenant,
        type_=kept.type,
    )
    if letter_id is None:
        event_store.repark(conn, kept.ref, _reason(kept))


def retry_all(consumer: EventConsumer, actor: Actor, *, store: Engine, clock: Clock, batch: int = 100) -> RetriedAll:
    """Retry every letter there is now, oldest first; one retried or discarded meanwhile is passed over."""
    tried = through = kept = created = 0
    after = 0
    while True:
        with store.connect() as conn:
            ids = event_store.dead_ids(conn, after=after, limit=batch)
        if not ids:
            break
        for letter_id in ids:
            try:
                result = retry(letter_id, consumer, actor, store=store, clock=clock)
            except NotFoundError:
                continue
            tried += 1
            through += result.went_through
            kept += not result.went_through
            created += result.created
        after = ids[-1]
    return RetriedAll(tried, through, kept, created)


def discard(letter_id: int, reason: str, actor: Actor, *, store: Engine, clock: Clock) -> DeadLetter:
    """Remove a letter for good, saying why; the audit log keeps who, why and what the letter was."""
    why = reason.strip()
    if not why:
        raise ValidationError(
            "Say why you discard it (sent again from Fineract, a test event ...): the audit log keeps it.",
            field="reason",
        )
    if problem := wire.text_problem(why, REASON_LIMIT):
        raise ValidationError(f"The reason {problem}; write it again.", field="reason")
    with store.begin() as conn:
        found = event_store.dead_letter(conn, letter_id)
        if found is None or not event_store.unpark(conn, letter_id):
            raise _not_found(letter_id)
        letter = _shown(found[0])
        audit.record(
            conn,
            actor,
            "event.discard",
            clock.now(),
            target=f"dead letter {letter.id}",
            tenant=letter.tenant,
            detail={
                "reason": why,
                "ref": letter.ref,
                "type": letter.type,
                "brokerMessageId": letter.broker_message_id,
                "keptBecause": letter.reason,
            },
        )
    return letter


def status(*, store: Engine, clock: Clock, broker: str | None) -> StreamStatus:
    """The stream at a glance: the broker, per tenant and kind the last event and how many, the last 24 hours."""
    now = clock.now()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    with store.connect() as conn:
        arrivals = event_store.all_arrivals(conn)
        counts = event_store.acted_per_hour(conn, start, HOURS)
        dead = event_store.dead_count(conn)
    hours = [(start + timedelta(hours=h), n) for h, n in enumerate(counts)]
    return StreamStatus(broker, arrivals, sum(counts), hours, dead)
