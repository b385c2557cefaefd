"""Hostile broker messages, written as Fineract would write them but with what an outsider may put in any field.

`envelope` writes a MessageV1 with any text in any field (tests.fineract_events writes Fineract's
own); `varint` is Avro's zig-zag long, for bodies that declare lengths they do not have.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from herald.events.avro import MARKER
from herald.events.kinds import BULK_TYPE, KINDS
from herald.events.transport import Delivery
from tests.fineract_events import EventWriter, category_of

WRITER = EventWriter()
MESSAGE = "org.apache.fineract.avro.MessageV1"
BULK = "org.apache.fineract.avro.BulkMessagePayloadV1"
ACTIVATE = "ClientActivateBusinessEvent"
_broker_ids = itertools.count(1)


def delivery(body: bytes) -> Delivery:
    return Delivery(body, f"ID:broker-{next(_broker_ids)}")


def envelope(type_: str = ACTIVATE, payload: dict[str, Any] | None = None, **fields: Any) -> bytes:
    """A MessageV1 whose fields are Fineract's but for those given (any text, any data)."""
    data = fields.pop("data", None)
    if data is None:  # a type herald does not know gets a payload nobody reads
        data = WRITER.single_object(KINDS[type_].schema, payload or {}) if type_ in KINDS else MARKER + bytes(9)
    values = {
        "id": 1,
        "source": "7b6e4c52-0f6b-4c3e-9a0e-3f1d2c4b5a69",
        "type": type_,
        "category": category_of(type_) if type_ in KINDS else "Loan",
        "createdAt": "2026-11-20T03:59:00.123456",
        "businessDate": "2026-11-20",
        "tenantId": "default",
        "idempotencyKey": str(uuid.uuid4()),
        "dataschema": KINDS[type_].schema if type_ in KINDS else "org.example.Unknown",
        "data": data,
        **fields,
    }
    return WRITER.single_object(MESSAGE, values)


def activated(client_id: int, **fields: Any) -> bytes:
    return envelope(ACTIVATE, {"id": client_id}, **fields)


def bulk(items: list[dict[str, Any]], **fields: Any) -> bytes:
    """A BulkBusinessEvent of raw items (id, type, category, dataschema, data)."""
    data = WRITER.single_object(BULK, {"datas": items})
    return envelope(BULK_TYPE, data=data, category="Bulk", dataschema=BULK, **fields)


def item(n: int, client_id: int | None, **fields: Any) -> dict[str, Any]:
    """One Client Activated item of a bulk; `client_id` None: a payload that does not decode."""
    schema = KINDS[ACTIVATE].schema
    data = WRITER.single_object(schema, {"id": client_id}) if client_id is not None else b"\xc3\x01"
    return {"id": n, "type": ACTIVATE, "category": "Client", "dataschema": schema, "data": data, **fields}


def varint(n: int) -> bytes:
    """Avro's zig-zag variable-length long."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        low, z = z & 0x7F, z >> 7
        out.append(low | (0x80 if z else 0))
        if not z:
            return bytes(out)
