"""What people type reaches the terminal as typed: a campaign name, a message or a username that looks like rich's
markup ("[/x]", "[bold]") or an emoji code (":-1:", as in every ActiveMQ message id) is printed as written, by
every command that shows it, and never ends the command in a traceback. (Usernames allow none of these characters.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERALD = [sys.executable, "-m", "herald"]
NAME = "Promo [/x] :-1: [bold]b"
TEXT = "Hi [/x] {{firstName}} [red]:-1:"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {**os.environ, "HERALD_HOME": str(tmp_path / "var"), "COLUMNS": "250"}
    environment |= {"HERALD_DATABASE_URL": "", "HERALD_COREBANK_URL": ""}
    run(environment, "demo", "init", "--clients", "40")
    return environment


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*HERALD, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    return done.stdout


def test_a_campaign_named_and_worded_like_markup_is_shown_as_typed_by_every_command(env: dict[str, str]) -> None:
    created = run(
        env,
        *("campaigns", "create", "--name", NAME, "--trigger", "direct", "--rule", "166", "-p", "officeId=1"),
        *("--provider", "simulator", "--message", TEXT),
    )
    assert f'"{NAME}"' in created and "[bold]1[/]" not in created
    assert NAME in run(env, "campaigns", "show", "1")
    listed = run(env, "campaigns", "list")
    assert "Promo" in listed and "👎" not in listed
    preview = run(env, "campaigns", "preview", "1")
    assert "Hi [/x] " in preview and "[red]:-1:" in preview
    activated = run(env, "campaigns", "activate", "1", "--yes")
    assert f"Materializing {NAME}" in activated or "messages created" in activated
    messages = run(env, "messages", "list", "--campaign", "1")
    assert "👎" not in messages
