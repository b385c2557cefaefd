"""From Fineract's external events to stored messages: decode, de-duplicate, act, or keep aside with the reason.

A transport hands over a batch of broker messages and acknowledges them when `handle` returns, so
everything a message produced is stored by then: its messages (whose dedup keys are the same as a
hook's of the same fact, so hooks and events together still send once), the event's key (delivery
is at least once: a key seen before is not acted on again), or a dead letter saying why herald
could not read or act on it. A message that cannot be read never blocks the ones behind it; a
failure that is not the message's fault (herald's database or the core bank down) raises, and the
broker delivers the batch again later.

Whatever a message holds, it costs little: one longer than HERALD_EVENTS_MAX_BYTES is kept aside
unread; the events of one message that cannot be acted on share one dead letter (each letter keeps
the whole body, so a bulk of thousands of bad items would otherwise store it thousands of times);
and a `createdAt` no Fineract can have written (before 2000, or more than a day ahead of herald's
clock) counts as not known, so it neither moves the business date nor overflows a time zone.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from herald.clock import Clock
from herald.corebank.engines import CoreBanks
from herald.domain.calendar import BusinessCalendar
from herald.domain.redact import redact_phones
from herald.domain.segments import Alphabet
from herald.errors import UndecodableEvent, ValidationError
from herald.events.avro import SchemaBook
from herald.events.envelope import Envelope, ExternalEvent, open_envelope
from herald.events.kinds import BULK_TYPE, KINDS
from herald.events.transport import Delivery
from herald.services.hooks import FineractEvent
from herald.services.office_profiles import OfficeProfiles
from herald.services.triggered import materialize_events
from herald.store import external_events as event_store

log = logging.getLogger(__name__)

_MAX_ID = 2**63 - 1
MAX_BYTES = 1024 * 1024
"""HERALD_EVENTS_MAX_BYTES' default: Fineract's events are a few KB, a loan with its whole schedule some 100 KB."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No Fineract raised an event before this: an earlier `createdAt` is not a time herald believes."""
AHEAD = timedelta(days=1)
"""How far ahead of herald's clock a `createdAt` may be (clocks drift) and still be believed."""


@dataclass
class Handled:
    """What one batch did."""

    events: int = 0
    created: int = 0
    duplicates: int = 0  # events whose key herald had acted on already
    dropped: int = 0  # events of types no triggered rule listens to
    parked: int = 0  # kept aside in the dead letters
    pending_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class KeptAside:
    """What `handle_again` would have kept in the dead letters, and why."""

    ref: str
    reason: str
    tenant: str | None
    type: str | None


def fineract_event(event: ExternalEvent) -> FineractEvent:
    """The hook-shaped event of an external one; UndecodableEvent when its payload lacks an id it needs."""
    kind = KINDS[event.type]
    ids: dict[str, int] = {}
    for name, value in kind.ids(event.payload or {}).items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_ID:
            raise UndecodableEvent(f"The {event.type} payload's {name} is not an id: {value!r:.40}.")
        ids[name] = value
    missing = [name for name in kind.required if name not in ids]
    if missing:
        raise UndecodableEvent(
            f"The {event.type} payload has no {' or '.join(missing)}: there is nothing to message about."
        )
    return FineractEvent(event.tenant, kind.entity, kind.action, ids, event.created_at)


