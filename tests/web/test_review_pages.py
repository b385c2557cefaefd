"""What a new officer met on pages that merged parts made together: a page sent back by a form keeps the header's
"Not sending" and the confirmation's warning, and the Jobs page says which runs it lists."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.services.auth import Role
from herald.services.presence import RUNS_JOBS
from tests.web.conftest import csrf_of, log_in
from tests.web.test_access import pending_campaign
from tests.web.test_pages import SCHEDULED


def test_a_form_sent_back_with_its_preview_still_says_nothing_is_sending(client: TestClient) -> None:
    # The form's "Update choices" and Preview answer a POST: the header lost its Sending / Not sending pill there.
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client, "/campaigns/new")
    for action in ("refresh", "preview", "save"):
        form = {**SCHEDULED, "csrf_token": token, "action": action, "message": "Dear {{nope}}"}
        page = client.post("/campaigns/new", data=form)
        assert page.status_code in (200, 422), action  # a refused save is a 422 page
        assert "Not sending: no worker" in page.text, action


def test_an_activation_asked_again_still_warns_that_no_worker_runs(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    campaign_id = pending_campaign(herald)
    token = csrf_of(client, f"/campaigns/{campaign_id}")
    # No confirmation code (an old page, a script): herald asks again rather than activating.
    page = client.post(f"/campaigns/{campaign_id}/activate", data={"csrf_token": token})
    assert page.status_code == 409
    assert 'data-testid="no-worker"' in page.text
    assert "Not sending: no worker" in page.text


def test_the_jobs_page_says_a_workers_idle_runs_are_not_recorded(client: TestClient, herald: Herald) -> None:
    # With `herald serve` running, every card's "Last run" stayed at the demo's minutes after the worker had
    # looked dozens of times: a run that finds nothing is not recorded, and the page now says so, per job.
    log_in(client, Role.VIEWER)
    assert 'data-testid="job-interval"' not in client.get("/jobs").text  # no worker: nothing runs by itself
    herald.presence.kind = RUNS_JOBS
    herald.presence.beat()
    page = client.get("/jobs").text
    sentences = re.findall(r'data-testid="job-interval">([^<]*)<', page)
    assert sentences == [
        f"A worker runs it every {seconds} s; a run that finds nothing to do is not recorded."
        for seconds in ("30", "2", "5")  # Update SMS outbound, Send, Get delivery reports: herald's defaults
    ]
