"""`herald rules show` as a user runs it: the rule, what its SQL selects, and every way it differs from Fineract's."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from herald.rules.differences import DIFFERENCES, differences_for


def show(rule: str) -> str:
    env = {**os.environ, "COLUMNS": "200", "HERALD_DATABASE_URL": "", "HERALD_COREBANK_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "herald", "rules", "show", rule], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def printed_differences(out: str) -> set[str]:
    return set(re.findall(r"^ {2}(D\d+) ", out, re.MULTILINE))


def test_a_non_triggered_rule_shows_its_parameters_variables_sql_and_its_differences() -> None:
    out = show("Happy Birthday")
    assert out.startswith("176 Happy Birthday\n")
    assert "Trigger types: Direct or Scheduled" in out
    assert "officeId" in out and "loanOfficerId" in out
    assert "{{dateOfBirth}}" in out and "{{age}}" in out
    assert "Selects: active clients (status 300)" in out
    assert "Grain: one row per client." in out
    assert "Dedup fact: the client" in out
    assert "D6 Happy Birthday does not run on PostgreSQL" in out
    assert "pg_catalog.extract(unknown, integer) does not exist" in out
    assert printed_differences(out) == {d.id for d in differences_for(176)}
    assert "docs/fineract-differences.md" in out


def test_a_triggered_rule_shows_the_hook_that_fires_it_and_only_its_own_differences() -> None:
    out = show("179")
    assert out.startswith("179 Loan Repayment\n")
    assert "Trigger type: Triggered" in out and "LOAN/REPAYMENT" in out and "loanTransactionId" in out
    assert printed_differences(out) == {d.id for d in differences_for(179)}
    assert "D24 herald runs SQL where Fineract builds" in out
    assert "D4 " not in out  # Fineract builds 179 in Java: its lower-cased aliases do not matter there


def test_active_clients_warns_that_fineracts_own_rule_sends_nothing_on_postgresql() -> None:
    d4 = next(d for d in DIFFERENCES if d.id == "D4")
    out = show("166")
    assert f"D4 {d4.title}" in out
    assert "creates no message at all" in out
