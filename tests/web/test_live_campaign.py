"""The campaign page's live state (/campaigns/{id}/live and the page's first paint): preparing a Direct
campaign with its count so far, messages in flight, and nothing to watch once everything is settled."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.services import campaigns
from herald.services.auth import Role
from herald.services.presence import RUNS_JOBS
from herald.worker import outbound_for, puller_for, sender_for
from tests.web.confirming import confirmed_post
from tests.web.conftest import csrf_of, log_in
from tests.web.test_access import pending_campaign


def live(client: TestClient, campaign_id: int) -> dict[str, Any]:
    answer = client.get(f"/campaigns/{campaign_id}/live")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    state: dict[str, Any] = answer.json()
    return state


def live_text(page: str) -> str:
    found = re.search(r'data-testid="live-text">([^<]*)<', page)
    assert found, "no live status on the page"
    return found.group(1).strip()


def test_an_activated_direct_campaign_says_it_is_being_prepared_then_in_flight_then_nothing(
    client: TestClient, herald: Herald, clock: ManualClock
) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    assert live(client, campaign_id)["inFlight"] is False  # a Pending campaign has nothing going on
    assert 'data-in-flight="0"' in client.get(f"/campaigns/{campaign_id}").text

    activated = confirmed_post(client, campaign_id, "activate", csrf_of(client))
    assert activated.status_code == 303
    state = live(client, campaign_id)
    assert (state["status"], state["preparing"], state["soFar"], state["inFlight"]) == ("Active", True, 0, True)
    assert state["workers"] is False
    page = client.get(f"/campaigns/{campaign_id}").text
    assert live_text(page) == "Waiting for a worker to prepare the messages: none is running."
    assert 'data-in-flight="1"' in page

    # A worker starts and has written part of the audience, the occurrence not yet marked done.
    herald.presence.kind = RUNS_JOBS
    herald.presence.beat()
    campaign = campaigns.get(campaign_id, store=herald.store)
    made = outbound_for(herald).materializer.materialize_all(campaign, None, herald.calendar.today(herald.clock.now()))
    assert made.created > 0
    state = live(client, campaign_id)
    assert (state["preparing"], state["soFar"], state["workers"]) == (True, made.created, True)
    assert live_text(client.get(f"/campaigns/{campaign_id}").text) == (f"Preparing messages… {made.created:,} so far.")

    # Done preparing: the messages are Pending, the page still watches them.
    outbound_for(herald).run_due()
    state = live(client, campaign_id)
    assert (state["preparing"], state["inFlight"], state["counts"]["pending"]) == (
        False,
        True,
        made.created - made.invalid,
    )
    assert live_text(client.get(f"/campaigns/{campaign_id}").text) == "Messages in flight: this page updates itself."

    # Sent and every report in: nothing left to watch, so the page stops polling.
    asyncio.run(sender_for(herald).run())
    clock.advance(seconds=10)  # past the simulator's delivery reports
    asyncio.run(puller_for(herald).pull())
    state = live(client, campaign_id)
    assert state["counts"]["pending"] == state["counts"]["waiting"] == state["counts"]["sent"] == 0
    assert state["counts"]["delivered"] + state["counts"]["failed"] == made.created - made.invalid
    assert state["inFlight"] is False
    assert 'data-in-flight="0"' in client.get(f"/campaigns/{campaign_id}").text


def test_the_live_state_needs_a_login_and_an_existing_campaign(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    assert client.get(f"/campaigns/{campaign_id}/live").status_code == 303  # to the login page
    log_in(client, Role.VIEWER)
    assert live(client, campaign_id)["status"] == "Pending"
    missing = client.get("/campaigns/999999/live")
    assert missing.status_code == 404
    assert "Traceback" not in missing.text
