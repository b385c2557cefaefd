"""`herald events dead-letters | retry | discard`, run as an admin runs them: subprocesses on real files.

The letters are kept aside by the consumer a Herald of the same settings builds (as its worker
would); what the commands did is read back from herald's SQLite file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from herald.app import Herald
from herald.config import Settings
from herald.events.stomp import StompSource
from herald.events.transport import Delivery
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from tests.activemq import Broker, new_queue
from tests.campaign_parts import activating, validating
from tests.e2e.conftest import START
from tests.e2e.test_cli import herald
from tests.e2e.test_cli_confirm import no_terminal, said
from tests.fineract_builder import FineractBuilder
from tests.fineract_events import EventWriter

WRITER = EventWriter()


@pytest.fixture
def env(tmp_path: Path, fineract: FineractBuilder) -> dict[str, str]:
    values = {
        **os.environ,
        "HERALD_HOME": str(tmp_path / "var"),
        "HERALD_DATABASE_URL": "",
        "HERALD_COREBANK_URL": fineract.url,
        "HERALD_TIMEZONE": "Africa/Nairobi",
        "COLUMNS": "250",
    }
    values.pop("HERALD_TENANTS", None)
    herald(values, "db", "upgrade")
    return values


def _build(env: dict[str, str]) -> Herald:
    tenants = env.get("HERALD_TENANTS")
    return Herald.build(
        Settings(home=Path(env["HERALD_HOME"]), corebank_url=env["HERALD_COREBANK_URL"], tenants=tenants or None),
        create_store=False,
    )


def _rows(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(Path(env["HERALD_HOME"]) / "herald.sqlite") as db:
        return list(db.execute(sql).fetchall())


def test_an_admin_lists_retries_and_discards_dead_letters_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    kampala = FineractBuilder(f"sqlite:///{tmp_path / 'kampala.sqlite'}")
    nakato = kampala.client("Nakato", "+254712000201")
    event = WRITER.event("ClientActivateBusinessEvent", {"id": nakato}, tenant="kampala", created_at=START)
    before = _build(env)
    before.event_consumer().handle([Delivery(event, "ID:broker-1"), Delivery(b"not avro", "ID:broker-2")])
    before.close()
    (kampala_letter,), (garbage,) = _rows(env, "SELECT id FROM dead_letters ORDER BY id")

    listed = herald(env, "events", "dead-letters").stdout
    assert "Dead letters: 2 (Africa/Nairobi)" in listed
    assert "kampala" in listed and "ClientActivateBusinessEvent" in listed and "ID:broker-2" in listed
    assert "EAT" in listed and "not Avro" in listed
    assert listed.index("ID:broker-2") < listed.index("ID:broker-1")  # newest first

    failed = herald(env, "events", "retry", str(kampala_letter), ok=False)
    assert said(failed.stderr) == [
        f"Error: Dead letter {kampala_letter} was kept aside again: Tenant 'kampala' is not one of herald's; add it"
        " to HERALD_TENANTS."
    ]
    assert herald(env, "events", "retry", ok=False).stderr.count("--all") == 1  # neither an ID nor --all

    env["HERALD_TENANTS"] = json.dumps({"kampala": kampala.url})  # the admin fixes the cause
    after = _build(env)
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "Karibu",
                "triggerType": "triggered",
                "runReportId": 183,
                "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
                "message": "Karibu {{firstName}}",
                "tenantId": "kampala",
            }
        ),
        **validating(after),
    )
    campaigns.activate(c.id, **activating(after))
    after.close()
    done = herald(env, "events", "retry", str(kampala_letter))
    assert f"Dead letter {kampala_letter} went through: 1 message(s) created" in done.stdout
    assert _rows(env, "SELECT body FROM messages") == [("Karibu Nakato",)]
    again = herald(env, "events", "retry", str(kampala_letter), ok=False)
    assert f"There is no dead letter {kampala_letter}" in again.stderr
    every = herald(env, "events", "retry", "--all")
    assert "Retried 1: 0 went through and created 0 message(s); 1 kept aside again" in every.stdout

    refused = no_terminal(env, "events", "discard", str(garbage), "--reason", "garbage from a test")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert said(refused.stderr) == [
        "Error: Nothing was done: `herald events discard` asks before it deletes; pass --yes to go ahead."
    ]
    assert _rows(env, "SELECT id FROM dead_letters") == [(garbage,)]
    herald(env, "events", "discard", str(garbage), "--reason", "garbage from a test", "--yes")
    assert _rows(env, "SELECT id FROM dead_letters") == []
    [(actor, via, detail)] = _rows(env, "SELECT actor, via, detail FROM audit_log WHERE action = 'event.discard'")
    assert str(actor).startswith("cli:") and via == "cli"
    assert json.loads(str(detail))["reason"] == "garbage from a test"
    assert "Dead letters: 0" in herald(env, "events", "dead-letters").stdout


@pytest.mark.xdist_group("activemq")
def test_what_the_broker_sent_is_listed_and_quoted_as_it_came_never_read_as_rich_markup(
    env: dict[str, str], activemq: Broker
) -> None:
    # a tenant is whatever Fineract (or anyone who can publish) wrote; ActiveMQ's ids all hold ":-1:"
    queue_name = new_queue()
    tenant = "kampala [/x] [bold]"
    activemq.send_many(queue_name, [WRITER.event("ClientActivateBusinessEvent", {"id": 7}, tenant=tenant), b"nope"])
    before = _build(env)
    source = StompSource(activemq.host, activemq.stomp_port, queue_name)
    stop = threading.Event()
    reader = threading.Thread(target=source.run, args=(before.event_consumer().handle, stop), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while len(_rows(env, "SELECT id FROM dead_letters")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    reader.join(timeout=10)
    before.close()
    [(letter, message_id)] = _rows(env, "SELECT id, broker_message_id FROM dead_letters WHERE tenant IS NOT NULL")
    assert ":-1:" in str(message_id)

    listed = herald(env, "events", "dead-letters").stdout
    assert tenant in listed and str(message_id) in listed and f"Tenant '{tenant}' is not one of herald's" in listed

    failed = herald(env, "events", "retry", str(letter), ok=False)
    assert said(failed.stderr) == [
        f"Error: Dead letter {letter} was kept aside again: Tenant '{tenant}' is not one of herald's; add it"
        " to HERALD_TENANTS."
    ]
