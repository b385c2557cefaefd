"""A re-send chosen by failure code sends exactly the chosen failures again, once each, counted at a fake Twilio.

The campaign goes out through the real send job to FakeTwilio over HTTP; the fake reports some
numbers undelivered with one code and others with another; the real report job pulls that in.
Then the officer re-sends one code through the UI's confirmation (a real app under TestClient,
a real session), the send job runs, and the fake counts what each phone received. The same
confirmed post again (a reload, a second click) sends nothing more.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient

from herald.clock import ManualClock
from herald.server import create_app
from herald.services import auth
from herald.services.auth import SESSION_COOKIE, Role
from tests.e2e.test_transient_resend import Rig, _run
from tests.fineract_builder import FineractBuilder
from tests.web.confirming import confirmation_of

UNKNOWN_1, UNKNOWN_2, UNSUBSCRIBED, FINE = "+254712000201", "+254712000202", "+254712000203", "+254712000204"


def officer(rig: Rig) -> tuple[TestClient, str]:
    """A campaign manager's browser session on the rig's herald, and its CSRF token."""
    store, clock = rig.herald.store, rig.clock
    auth.create_user("officer", Role.CAMPAIGN_MANAGER, "correct horse battery", store=store, clock=clock)
    client = TestClient(create_app(rig.herald), follow_redirects=False)  # no lifespan: the rig owns the providers
    client.cookies.set(SESSION_COOKIE, auth.login("officer", "correct horse battery", store=store, clock=clock))
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/campaigns/{rig.campaign_id}").text)
    assert found
    return client, found.group(1)


def test_a_resend_of_one_failure_code_sends_exactly_those_again_once(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def script(rig: Rig) -> None:
        await rig.fail(UNKNOWN_1, 30005)
        await rig.fail(UNKNOWN_2, 30005)
        await rig.fail(UNSUBSCRIBED, 21610)
        await rig.reports()
        assert rig.received() == Counter({UNKNOWN_1: 1, UNKNOWN_2: 1, UNSUBSCRIBED: 1, FINE: 1})

        def resend() -> tuple[int, str, int, str]:
            client, token = officer(rig)
            path = f"/campaigns/{rig.campaign_id}/resend?choose=1&code=30005"
            form = {"csrf_token": token, "confirmation": confirmation_of(client, path), "code": "30005"}
            first = client.post(f"/campaigns/{rig.campaign_id}/resend", data=form)
            again = client.post(f"/campaigns/{rig.campaign_id}/resend", data=form)
            return first.status_code, first.text, again.status_code, again.text

        status, text, again_status, again_text = await asyncio.to_thread(resend)
        assert status == 200 and "2 failed messages queued again" in text and "30005: 2" in text
        assert again_status == 409 and "0 failed messages to re-send" in again_text
        await rig.send()
        await rig.send()  # a second run finds nothing more to send
        assert rig.received() == Counter({UNKNOWN_1: 2, UNKNOWN_2: 2, UNSUBSCRIBED: 1, FINE: 1})

    _run(tmp_path, fineract, clock, [UNKNOWN_1, UNKNOWN_2, UNSUBSCRIBED, FINE], script, transient_resend_times=0)
