"""The HTTP edge keeps its layers: api and web never import each other, and the services they call stand alone.

Read from the source (every import, function-level ones too), so an import added inside a function
to dodge a cycle is caught as well. import-linter will hold the whole tree to this; these are the
rules for the edge's own modules until then.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HERALD = Path(__file__).resolve().parents[2] / "src" / "herald"

EDGE_SERVICES = (
    "services/stats.py",
    "services/search.py",
    "services/audit.py",
    "services/optouts.py",
    "services/inbound.py",
    "services/auth",
)
"""Services that take narrow dependencies (store, clock, plain values), never the composition root."""

NO_TABLES = (
    "api/v1/stats.py",
    "api/v1/messages.py",
    "api/v1/audit.py",
    "api/v1/optouts.py",
    "api/v1/users.py",
    "api/v1/providers.py",
    "api/webhooks.py",
    "http",
    "web/pages.py",
    "web/login.py",
    "web/users_page.py",
    "web/audit_pages.py",
    "web/chart.py",
    "web/campaign_pages.py",
    *EDGE_SERVICES,
)
"""Modules that reach herald's tables only through named store functions."""


def imported(source: str) -> set[str]:
    """Every module `source` imports, at any depth (module level or inside a function)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(*parts: str) -> list[Path]:
    found: list[Path] = []
    for part in parts:
        path = HERALD / part
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def reaches(path: Path, package: str) -> list[str]:
    return sorted(m for m in imported(path.read_text(encoding="utf-8")) if m == package or m.startswith(package + "."))


def _id(path: Path) -> str:
    return str(path.relative_to(HERALD))


def test_the_edge_has_modules_to_check() -> None:
    assert len(modules("api")) > 5 and len(modules("web")) > 5 and len(modules(*EDGE_SERVICES)) >= 9


@pytest.mark.parametrize("path", modules("api"), ids=_id)
def test_an_api_module_never_imports_the_ui(path: Path) -> None:
    assert reaches(path, "herald.web") == []


@pytest.mark.parametrize("path", modules("web"), ids=_id)
def test_a_ui_module_never_imports_the_api(path: Path) -> None:
    assert reaches(path, "herald.api") == []


@pytest.mark.parametrize("path", modules("http"), ids=_id)
def test_what_api_and_web_share_imports_neither(path: Path) -> None:
    assert reaches(path, "herald.api") == [] and reaches(path, "herald.web") == []


@pytest.mark.parametrize("path", modules(*EDGE_SERVICES), ids=_id)
def test_an_edge_service_takes_its_parts_not_the_composition_root(path: Path) -> None:
    assert reaches(path, "herald.app") == []


@pytest.mark.parametrize("path", modules(*NO_TABLES), ids=_id)
def test_an_edge_module_reaches_herald_tables_only_through_the_store(path: Path) -> None:
    assert reaches(path, "herald.store.tables") == []


@pytest.mark.parametrize(
    ("source", "package"),
    [
        ("from herald.api.v1.providers import check", "herald.api"),
        ("def f():\n    from herald.web import pages", "herald.web"),
        ("import herald.app", "herald.app"),
        ("from herald import web", "herald.web"),
    ],
)
def test_the_checker_sees_every_kind_of_import(source: str, package: str, tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert reaches(module, package) != []
