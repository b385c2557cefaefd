"""A message's page lists every attempt: the one a provider failed (its error, when) and the one that went,
with the provider's id, counted at a fake Twilio over HTTP that answered the first request with a 500.
A viewer reads the page without the client's full number."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.server import create_app
from herald.services import auth
from herald.services.auth import SESSION_COOKIE, Role
from tests.e2e.test_transient_resend import Rig, _settings
from tests.fineract_builder import FineractBuilder

NUMBER = "+254712000301"


def _viewer_reads(herald: Herald, clock: ManualClock, message_id: int) -> str:
    auth.create_user("reader", Role.VIEWER, "correct horse battery", store=herald.store, clock=clock)
    client = TestClient(create_app(herald), follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, auth.login("reader", "correct horse battery", store=herald.store, clock=clock))
    page = client.get(f"/messages/{message_id}")
    assert page.status_code == 200, page.text
    return page.text


def test_the_failed_attempt_and_the_one_that_went_are_both_on_the_message_page(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    office = fineract.office("Branch")
    fineract.client("Amina", NUMBER, office_id=office)

    async def main() -> str:
        async with FakeTwilio(push_callbacks=False) as twilio:
            herald = Herald.build(_settings(tmp_path, fineract, twilio, retry_base_seconds=5), clock)
            try:
                rig = Rig(herald, twilio, clock)
                rig.start_campaign(office)
                twilio.inject(FakeFault.SERVER_ERROR)  # the first create request meets a 500: a passing error
                await rig.send()
                assert rig.received() == Counter()
                clock.advance(seconds=30)  # past the retry's wait
                await rig.send()
                assert rig.received() == Counter({NUMBER: 1})  # one message reached the phone
                (sid,) = twilio.messages
                with herald.store.connect() as conn:
                    (message_id,) = conn.exec_driver_sql("SELECT id FROM messages").scalars()
                page = await asyncio.to_thread(_viewer_reads, herald, clock, message_id)
                return page.replace(sid, "the-providers-id")
            finally:
                await herald.providers.close()
                herald.close()

    page = asyncio.run(main())
    assert "2 attempts so far" in page
    earlier = re.findall(r'<tr data-testid="earlier-attempt">(.*?)</tr>', page, re.S)
    assert len(earlier) == 1 and "twilio" in earlier[0] and "Failed, tried again" in earlier[0]
    assert "EAT" in earlier[0]  # when it failed, in the office's zone
    latest = re.search(r'<tr data-testid="latest-attempt">(.*?)</tr>', page, re.S)
    assert latest and "the-providers-id" in latest.group(1) and "twilio" in latest.group(1)
    assert NUMBER not in page and NUMBER[1:] not in page  # a viewer sees the number masked
