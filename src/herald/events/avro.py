"""Fineract's Avro: the writer schemas found by fingerprint, and single-object decoding.

Fineract serialises the `MessageV1` envelope, and again its `data` payload, in Avro single-object
encoding: the marker `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer
schema's parsing canonical form, then the binary body. Avro binary carries no field names, so a
body can only be read with the exact schema it was written with: herald looks the fingerprint up
among the schemas of the Fineract releases it knows (`schema_files`), and refuses, with the
reason, an event written with any other. It never guesses: a schema off by one field would read
another client's id.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import schemaless_reader
from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import parse_schema, to_parsing_canonical_form

from herald.errors import UndecodableEvent
from herald.events.schema_files import RawSchemas, full_name, read_folder, shipped

MARKER = b"\xc3\x01"
HEADER = len(MARKER) + 8

BIG_DECIMAL: dict[str, Any] = {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 8}
"""What Fineract's build puts where its schema files say `bigdecimal`."""

AMOUNT_AS_READ: dict[str, Any] = {"type": "bytes"}
"""What herald reads a `bigdecimal` as: its bytes, left unconverted. herald reads only ids from a
payload, and fastavro's conversion of a decimal takes time quadratic in its length (a hostile
1 MiB amount held the consumer for two minutes). The fingerprint is the same: the parsing
canonical form has no logical types."""

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})


