"""What a new officer met on pages that merged parts made together: a page sent back by a form keeps the header's
"Not sending" and the confirmation's warning, and the Jobs page says which runs it lists."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.services.auth import Role
from herald.services.presence import RUNS_JOBS
from herald.web.chart import Bar, Chart
from herald.web.pages import templates
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
        for seconds in ("30", "2", "5", "60")  # Update SMS outbound, Send, Get delivery reports, Catch up: defaults
    ]


def test_the_deliveries_chart_writes_its_counts_as_the_tabs_do() -> None:
    # The demo's campaign page showed "6655" atop its chart beside "Delivered 6,256" and tabs of "6,256".
    day = date(2026, 11, 20)
    bar = Bar(day, 6_256, 399, 10.0, 20.0, 0.0, 100.0, 0.0, 6.0, "20 Nov")
    html = templates.get_template("_chart.html").render(chart=Chart((bar,), 6_655, 6_256, 399))
    assert re.search(r'class="peak">6,655<', html)
    assert "20 Nov 2026: 6,256 delivered, 399 failed" in html
    assert "Deliveries per day: 6,256 delivered, 399 failed" in html
    assert "6655" not in html and "6256" not in html
