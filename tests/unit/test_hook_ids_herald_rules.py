"""The hooks that fire herald's own rules give the ids those rules bind (LOAN/DISBURSE, LOAN/CLOSE, CLIENT/CREATE)."""

from __future__ import annotations

import json

import pytest

from herald.rules.catalog import EVENT_IDS, rules_for_event
from herald.services.hook_registration import HOOK_EVENTS
from herald.services.hooks import parse_hook


def _body(entity: str, action: str, response: dict[str, int]) -> bytes:
    return json.dumps({"entityName": entity, "actionName": action, "response": response}).encode()


@pytest.mark.parametrize(
    ("entity", "action", "response", "ids", "rule"),
    [
        # Fineract's loan commands answer with the loan as resourceId.
        ("LOAN", "DISBURSE", {"resourceId": 51, "loanId": 51, "clientId": 7}, {"loanId": 51, "clientId": 7}, 1003),
        (
            "LOAN",
            "DISBURSETOSAVINGS",
            {"resourceId": 51, "loanId": 51, "groupId": 3},
            {"loanId": 51, "groupId": 3},
            1003,
        ),
        ("LOAN", "CLOSE", {"resourceId": 52, "loanId": 52, "clientId": 7}, {"loanId": 52, "clientId": 7}, 1004),
        ("CLIENT", "CREATE", {"resourceId": 7, "officeId": 1, "clientId": 7}, {"clientId": 7}, 1005),
    ],
)
def test_the_hook_names_the_ids_its_rule_binds(
    entity: str, action: str, response: dict[str, int], ids: dict[str, int], rule: int
) -> None:
    event = parse_hook({}, _body(entity, action, response), "default")
    assert (event.entity, event.action, event.ids) == (entity, action, ids)
    assert set(event.ids) <= set(EVENT_IDS)
    assert [r.id for r in rules_for_event(entity, action)] == [rule]


def test_herald_fineract_hook_registers_the_two_new_hook_events_and_no_event_only_one() -> None:
    assert ("LOAN", "DISBURSE") in HOOK_EVENTS and ("CLIENT", "CREATE") in HOOK_EVENTS
    for only_events in (("LOAN", "REPAYMENT_DUE"), ("LOAN", "REPAYMENT_OVERDUE")):
        assert only_events not in HOOK_EVENTS  # Fineract has no such hook: they come as external events