def expand(name: str, raw: RawSchemas, big_decimal: Mapping[str, Any] = BIG_DECIMAL) -> dict[str, Any]:
    """The schema `name` as one JSON document: each named type it uses defined at its first use.

    That is how Java's Avro holds a generated class's schema, so its canonical form, and therefore
    the fingerprint in Fineract's header, is the same. `big_decimal` is what `bigdecimal` becomes.
    """
    defined: set[str] = set()

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            if node == "bigdecimal":
                return dict(big_decimal)
            if node in _PRIMITIVES:
                return node
            full = node if "." in node or not namespace else f"{namespace}.{node}"
            if full in defined:
                return full
            if full not in raw:
                raise UndecodableEvent(f"Schema {name} uses the type {node}, which no schema file defines.")
            return walk(raw[full], namespace)
        if isinstance(node, list):
            return [walk(member, namespace) for member in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        if kind in _NAMED:
            full = full_name(node, namespace)
            defined.add(full)
            own = full.rpartition(".")[0] or None
            out = dict(node)
            if kind in ("record", "error"):
                out["fields"] = [{**f, "type": walk(f["type"], own)} for f in node.get("fields", [])]
            return out
        if kind == "array":
            return {**node, "items": walk(node["items"], namespace)}
        if kind == "map":
            return {**node, "values": walk(node["values"], namespace)}
        if kind == "bigdecimal" or isinstance(kind, (dict, list)):
            expanded = walk(kind, namespace)
            return expanded if kind == "bigdecimal" else {**node, "type": expanded}
        return node

    expanded: dict[str, Any] = walk(raw[name], None)
    return expanded


@dataclass(frozen=True)
class WriterSchema:
    """One schema an event may have been written with."""

    name: str  # its full name, e.g. org.apache.fineract.avro.loan.v1.LoanTransactionDataV1
    release: str  # the Fineract release whose files it comes from ("1.10.1")
    fingerprint: bytes  # as in the single-object header: CRC-64-AVRO, little-endian
    parsed: Any  # fastavro's parsed schema


def fingerprint_of(expanded: Mapping[str, Any]) -> bytes:
    """The 8 bytes a single-object header carries for this schema."""
    canonical = to_parsing_canonical_form(parse_schema(dict(expanded), _write_hint=False))
    return bytes.fromhex(_fingerprint(canonical, "CRC-64-AVRO"))


class SchemaBook:
    """Every writer schema herald can read, by fingerprint; the same schema in two releases is one entry.

    The fingerprints are computed when a schema is first asked for, by the name the envelope announces
    (`expected`): all 80-odd took a consumer 2 to 4 s at every start, most of it fastavro's CRC-64 in
    pure Python, while a stream of repayments needs three. A body whose fingerprint is not among its
    announced schema's has every schema indexed, once, to say what it was written with.
    """

    def __init__(self, releases: Mapping[str, RawSchemas]) -> None:
        self._raw = dict(releases)
        self._by_print: dict[bytes, WriterSchema] = {}
        self._names: dict[str, list[str]] = {}  # schema name -> the releases that have it, in order
        for release, raw in releases.items():
            for name in raw:
                self._names.setdefault(name, []).append(release)
        self._indexed: set[str] = set()
        self._lock = threading.Lock()  # the web server's threads may ask at once
        self.releases = tuple(releases)

    def _index(self, name: str) -> None:
        if name in self._indexed:
            return
        with self._lock:
            if name in self._indexed:
                return
            for release in self._names.get(name, ()):
                raw = self._raw[release]
                print_ = fingerprint_of(expand(name, raw))
                if print_ not in self._by_print:  # the first release that has it, as the names are ordered
                    # with fastavro's hint: read with, it is not parsed again
                    parsed = parse_schema(expand(name, raw, AMOUNT_AS_READ))
                    self._by_print[print_] = WriterSchema(name, release, print_, parsed)
            self._indexed.add(name)

    def _index_all(self) -> None:
        for name in self._names:
            self._index(name)

    def __len__(self) -> int:
        self._index_all()
        return len(self._by_print)

    def schemas(self) -> Iterable[WriterSchema]:
        self._index_all()
        return self._by_print.values()

    def decode(self, blob: bytes, what: str, expected: str | None = None) -> tuple[WriterSchema, dict[str, Any]]:
        """Read one single-object-encoded value; `what` names it in errors ("the envelope", "the payload").

        `expected` is the full schema name the envelope announced (`dataschema`): a body written
        with another schema is refused rather than read as if it were that one.
        """
        if len(blob) < HEADER or blob[:2] != MARKER:
            start = blob[:2].hex(" ") or "nothing"
            raise UndecodableEvent(
                f"{what.capitalize()} is not Avro single-object encoding: it starts with {start}, not c3 01"
                f" ({len(blob)} bytes)."
            )
        print_ = blob[2:HEADER]
        if expected is not None:
            self._index(expected)
        schema = self._by_print.get(print_)
        if schema is None:
            self._index_all()  # written with another schema (say which) or with none herald has
            schema = self._by_print.get(print_)
        if schema is None:
            named = f" ({expected})" if expected else ""
            raise UndecodableEvent(
                f"{what.capitalize()}{named} was written with a schema herald does not have (fingerprint"
                f" {print_.hex()}); herald has Fineract {', '.join(self.releases)}. Set HERALD_EVENTS_SCHEMAS to"
                " your Fineract's fineract-avro-schemas/src/main/avro folder."
            )
        if expected is not None and schema.name != expected:
            raise UndecodableEvent(
                f"{what.capitalize()} is announced as {expected} but was written with {schema.name}."
            )
        body = io.BytesIO(blob[HEADER:])
        try:
            value = schemaless_reader(body, schema.parsed, None)
        except Exception as e:  # fastavro raises whatever its reader meets on truncated or garbled bytes
            raise UndecodableEvent(
                f"{what.capitalize()} ({schema.name}) does not decode: {type(e).__name__} {e}."
            ) from None
        left = len(blob) - HEADER - body.tell()
        if left:
            raise UndecodableEvent(f"{what.capitalize()} ({schema.name}) has {left} bytes after its last field.")
        if not isinstance(value, dict):
            raise UndecodableEvent(f"{what.capitalize()} ({schema.name}) is not a record.")
        return schema, value


@cache
def shipped_book() -> SchemaBook:
    """The schemas of the Fineract releases herald ships (read once per process)."""
    return SchemaBook(shipped())


def schema_book(extra: Path | None = None) -> SchemaBook:
    """herald's schemas, plus those of the folder or jar HERALD_EVENTS_SCHEMAS names."""
    if extra is None:
        return shipped_book()
    return SchemaBook({**shipped(), f"from {extra}": read_folder(extra)})
