"""herald's own triggered rules (1001-1005) in the web UI: offered by the campaign form, previewed from a real event.

Through the real app (TestClient) on the demo core bank, whose data has an event of every kind.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from herald.services.auth import Role
from tests.web.conftest import csrf_of, log_in

# rule -> (a template using its own variables, the sample it must render, the event the sample names)
SAMPLES = {
    "1001": (
        "{{firstname}}: {{totalDue}} due {{dueDate}} ({{daysUntilDue}} days) on {{LoanAccountId}}.",
        r"\w+: [A-Z]{3} [\d,.]+ due \d\d \w{3} 2026 \(\d+ days\) on [\w*]+\.",
        r"repayment due of \d\d \w{3} 2026 \(loanId \d+, installmentNumber \d+\)",
    ),
    "1002": (
        "{{firstname}}: {{totalDue}} is {{daysOverdue}} days late; {{totalOverdue}} overdue in all.",
        r"\w+: [A-Z]{3} [\d,.]+ is \d+ days late; [A-Z]{3} [\d,.]+ overdue in all\.",
        r"repayment overdue of \d\d \w{3} 20\d\d \(loanId \d+, installmentNumber \d+\)",
    ),
    "1003": (
        "{{firstname}}, {{disbursedAmount}} was paid out on {{disbursementDate}}.",
        r"\w+, [A-Z]{3} [\d,.]+ was paid out on \d\d \w{3} 20\d\d\.",
        r"loan disbursal of \d\d \w{3} 20\d\d \(loanId \d+\)",
    ),
    "1004": (
        "Asante {{firstname}}: loan {{accountnumber}} closed on {{closedOnDate}}.",
        r"Asante \w+: loan [\w*]+ closed on \d\d \w{3} 20\d\d\.",
        r"loan closure of \d\d \w{3} 20\d\d \(loanId \d+\)",
    ),
    "1005": (
        "Karibu {{firstName}} to {{officeName}}!",
        r"Karibu \w+ to [A-Z][\w ]+!",
        r"new client of \d\d \w{3} 20\d\d \(clientId \d+\)",
    ),
}


def test_the_triggered_form_offers_herald_s_own_rules(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    # Choosing the trigger type re-renders the form (no action: nothing saved) with that type's rules.
    form = {"triggerType": "triggered", "runReportId": "1001", "csrf_token": csrf_of(client)}
    page = client.post("/campaigns/new", data=form).text
    offered = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page))
    assert {k: offered.get(k) for k in SAMPLES} == {
        "1001": "Loan Repayment Due",
        "1002": "Loan Repayment Overdue",
        "1003": "Loan Disbursed",
        "1004": "Loan Closed",
        "1005": "Client Created",
    }
    assert "179" in offered and "166" not in offered  # triggered rules only
    assert re.search(r'<option value="1001" selected>', page)


@pytest.mark.parametrize("rule", list(SAMPLES))
def test_a_draft_of_each_is_previewed_with_a_recent_real_event(client: TestClient, rule: str) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    template, rendered, event = SAMPLES[rule]
    data = {
        "campaignName": f"rule {rule}",
        "triggerType": "triggered",
        "runReportId": rule,
        "param.officeId": "1",
        "param.loanOfficerId": "-1",
        "message": template,
        "providerId": "simulator",
        "csrf_token": csrf_of(client),
    }
    fragment = client.post("/campaigns/form-preview", data=data).text
    sample = re.search(r'data-testid="triggered-sample">([^<]*)<', fragment)
    assert sample and re.fullmatch(rendered, sample.group(1)), fragment
    assert re.search(event, fragment), fragment