class EventConsumer:
    """Acts on batches of broker messages for one installation (every tenant of it)."""

    def __init__(
        self,
        *,
        store: Engine,
        corebanks: CoreBanks,
        calendar: BusinessCalendar,
        offices: OfficeProfiles,
        clock: Clock,
        date_format: str,
        default_region: str,
        book: SchemaBook,
        alphabets: Mapping[str, Alphabet] | None = None,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.store, self.corebanks, self.clock, self.book = store, corebanks, clock, book
        self.max_bytes = max_bytes
        self._materialize: dict[str, Any] = {
            "store": store,
            "corebanks": corebanks,
            "calendar": calendar,
            "offices": offices,
            "clock": clock,
            "date_format": date_format,
            "default_region": default_region,
            "alphabets": alphabets,
            "hook": False,
        }
        self._kept: list[KeptAside] | None = None  # set only while handle_again runs
        self._parking: list[tuple[Delivery, ExternalEvent | None, str]] = []  # this batch's, kept aside at its end

    def handle_again(self, delivery: Delivery) -> tuple[Handled, list[KeptAside]]:
        """`handle` for one message that was kept aside before, returning what it would keep aside again.

        Nothing is written to the dead letters here: the retry that calls it updates the letter the
        message came from instead. One consumer serves one retry at a time (a page or command builds its own).
        """
        kept: list[KeptAside] = []
        self._kept = kept
        try:
            return self.handle([delivery]), kept
        finally:
            self._kept = None

    def handle(self, deliveries: Sequence[Delivery]) -> Handled:
        """Act on every message of the batch; return once all it produced is stored."""
        self._parking = []
        try:
            return self._handle(deliveries)
        finally:
            self._parking = []

    def _handle(self, deliveries: Sequence[Delivery]) -> Handled:
        done = Handled()
        opened: list[tuple[Delivery, Envelope]] = []
        now = self.clock.now()
        for delivery in deliveries:
            if len(delivery.body) > self.max_bytes:
                self._park(done, delivery, None, _too_big(len(delivery.body), self.max_bytes))
                continue
            try:
                envelope = open_envelope(delivery.body, self.book, KINDS)
            except UndecodableEvent as e:
                self._park(done, delivery, None, str(e))
                continue
            if envelope.tenant not in self.corebanks:
                reason = f"Tenant {envelope.tenant!r} is not one of herald's; add it to HERALD_TENANTS."
                self._park(done, delivery, envelope.events[0] if envelope.events else None, reason)
                continue
            opened.append((delivery, envelope))
        wanted = [e for _, env in opened for e in env.events if e.type in KINDS]
        with self.store.connect() as conn:
            already = event_store.seen(conn, {e.key for e in wanted})
        arrivals: Counter[tuple[str, str, str]] = Counter()
        acting: list[tuple[Delivery, ExternalEvent, FineractEvent]] = []
        for delivery, envelope in opened:
            for event in envelope.events:
                done.events += 1
                if event.type not in KINDS:
                    done.dropped += 1
                    continue
                kind = KINDS[event.type]
                arrivals[(event.tenant, kind.entity, kind.action)] += 1
                if event.key in already:
                    done.duplicates += 1
                    continue
                already.add(event.key)  # the same event twice in one batch
                if event.problem is not None:
                    self._park(done, delivery, event, event.problem)
                    continue
                event = _believed(event, now)
                try:
                    acting.append((delivery, event, fineract_event(event)))
                except UndecodableEvent as e:
                    self._park(done, delivery, event, str(e))
        self._act(done, acting)
        self._keep_aside(done)
        if arrivals:
            with self.store.begin() as conn:
                for (tenant, entity, action), count in sorted(arrivals.items()):
                    event_store.arrived(conn, tenant=tenant, entity=entity, action=action, at=now, count=count)
        return done

    def _act(self, done: Handled, acting: Sequence[tuple[Delivery, ExternalEvent, FineractEvent]]) -> None:
        """The events' messages, in one batch; then the events remembered as acted on."""
        if not acting:
            return
        try:
            made = materialize_events([hook_shaped for _, _, hook_shaped in acting], **self._materialize)
        except ValidationError:  # a campaign the rule cannot run: one event at a time, so only those fail
            if len(acting) > 1:
                for one in acting:
                    self._act(done, [one])
                return
            delivery, event, _ = acting[0]
            try:
                materialize_events([acting[0][2]], **self._materialize)
            except ValidationError as e:
                self._park(done, delivery, event, str(e))
            return
        acted = []
        for (delivery, event, _), outcome in zip(acting, made.outcomes, strict=True):
            if outcome.refused is not None:  # the event's own fault (an id no rule can use): the others go on
                self._park(done, delivery, event, outcome.refused)
                continue
            done.created += outcome.created
            acted.append(
                event_store.ActedOn(
                    event.key, event.tenant, event.type, event.event_id, event.created_at, outcome.created
                )
            )
        done.pending_ids.extend(made.pending_ids)
        with self.store.begin() as conn:
            event_store.remember(conn, acted, self.clock.now())

    def _park(self, done: Handled, delivery: Delivery, event: ExternalEvent | None, reason: str) -> None:
        """Note a message (event None) or one of its events to keep aside; `_keep_aside` stores them."""
        self._parking.append((delivery, event, reason))

    def _keep_aside(self, done: Handled) -> None:
        """Store the batch's dead letters: one per message, whose reason names each event when several are bad."""
        per_message: dict[int, list[tuple[Delivery, ExternalEvent | None, str]]] = {}
        for one in self._parking:
            per_message.setdefault(id(one[0]), []).append(one)
        self._parking = []
        for noted in per_message.values():
            delivery, event, reason = noted[0]
            if len(noted) > 1 and event is not None:
                # several events of one bulk: the letter is the envelope's (its key without "#<item id>")
                reason = f"{len(noted):,} of its events were kept aside: " + "; ".join(
                    f"item {e.event_id if e else '?'}: {why}" for _, e, why in noted
                )
                event = replace(event, key=event.key.rpartition("#")[0] or event.key, type=BULK_TYPE)
            self._keep(delivery, event, reason)
            done.parked += len(noted)

    def _keep(self, delivery: Delivery, event: ExternalEvent | None, reason: str) -> None:
        ref = event.key if event is not None else f"broker:{delivery.message_id}"
        if self._kept is not None:
            tenant, type_ = (event.tenant, event.type) if event is not None else (None, None)
            self._kept.append(KeptAside(ref, reason, tenant, type_))
            return
        with self.store.begin() as conn:
            letter = event_store.park(
                conn,
                ref=ref,
                at=self.clock.now(),
                broker_message_id=delivery.message_id,
                reason=reason,
                body=delivery.body,
                tenant=event.tenant if event is not None else None,
                type_=event.type if event is not None else None,
            )
        if letter is not None:  # the key and the reason may quote a client's number (a payload's, a hostile
            # envelope's): masked, which may hide some of an id too, so the letter's number names it
            masked = redact_phones(ref), redact_phones(reason)
            log.warning("external event kept aside as dead letter %s (%s): %s", letter, *masked)


def _too_big(size: int, limit: int) -> str:
    return (
        f"The message is {size:,} bytes, more than HERALD_EVENTS_MAX_BYTES ({limit:,}): herald did not read it."
        " Fineract's events are a few KB; if yours really are this big, raise the setting and retry it."
    )


def _believed(event: ExternalEvent, now: datetime) -> ExternalEvent:
    """The event with a `createdAt` no Fineract can have written counted as not known (see the module's docstring)."""
    at = event.created_at
    if at is None or EARLIEST <= at <= now + AHEAD:
        return event
    return replace(event, created_at=None)
