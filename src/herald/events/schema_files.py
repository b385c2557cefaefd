"""Reading Fineract's Avro schema files (`.avsc`) from a folder, a jar, or herald's own bundles.

Fineract keeps its event schemas as one `.avsc` per named record in `fineract-avro-schemas/src/main/
avro` (folders `loan/v1`, `client/v1` ...), referring to each other by full name; the big-decimal
fields use the type name `bigdecimal`, which Fineract's build replaces before compiling and which
`herald.events.avro` replaces the same way. herald ships the schemas of the Fineract releases in
`herald/events/schemas/*.json`, made with

    python -m herald.events.schema_files <fineract checkout>/fineract-avro-schemas/src/main/avro 1.10.1

(docs removed: they are not part of a schema's fingerprint). `HERALD_EVENTS_SCHEMAS` names a
folder or jar for a release herald does not ship.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from herald.errors import ConfigurationError

RawSchemas = dict[str, dict[str, Any]]
"""Full name -> the record's JSON as written in its file (without docs)."""


def full_name(schema: dict[str, Any], namespace: str | None = None) -> str:
    name = str(schema.get("name", ""))
    if "." in name:
        return name
    ns = schema.get("namespace", namespace)
    return f"{ns}.{name}" if ns else name


def _without_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_docs(v) for k, v in node.items() if k != "doc"}
    if isinstance(node, list):
        return [_without_docs(v) for v in node]
    return node


def _texts(source: Path) -> Iterator[tuple[str, str]]:
    if source.is_dir():
        for path in sorted(source.rglob("*.avsc")):
            yield str(path), path.read_text("utf-8")
        return
    try:
        with zipfile.ZipFile(source) as jar:
            for name in sorted(jar.namelist()):
                if name.endswith(".avsc"):
                    yield f"{source}!{name}", jar.read(name).decode("utf-8")
    except (zipfile.BadZipFile, OSError) as e:
        raise ConfigurationError(
            f"HERALD_EVENTS_SCHEMAS={source} is neither a folder of .avsc files nor a jar: {e}.",
            hint="Point it at fineract-avro-schemas/src/main/avro of your Fineract release.",
        ) from None


def read_folder(source: Path) -> RawSchemas:
    """Every schema in the folder or jar, by full name; ConfigurationError for what is not a schema."""
    found: RawSchemas = {}
    for where, text in _texts(source):
        try:
            schema = json.loads(text)
        except ValueError as e:
            raise ConfigurationError(f"{where} is not JSON: {e}.") from None
        if not isinstance(schema, dict) or not schema.get("name"):
            raise ConfigurationError(f'{where} is not an Avro named schema (no "name").')
        found[full_name(schema)] = _without_docs(schema)
    if not found:
        raise ConfigurationError(
            f"No .avsc file in {source}.", hint="Point it at fineract-avro-schemas/src/main/avro of your release."
        )
    return found


def shipped() -> dict[str, RawSchemas]:
    """The schema sets herald ships, by Fineract release ("1.10.1")."""
    releases: dict[str, RawSchemas] = {}
    for entry in resources.files("herald.events").joinpath("schemas").iterdir():
        if entry.name.endswith(".json"):
            bundle = json.loads(entry.read_text("utf-8"))
            releases[bundle["release"]] = bundle["schemas"]
    return releases


def main(argv: list[str]) -> None:  # pragma: no cover - the maintainer's tool for a new release's bundle
    folder, release = Path(argv[0]), argv[1]
    bundle = {"release": release, "schemas": read_folder(folder)}
    print(json.dumps(bundle, sort_keys=True, separators=(",", ":")))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
