"""The `herald` command's words for the IT person, run as a subprocess: its version, the trigger types `campaigns
create` takes, each rule's trigger type in `rules list`, and the audit trail of opt-out and office changes."""

from __future__ import annotations

import re
from importlib.metadata import version

from herald.rules.catalog import all_rules
from tests.e2e.test_cli import env, herald

__all__ = ["env"]  # the fixture, used by name


def test_version_prints_the_installed_version(env: dict[str, str]) -> None:
    done = herald(env, "--version")
    assert done.stdout == f"herald {version('herald')}\n"


def test_campaigns_create_help_lists_all_three_trigger_types_with_fineracts_codes(env: dict[str, str]) -> None:
    shown = " ".join(herald(env, "campaigns", "create", "--help").stdout.replace("│", " ").split())
    assert "direct (1: the audience once, at activation)" in shown
    assert "schedule (2: again at every --recurrence)" in shown
    assert "triggered (3: one message per Fineract event" in shown


def test_rules_list_shows_each_rules_trigger_type(env: dict[str, str]) -> None:
    out = herald(env, "rules", "list").stdout
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^│ (\d+) +│.*$", out, re.MULTILINE)}
    rules = all_rules()
    assert set(rows) == {r.id for r in rules}
    for rule in rules:
        cells = [c.strip() for c in rows[rule.id].split("│")]
        if rule.triggered:
            entity, action = rule.events[0]
            assert cells[3].startswith("Triggered ("), rows[rule.id]
            shown = cells[3].removeprefix("Triggered (").rstrip(",)")  # the first event, the rest folded below
            assert shown and f"{entity}/{action}".startswith(shown), rows[rule.id]
        else:
            assert cells[3] == "Direct or Scheduled", rows[rule.id]
    assert "trigger type" in out


def test_opt_out_and_office_changes_from_the_command_line_are_audited_with_their_reason(env: dict[str, str]) -> None:
    herald(env, "demo", "init", "--clients", "30", "--seed", "2")
    herald(env, "db", "upgrade")
    added = herald(env, "optouts", "add", "0712345678", "--reason", "asked at the branch").stdout
    assert "+2547******78 is now on the opt-out list." in added
    removed = herald(env, "optouts", "remove", "+254712345678", "--reason", "wants reminders again").stdout
    assert "+2547******78 removed from the opt-out list." in removed
    office = herald(env, "offices", "set", "4", "--region", "ug", "--timezone", "Africa/Kampala").stdout
    assert "Office 4: region UG, time zone Africa/Kampala." in office
    log = " ".join(herald(env, "audit", "list").stdout.replace("│", " ").split())
    assert "optout.remove +2547******78 reason: wants reminders again" in log
    assert "optout.add +2547******78 reason: asked at the branch" in log
    assert "office.set office 4 region: UG, timezone: Africa/Kampala" in log
    assert "0712345678" not in log and "+254712345678" not in log
