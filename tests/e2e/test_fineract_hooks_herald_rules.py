"""herald's own hook-fed rules end to end: CLIENT/CREATE and LOAN/DISBURSE hooks to messages at a fake Twilio.

The hooks are shaped as Fineract's Web template sends them and posted to herald's hook URL; the
messages are counted where they arrive, in the fake Twilio on 127.0.0.1 (its own event loop in a
thread, as a real provider is another process). A repeated hook must add nothing there.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.corebank import schema
from herald.fakes.twilio import ACCOUNT_SID, FakeTwilio
from herald.server import create_app
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.worker import sender_for
from tests.campaign_parts import activating, validating
from tests.e2e.conftest import HOOK_SECRET as SECRET
from tests.e2e.test_fineract_hooks import URL, _hook
from tests.fineract_builder import STAMP, FineractBuilder

TOKEN = "twilio-token-rules-1003"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeTwilio(auth_token=TOKEN).start(), loop).result(timeout=10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def hooked(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, twilio: FakeTwilio
) -> Iterator[tuple[TestClient, Herald]]:
    provider = {
        "kind": "twilio",
        "name": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": TOKEN,
        "from_number": "+15005550006",
        "base_url": twilio.url,
        "timeout": 5,
    }
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        fineract_hook_secret=SECRET,
        providers=json.dumps([provider]),
    )
    herald = Herald.build(settings, clock)
    with TestClient(create_app(herald)) as client:
        yield client, herald
    herald.close()


def _campaign(herald: Herald, rule: int, message: str, **params: str) -> None:
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": f"rule {rule}",
                "triggerType": "triggered",
                "runReportId": rule,
                "paramValue": {"officeId": "1", **params},
                "message": message,
                "providerId": "twilio",
            }
        ),
        **validating(herald),
    )
    campaigns.activate(c.id, **activating(herald))


def _received(twilio: FakeTwilio) -> list[tuple[str, str]]:
    """(number, body) of every message the fake Twilio accepted, in arrival order."""
    return [(m["to"], m["body"]) for m in list(twilio.messages.values())]


def _arrives(twilio: FakeTwilio, wanted: list[tuple[str, str]], within: float = 10.0) -> bool:
    # The hook answers once the message is stored; the immediate send follows on herald's own thread.
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and len(_received(twilio)) < len(wanted):
        time.sleep(0.01)
    return _received(twilio) == wanted


def _post(client: TestClient, entity: str, action: str, response: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(URL, **_hook(entity, action, response))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _schedule(fineract: FineractBuilder, loan: int) -> None:
    """Instalments 1 (1 Oct 2026, 1,000 + 150 interest) and 2 of the builder's loan disbursed on 1 Sep 2026."""
    with fineract.engine.begin() as conn:
        for number, due in ((1, date(2026, 10, 1)), (2, date(2026, 11, 1))):
            conn.execute(
                insert(schema.m_loan_repayment_schedule).values(
                    loan_id=loan,
                    installment=number,
                    duedate=due,
                    principal_amount=Decimal("1000"),
                    interest_amount=Decimal("150"),
                    completed_derived=False,
                    created_on_utc=STAMP,
                    last_modified_on_utc=STAMP,
                )
            )


def test_a_client_created_and_a_loan_disbursed_each_reach_twilio_once_and_a_repeat_nothing(
    hooked: tuple[TestClient, Herald], fineract: FineractBuilder, twilio: FakeTwilio
) -> None:
    client, herald = hooked
    _campaign(herald, 1005, "Karibu {{firstName}}, welcome to {{officeName}}.", loanOfficerId="-1")
    _campaign(
        herald,
        1003,
        "{{firstname}}, loan {{accountnumber}}: {{disbursedAmount}} paid out on {{disbursementDate}};"
        " first instalment {{firstInstalmentAmount}} due {{firstDueDate}}.",
    )
    amina = fineract.client("Amina", "+254712000001")
    created = _post(client, "CLIENT", "CREATE", {"officeId": 1, "clientId": amina, "resourceId": amina})
    assert (created["created"], created["event"]) == (1, "CLIENT/CREATE")
    welcome = ("+254712000001", "Karibu Amina, welcome to Head Office.")
    assert _arrives(twilio, [welcome]), _received(twilio)

    loan = fineract.loan(amina)
    _schedule(fineract, loan)
    disbursal = {"officeId": 1, "clientId": amina, "loanId": loan, "resourceId": loan}  # resourceId: the loan
    disbursed = _post(client, "LOAN", "DISBURSE", disbursal)
    assert (disbursed["created"], disbursed["event"]) == (1, "LOAN/DISBURSE")
    notice = (
        "+254712000001",
        f"Amina, loan L{loan:08d}: KES 10,000.00 paid out on 01 Sep 2026; first instalment KES 1,150.00 due"
        " 01 Oct 2026.",
    )
    assert _arrives(twilio, [welcome, notice]), _received(twilio)

    # Fineract retries nothing, but a proxy or an operator may: the same hooks again.
    again = [
        _post(client, "CLIENT", "CREATE", {"officeId": 1, "clientId": amina, "resourceId": amina}),
        _post(client, "LOAN", "DISBURSE", disbursal),
    ]
    assert [(a["created"], a["duplicates"]) for a in again] == [(0, 1), (0, 1)]
    assert asyncio.run(sender_for(herald).run())["accepted"] == 0  # nothing left to send, either
    assert _received(twilio) == [welcome, notice]
