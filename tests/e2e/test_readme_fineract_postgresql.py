"""The README's "Fineract on PostgreSQL" commands, run as written against a PostgreSQL core bank.

The README tells a Fineract-on-PostgreSQL institution that Fineract's own campaigns send nothing
there and gives the commands that show herald's rules doing it right; this runs exactly those
lines (read from the README, so the page cannot drift from what works) on a fresh directory.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("**Fineract on PostgreSQL")
    return text[start : text.index("\n- **", start)]


def _commands(section: str) -> list[list[str]]:
    """The herald commands of the section: `demo init` from the prose first, then the block's lines."""
    block = section.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    lines = [line.strip() for line in block.splitlines() if line.strip().startswith(".venv/bin/herald")]
    [init] = re.findall(r"`(\.venv/bin/herald demo init[^`]*)`", section)
    return [shlex.split(line, comments=True) for line in (init, *lines)]


def test_the_readme_s_postgresql_commands_preview_today_s_birthdays(pg_url: str, tmp_path: Path) -> None:
    section = _section()
    assert "export HERALD_COREBANK_URL=postgresql+psycopg://" in section
    env = {**os.environ, "HERALD_COREBANK_URL": pg_url, "COLUMNS": "200"}
    for name in ("HERALD_DATABASE_URL", "HERALD_PROVIDERS", "HERALD_PROVIDERS_FILE", "HERALD_HOME"):
        env.pop(name, None)
    outputs = []
    for argv in _commands(section):
        assert argv[0] == ".venv/bin/herald"
        done = subprocess.run(
            [sys.executable, "-m", "herald", *argv[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{shlex.join(argv)}\n{done.stdout}{done.stderr}"
        outputs.append(done.stdout)
    preview = outputs[-1]
    assert "Happy birthday " in preview  # {{firstName}} rendered: PostgreSQL's lower-cased names did not lose it
    sendable = re.search(r"Audience: (\d+) clients; (\d+) sendable", preview)
    assert sendable is not None and int(sendable.group(2)) >= 1, preview
