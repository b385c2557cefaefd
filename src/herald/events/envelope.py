"""Opening Fineract's `MessageV1` envelope: the events it holds, their ids, and the payloads herald reads.

One broker message holds one envelope; a `BulkBusinessEvent` envelope (close of business,
replayed transactions) holds several events, each its own item with its own id. Payloads are
decoded only for the types herald listens to (`kinds.KINDS`): any other event is acknowledged and
dropped without being read, so an unknown schema of an event nobody wants never gets in the way.

The envelope's texts are checked before anything is stored: herald's columns are bounded
(`external_events.event_key` holds 120 characters, tenant and type 100) and PostgreSQL refuses a
NUL character in text, so an envelope with a key, tenant or type too long or holding a control
character is refused here, with the reason, rather than failing the insert and the whole batch
with it. Fineract's are UUIDs, tenant identifiers and class names: far inside the limits.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from herald.errors import UndecodableEvent
from herald.events.avro import SchemaBook
from herald.events.kinds import BULK_TYPE

MESSAGE_SCHEMA = "org.apache.fineract.avro.MessageV1"
BULK_SCHEMA = "org.apache.fineract.avro.BulkMessagePayloadV1"

KEY_LIMIT = 100
"""The longest idempotencyKey herald takes: its column holds 120, which leaves room for "#<item id>"."""
TEXT_LIMIT = 100
"""The longest tenantId, type, category or source (tenant and type are stored in columns of 100)."""
SCHEMA_LIMIT = 200
"""The longest dataschema (an Avro full name, quoted in reasons)."""
MOMENT_LIMIT = 40
"""The longest createdAt or businessDate worth parsing (nine fraction digits and an offset fit in 35)."""
BULK_LIMIT = 10_000
"""The most events one bulk envelope may hold: each is looked up and may be kept aside on its own."""

# C0 controls and DEL: never in a key, tenant or class name; NUL is refused by PostgreSQL's text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ExternalEvent:
    """One business event as Fineract raised it."""

    tenant: str
    type: str
    category: str
    key: str  # what makes it unique: the envelope's idempotencyKey, plus "#<item id>" in a bulk
    event_id: int  # m_external_event.id (a bulk item's own id)
    created_at: datetime | None  # UTC; None when Fineract's text does not parse
    business_date: date | None
    dataschema: str
    source: str  # the Fineract instance (a UUID made at each start)
    payload: dict[str, Any] | None  # None for types herald does not listen to (never decoded)
    problem: str | None = None  # why the payload could not be read (the event goes to the dead letters)


@dataclass(frozen=True)
class Envelope:
    """What one broker message held."""

    tenant: str
    type: str
    key: str
    events: tuple[ExternalEvent, ...]


def _text(record: dict[str, Any], name: str, limit: int = TEXT_LIMIT, *, where: str = "The envelope's") -> str:
    """The text field `name`; UndecodableEvent when it is not text, longer than `limit` or holds a control character."""
    value = record.get(name)
    if not isinstance(value, str):
        raise UndecodableEvent(f"{where} {name} is {type(value).__name__}, not text.")
    if len(value) > limit:
        raise UndecodableEvent(f"{where} {name} is {len(value):,} characters long; herald takes at most {limit}.")
    if found := _CONTROL.search(value):
        raise UndecodableEvent(
            f"{where} {name} holds the control character U+{ord(found.group()):04X} at {found.start()}:"
            " no Fineract writes one there."
        )
    return value


def created_at(text: str) -> datetime | None:
    """Fineract's `createdAt`: a UTC local date-time with up to 9 fraction digits; None when it is no such time.

    An offset that takes the time past year 1 or 9999 in UTC is no time either (OverflowError).
    """
    head, dot, fraction = text.partition(".")
    try:
        moment = datetime.fromisoformat(head + (dot + fraction[:6] if dot else ""))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def business_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def open_envelope(body: bytes, book: SchemaBook, wanted: Container[str]) -> Envelope:
    """The events of one broker message; UndecodableEvent when the envelope itself cannot be read.

    A payload that cannot be read does not spoil the others of a bulk: its event carries the
    `problem` instead of a payload.
    """
    _, message = book.decode(body, "the envelope", MESSAGE_SCHEMA)
    tenant, kind = _text(message, "tenantId"), _text(message, "type")
    key = _text(message, "idempotencyKey", KEY_LIMIT)
    if not key:
        raise UndecodableEvent("The envelope's idempotencyKey is empty: herald could not tell it from another event.")
    stamp = created_at(_text(message, "createdAt", MOMENT_LIMIT))
    day = business_date(_text(message, "businessDate", MOMENT_LIMIT))
    source, schema = _text(message, "source"), _text(message, "dataschema", SCHEMA_LIMIT)
    data = message.get("data")
    if not isinstance(data, bytes):
        raise UndecodableEvent("The envelope's data is not bytes.")

    def event(kind: str, category: str, event_id: int, schema: str, data: bytes, key: str) -> ExternalEvent:
        payload: dict[str, Any] | None = None
        problem: str | None = None
        if kind in wanted:
            try:
                payload = book.decode(data, f"the {kind} payload", schema)[1]
            except UndecodableEvent as e:
                problem = str(e)
        return ExternalEvent(tenant, kind, category, key, event_id, stamp, day, schema, source, payload, problem)

    if kind != BULK_TYPE:
        single = event(kind, _text(message, "category"), int(message["id"]), schema, data, key)
        return Envelope(tenant, kind, key, (single,))
    _, bulk = book.decode(data, "the bulk payload", BULK_SCHEMA)
    items = bulk.get("datas") or []
    if len(items) > BULK_LIMIT:
        raise UndecodableEvent(
            f"The bulk payload holds {len(items):,} events; herald takes at most {BULK_LIMIT:,} in one message."
        )

    def item_event(item: dict[str, Any]) -> ExternalEvent:
        kind, event_id, item_key = item["type"], int(item["id"]), f"{key}#{item['id']}"
        if kind not in wanted:  # dropped unread: what its other texts say does not matter
            return event(kind, item["category"], event_id, item["dataschema"], item["data"], item_key)
        where = f"Bulk item {event_id}'s"
        try:
            category = _text(item, "category", where=where)
            schema = _text(item, "dataschema", SCHEMA_LIMIT, where=where)
        except UndecodableEvent as e:  # this item only: the others of the bulk go on
            return ExternalEvent(tenant, kind, "", item_key, event_id, stamp, day, "", source, None, str(e))
        return event(kind, category, event_id, schema, item["data"], item_key)

    return Envelope(tenant, kind, key, tuple(item_event(item) for item in items))
