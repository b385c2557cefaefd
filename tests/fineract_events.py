"""Fineract's external events as Fineract writes them, for tests: MessageV1 envelopes, payloads, bulk events.

Encoded with Apache's own Avro library for Python (the `avro` package), not fastavro, which herald
reads them with; the schemas are Fineract's files as herald ships them, with the big-decimal type
expanded as Fineract's build does. tests/events/test_java_avro.py checks that what this writes is
byte for byte what Java's Avro (Fineract's encoder) writes for the same event.
"""

from __future__ import annotations

import io
import itertools
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import avro.io
import avro.schema

from herald.events.avro import MARKER, expand, fingerprint_of
from herald.events.kinds import BULK_TYPE, KINDS
from herald.events.schema_files import shipped

RELEASE = "1.10.1"
_ids = itertools.count(1)


def _decimals(schema: avro.schema.Schema, value: Any) -> Any:
    """Money given as int/str/float becomes Decimal where the schema has a decimal (as Java's BigDecimal)."""
    if value is None:
        return None
    if isinstance(schema, avro.schema.UnionSchema):
        for branch in schema.schemas:
            if branch.type != "null":
                return _decimals(branch, value)
    if isinstance(schema, avro.schema.RecordSchema) and isinstance(value, dict):
        fields = {f.name: f for f in schema.fields}
        unknown = set(value) - set(fields)
        if unknown:
            raise KeyError(f"{schema.fullname} has no field {sorted(unknown)}")
        return {name: _decimals(f.type, value.get(name)) for name, f in fields.items()}
    if isinstance(schema, avro.schema.ArraySchema):
        return [_decimals(schema.items, v) for v in value]
    if schema.type == "bytes" and schema.get_prop("logicalType") == "decimal":
        return Decimal(str(value)).quantize(Decimal("0.00000001"))
    return value


class EventWriter:
    """Writes events with the schemas of one Fineract release."""

    def __init__(self, release: str = RELEASE) -> None:
        self.raw = shipped()[release]
        self._schemas: dict[str, tuple[avro.schema.Schema, bytes]] = {}

    def _schema(self, name: str) -> tuple[avro.schema.Schema, bytes]:
        if name not in self._schemas:
            expanded = expand(name, self.raw)
            header = MARKER + fingerprint_of(expanded)
            self._schemas[name] = (avro.schema.parse(json.dumps(expanded)), header)
        return self._schemas[name]

    def single_object(self, schema_name: str, fields: dict[str, Any]) -> bytes:
        schema, header = self._schema(schema_name)
        out = io.BytesIO()
        avro.io.DatumWriter(schema).write(_decimals(schema, fields), avro.io.BinaryEncoder(out))
        return header + out.getvalue()

    def envelope(
        self,
        type_: str,
        category: str,
        dataschema: str,
        data: bytes,
        *,
        tenant: str = "default",
        key: str | None = None,
        event_id: int | None = None,
        created_at: datetime | None = None,
        business_date: date | None = None,
        source: str = "7b6e4c52-0f6b-4c3e-9a0e-3f1d2c4b5a69",
    ) -> bytes:
        moment = (created_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        fields = {
            "id": event_id if event_id is not None else next(_ids),
            "source": source,
            "type": type_,
            "category": category,
            "createdAt": moment.isoformat(timespec="microseconds"),
            "businessDate": (business_date or moment.date()).isoformat(),
            "tenantId": tenant,
            "idempotencyKey": key or str(uuid.uuid4()),
            "dataschema": dataschema,
            "data": data,
        }
        return self.single_object("org.apache.fineract.avro.MessageV1", fields)

    def event(self, type_: str, payload: dict[str, Any], **envelope: Any) -> bytes:
        """One event of a type herald knows (kinds.KINDS), its payload given as the schema's fields."""
        kind = KINDS[type_]
        data = self.single_object(kind.schema, payload)
        return self.envelope(type_, category_of(type_), kind.schema, data, **envelope)

    def bulk(self, events: list[tuple[str, dict[str, Any]]], **envelope: Any) -> bytes:
        """A BulkBusinessEvent holding the events (close of business), items numbered from 1."""
        items = [
            {
                "id": n,
                "type": type_,
                "category": category_of(type_),
                "dataschema": KINDS[type_].schema,
                "data": self.single_object(KINDS[type_].schema, payload),
            }
            for n, (type_, payload) in enumerate(events, start=1)
        ]
        data = self.single_object("org.apache.fineract.avro.BulkMessagePayloadV1", {"datas": items})
        return self.envelope(BULK_TYPE, "Bulk", "org.apache.fineract.avro.BulkMessagePayloadV1", data, **envelope)


def category_of(type_: str) -> str:
    entity = KINDS[type_].entity
    return {"LOAN": "Loan", "CLIENT": "Client", "SAVINGSACCOUNT": "Savings"}[entity]


def repayment(transaction_id: int, loan_id: int, amount: str = "1500.00") -> dict[str, Any]:
    return {"id": transaction_id, "loanId": loan_id, "amount": amount, "date": "2026-12-01"}


def instalment_due(loan_id: int, number: int, due: str = "2026-12-04", total: str = "2500.00") -> dict[str, Any]:
    return {
        "loanId": loan_id,
        "loanAccountNo": f"{loan_id:09d}",
        "installment": {"installmentNumber": number, "installmentDueDate": due, "totalAmountDue": total},
    }
