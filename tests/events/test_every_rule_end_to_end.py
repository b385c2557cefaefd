"""Every triggered rule, fired by its Fineract external event through a real ActiveMQ, to Delivered.

A demo core bank holds a real event for every rule (the newest of each kind reaching a recipient,
as the campaign page's sample finds it); each is published as Fineract publishes it (the
close-of-business ones in one bulk event), a `herald worker` reads them from the broker and the
simulator delivers. Every campaign gets exactly the recipients its rule gives for that event.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from herald.app import Herald
from herald.config import Settings
from herald.corebank.demo import create_demo_database
from herald.corebank.event_rules import run_triggered
from herald.corebank.recent_events import latest_event
from herald.domain.business_rule import BusinessRule
from herald.rules.catalog import all_rules
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from tests.activemq import Broker, new_queue
from tests.campaign_parts import activating, validating
from tests.fineract_events import EventWriter

pytestmark = pytest.mark.xdist_group("activemq")

TODAY = date(2026, 11, 25)
DELIVERED = 300

# rule id -> (event type, payload from the event's ids)
_EVENTS: dict[int, tuple[str, Any]] = {
    179: ("LoanTransactionMakeRepaymentPostBusinessEvent", lambda e: {"id": e["loanTransactionId"]}),
    180: ("LoanApprovedBusinessEvent", lambda e: {"id": e["loanId"]}),
    181: ("LoanRejectedBusinessEvent", lambda e: {"id": e["loanId"]}),
    182: ("ClientRejectBusinessEvent", lambda e: {"id": e["clientId"]}),
    183: ("ClientActivateBusinessEvent", lambda e: {"id": e["clientId"]}),
    184: ("SavingsRejectBusinessEvent", lambda e: {"id": e["savingsId"]}),
    185: ("SavingsActivateBusinessEvent", lambda e: {"id": e["savingsId"]}),
    186: ("SavingsDepositBusinessEvent", lambda e: {"id": e["savingsTransactionId"]}),
    187: ("SavingsWithdrawalBusinessEvent", lambda e: {"id": e["savingsTransactionId"]}),
    1001: ("LoanRepaymentDueBusinessEvent", lambda e: _instalment(e)),
    1002: ("LoanRepaymentOverdueBusinessEvent", lambda e: _instalment(e)),
    1003: ("LoanDisbursalBusinessEvent", lambda e: {"id": e["loanId"]}),
    1004: ("LoanCloseBusinessEvent", lambda e: {"id": e["loanId"]}),
    1005: ("ClientCreateBusinessEvent", lambda e: {"id": e["clientId"]}),
}
_CLOSE_OF_BUSINESS = (1001, 1002)


def _instalment(ids: dict[str, int]) -> dict[str, Any]:
    number = ids["installmentNumber"]
    return {
        "loanId": ids["loanId"],
        "loanAccountNo": f"{ids['loanId']:09d}",
        "installment": {"installmentNumber": number},
    }


def _params(rule: BusinessRule) -> dict[str, str]:
    office = rule.parameter("officeId")
    assert office is not None
    return {"officeId": "-1" if office.allows_all else "1", "loanOfficerId": "-1"}


@pytest.fixture
def installation(tmp_path: Path, activemq: Broker) -> Iterator[tuple[dict[str, str], Herald, str]]:
    corebank = tmp_path / "corebank.sqlite"
    create_demo_database(f"sqlite:///{corebank}", clients=600, seed=5, today=TODAY)
    queue = new_queue()
    env = {
        "HERALD_HOME": str(tmp_path),
        "HERALD_DATABASE_URL": f"sqlite:///{tmp_path / 'herald.sqlite'}",
        "HERALD_COREBANK_URL": f"sqlite:///{corebank}",
        "HERALD_EVENTS_URL": f"stomp://{activemq.host}:{activemq.stomp_port}/queue/{queue}",
        "HERALD_SIMULATOR_FAILURE_RATIO": "0",
        "HERALD_SIMULATOR_SENT_AFTER": "0.1",
        "HERALD_SIMULATOR_DELIVERED_AFTER": "0.3",
        "HERALD_REPORTS_INTERVAL": "0.3",
        "HERALD_SEND_INTERVAL": "0.2",
    }
    settings = Settings(home=tmp_path, database_url=env["HERALD_DATABASE_URL"], corebank_url=env["HERALD_COREBANK_URL"])
    herald = Herald.build(settings)
    yield env, herald, queue
    herald.close()


def test_every_triggered_rules_event_reaches_its_recipients_delivered_once(
    installation: tuple[dict[str, str], Herald, str], activemq: Broker, tmp_path: Path
) -> None:
    env, herald, queue = installation
    writer = EventWriter()
    engine = create_engine(env["HERALD_COREBANK_URL"])
    expected: dict[int, tuple[int, int]] = {}  # campaign -> (messages, delivered): a client with no number gets none
    singles: list[bytes] = []
    close_of_business: list[tuple[str, dict[str, Any]]] = []
    rules = all_rules(triggered=True)
    assert {r.id for r in rules} == set(_EVENTS), "a triggered rule without its event in this test"
    for rule in rules:
        params = _params(rule)
        with engine.connect() as conn:
            found = latest_event(conn, rule, params, TODAY)
            assert found is not None, f"the demo has no event of rule {rule.id}"
            expected_rows = list(run_triggered(conn, rule, params, found.event, TODAY))
        c = campaigns.create(
            CampaignRequest.model_validate(
                {
                    "campaignName": f"rule {rule.id}",
                    "triggerType": "triggered",
                    "runReportId": rule.id,
                    "paramValue": params,
                    "message": f"{rule.name} for {{{{id}}}}",
                }
            ),
            **validating(herald),
        )
        sendable = sum(1 for row in expected_rows if row.mobile_no)
        expected[campaigns.activate(c.id, **activating(herald)).id] = (len(expected_rows), sendable)
        type_, payload = _EVENTS[rule.id]
        if rule.id in _CLOSE_OF_BUSINESS:
            close_of_business.append((type_, payload(found.event)))
        else:
            singles.append(writer.event(type_, payload(found.event)))
    engine.dispose()
    activemq.send_many(queue, [*singles, writer.bulk(close_of_business), singles[0]])  # the first one twice
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "herald", "worker"], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    try:

        def per_campaign() -> dict[int, tuple[int, int]]:
            with herald.store.connect() as conn:
                rows = conn.execute(
                    select(
                        messages.c.campaign_id,
                        func.count(),
                        func.sum((messages.c.status == DELIVERED).cast(messages.c.status.type)),
                    ).group_by(messages.c.campaign_id)
                ).all()
            return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}

        wanted = expected
        assert sum(sendable for _, sendable in expected.values()) >= len(expected) - 1
        deadline = time.monotonic() + 90
        while per_campaign() != wanted and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert per_campaign() == wanted, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        worker.kill()
        worker.wait()
        log.close()
