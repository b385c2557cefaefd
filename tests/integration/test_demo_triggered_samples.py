"""The demo core-banking database has a real event for every triggered rule, so each campaign page shows a sample.

A Triggered campaign's page renders the newest event of its rule's kind that reaches a recipient
(herald.corebank.recent_events); on the demo database that must exist for every rule, Fineract's
nine and herald's own five, including a group loan's instalment for the fan-out rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from herald.corebank.demo import create_demo_database
from herald.corebank.event_rules import run_triggered
from herald.corebank.recent_events import latest_event
from herald.domain.business_rule import BusinessRule
from herald.rules.catalog import all_rules, get_rule

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("demo-events") / "corebank.sqlite"
    create_demo_database(f"sqlite:///{path}", clients=600, seed=5, today=TODAY)
    engine = create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _params(rule: BusinessRule) -> dict[str, int]:
    office = rule.parameter("officeId")
    assert office is not None
    return {"officeId": -1 if office.allows_all else 1, "loanOfficerId": -1}


@pytest.mark.parametrize("rule", all_rules(triggered=True), ids=lambda r: str(r.id))
def test_every_triggered_rule_finds_a_recent_event_with_a_recipient(demo: Engine, rule: BusinessRule) -> None:
    with demo.connect() as conn:
        found = latest_event(conn, rule, _params(rule), TODAY)
    assert found is not None, f"no {rule.id} {rule.name} event in the demo database"
    assert set(found.event) == set(rule.event_key)
    assert set(found.row.variables) == set(rule.variables)


def test_the_instalment_rules_reach_every_active_member_of_a_group_loans_group(demo: Engine) -> None:
    # The unpaid instalment of a pure group loan (no client) whose group has several active members.
    sql = """
        SELECT rs.loan_id, rs.installment, l.group_id FROM m_loan_repayment_schedule rs
        JOIN m_loan l ON l.id = rs.loan_id
        WHERE l.client_id IS NULL AND l.loan_status_id = 300 AND rs.completed_derived = 0
        AND (SELECT COUNT(*) FROM m_group_client gc JOIN m_client c ON c.id = gc.client_id
             WHERE gc.group_id = l.group_id AND c.status_enum = 300) >= 2
        ORDER BY rs.loan_id, rs.installment LIMIT 1"""
    members = """SELECT c.id FROM m_group_client gc JOIN m_client c ON c.id = gc.client_id
        WHERE gc.group_id = :g AND c.status_enum = 300"""
    with demo.connect() as conn:
        loan, number, group = conn.execute(text(sql)).one()
        active = {cid for (cid,) in conn.execute(text(members), {"g": group})}
        for rule_id in (1001, 1002):
            event = {"loanId": loan, "installmentNumber": number}
            rows = list(run_triggered(conn, get_rule(rule_id), {"officeId": -1}, event, TODAY))
            assert {r.client_id for r in rows} == active
            assert sorted(r.fact_id for r in rows) == sorted(f"{loan}/{number}:{cid}" for cid in active)
