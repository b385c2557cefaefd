"""The domain never reads the clock: it takes `now` as an argument, in every module.

What the domain may import (nothing of herald but errors, no I/O library) is import-linter's
contract in pyproject.toml, checked by `make test`; reading the clock is a call, which no import
graph shows, so this test looks for it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "herald" / "domain"

# (module, attribute) pairs that read the clock; the domain takes `now` as an argument instead.
CLOCK_READS = frozenset(
    {
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("datetime", "today"),
        ("date", "today"),
        ("time", "time"),
        ("time", "time_ns"),
        ("time", "monotonic"),
        ("time", "perf_counter"),
    }
)


def _domain_modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def _dotted(node: ast.expr) -> str | None:
    """"datetime.datetime.now" for the expression `datetime.datetime.now`, None if not a plain name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def impurities(source: str) -> list[str]:
    """Every clock read in `source`, as readable findings."""
    tree = ast.parse(source)
    found: list[str] = []
    clock_names: set[str] = set()  # names bound by `from time import time` and the like
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (node.module.split(".")[-1], alias.name) in CLOCK_READS:
                    clock_names.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name is None:
            continue
        pieces = name.split(".")
        if (len(pieces) >= 2 and (pieces[-2], pieces[-1]) in CLOCK_READS) or (
            len(pieces) == 1 and pieces[0] in clock_names
        ):
            found.append(f"line {node.lineno}: calls {name}()")
    return found


def test_the_domain_folder_has_modules_to_check() -> None:
    names = {path.name for path in _domain_modules()}
    assert {"segments.py", "phones.py", "templates.py", "schedule.py"} <= names


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda path: path.name)
def test_domain_module_never_reads_the_clock(path: Path) -> None:
    assert impurities(path.read_text(encoding="utf-8")) == [], path.name


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nnow = datetime.now()",
        "import datetime\nnow = datetime.datetime.now(datetime.UTC)",
        "from datetime import date\nd = date.today()",
        "import time\nt = time.time()",
        "from time import time\nt = time()",
        "from time import time as clock\nt = clock()",
        "import datetime as dt\nnow = dt.datetime.utcnow()",
    ],
)
def test_checker_catches_impure_code(source: str) -> None:
    assert impurities(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, UTC\nx = datetime(2025, 1, 1, tzinfo=UTC)",
        "from herald.errors import ValidationError",
        "def f(now):\n    return now.replace(tzinfo=None)",
        "import re\nre.compile('x')",
        "from dateutil.rrule import rrulestr",
    ],
)
def test_checker_accepts_pure_code(source: str) -> None:
    assert impurities(source) == []
