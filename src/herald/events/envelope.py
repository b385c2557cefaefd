"""Opening Fineract's `MessageV1` envelope: the events it holds, their ids, and the payloads herald reads.

One broker message holds one envelope; a `BulkBusinessEvent` envelope (close of business,
replayed transactions) holds several events, each its own item with its own id. Payloads are
decoded only for the types herald listens to (`kinds.KINDS`): any other event is acknowledged and
dropped without being read, so an unknown schema of an event nobody wants never gets in the way.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from herald.errors import UndecodableEvent
from herald.events.avro import SchemaBook
from herald.events.kinds import BULK_TYPE

MESSAGE_SCHEMA = "org.apache.fineract.avro.MessageV1"
BULK_SCHEMA = "org.apache.fineract.avro.BulkMessagePayloadV1"


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


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        raise UndecodableEvent(f"The envelope's {name} is {type(value).__name__}, not text.")
    return value


def created_at(text: str) -> datetime | None:
    """Fineract's `createdAt`: a UTC local date-time with up to 9 fraction digits."""
    head, dot, fraction = text.partition(".")
    try:
        moment = datetime.fromisoformat(head + (dot + fraction[:6] if dot else ""))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
    tenant, kind, key = _text(message, "tenantId"), _text(message, "type"), _text(message, "idempotencyKey")
    stamp, day = created_at(_text(message, "createdAt")), business_date(_text(message, "businessDate"))
    source, schema = _text(message, "source"), _text(message, "dataschema")
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
    events = tuple(
        event(item["type"], item["category"], int(item["id"]), item["dataschema"], item["data"], f"{key}#{item['id']}")
        for item in items
    )
    return Envelope(tenant, kind, key, events)
