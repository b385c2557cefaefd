"""The pages and the API when the core bank cannot be read: the sentence saying why, never a 500 or a traceback.

herald's own database is fine and holds a campaign; only the core bank is gone (its SQLite file
missing), as when HERALD_COREBANK_URL points at the wrong place or Fineract's server is down.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.server import create_app
from herald.services import auth
from herald.services.auth import Role
from herald.worker import Worker
from tests.web.conftest import DemoCorebank, build_herald, csrf_of, herald_settings, log_in
from tests.web.test_access import pending_campaign
from tests.web.test_pages import SCHEDULED


@dataclass(frozen=True)
class Broken:
    client: TestClient
    herald: Herald
    campaign_id: int
    missing: Path


@pytest.fixture
def broken(tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, clock: ManualClock) -> Iterator[Broken]:
    """A campaign made while the core bank answered, then the same herald with its core bank file gone."""
    working = build_herald(tmp_path, herald_template, demo_corebank, clock)
    campaign_id = pending_campaign(working)
    working.close()
    missing = tmp_path / "moved" / "fineract.sqlite"
    herald = Herald.build(herald_settings(tmp_path, DemoCorebank(f"sqlite:///{missing}", demo_corebank.offices)), clock)
    with TestClient(create_app(herald), raise_server_exceptions=False, follow_redirects=False) as client:
        yield Broken(client, herald, campaign_id, missing)
    herald.close()
    assert not missing.exists() and not missing.parent.exists()  # nothing anywhere made a file there


def says_missing(text: str, missing: Path) -> bool:
    return f"No core-banking database at {missing}" in text and "HERALD_COREBANK_URL" in text


def test_the_form_and_its_live_preview_say_why_the_audience_cannot_be_read(broken: Broken) -> None:
    client = broken.client
    log_in(client, Role.CAMPAIGN_MANAGER)
    form = client.get("/campaigns/new")
    assert form.status_code == 200 and says_missing(form.text, broken.missing)
    fragment = client.post("/campaigns/form-preview", data={**SCHEDULED, "csrf_token": csrf_of(client)})
    assert fragment.status_code < 500
    assert 'role="alert"' in fragment.text and says_missing(fragment.text, broken.missing)
    assert "Traceback" not in fragment.text and "OperationalError" not in fragment.text


def test_the_campaign_page_says_its_core_bank_cannot_be_read(broken: Broken) -> None:
    client = broken.client
    log_in(client, Role.CAMPAIGN_MANAGER)
    page = client.get(f"/campaigns/{broken.campaign_id}")
    assert page.status_code == 200
    notice = re.search(r'<p class="warning corebank-problem" role="alert">(.*?)</p>', page.text, re.S)
    assert notice and "cannot be read" in notice.group(1) and says_missing(notice.group(1), broken.missing)
    # Activation itself reads nothing (the worker makes the messages); the page it leads to says they wait.
    csrf = csrf_of(client, f"/campaigns/{broken.campaign_id}")
    activated = client.post(
        f"/campaigns/{broken.campaign_id}/activate", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert activated.status_code == 200
    assert "no new message can be made" in activated.text and says_missing(activated.text, broken.missing)


def test_the_api_answers_503_with_the_sentence(broken: Broken) -> None:
    token = auth.issue_token("manager", "tests", store=broken.herald.store, clock=broken.herald.clock).token
    headers = {"Authorization": f"Bearer {token}"}
    for answer in (
        broken.client.post(f"/api/v1/campaigns/{broken.campaign_id}/preview", headers=headers),
        broken.client.get("/api/v1/rules/166", headers=headers),
    ):
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["code"] == "corebank_unavailable" and says_missing(error["message"], broken.missing)


def test_the_jobs_page_shows_the_broken_core_bank_until_a_worker_reads_it_again(
    broken: Broken, tmp_path: Path, demo_corebank: DemoCorebank, clock: ManualClock
) -> None:
    Worker(broken.herald).tick(force=True)  # the real worker pass, on the broken core bank
    client = broken.client
    log_in(client, Role.VIEWER)
    jobs = client.get("/jobs").text
    table = re.search(r'<table class="outages">(.*?)</table>', jobs, re.S)
    assert table, jobs
    row = re.sub(r"\s+", " ", table.group(1))
    assert "<td>default</td>" in row and "Update SMS Outbound with Campaign Message" in row
    assert says_missing(row, broken.missing)
    assert re.search(r"20 Nov 2026 08:00:00 EAT", row)  # since when, in the installation's zone

    recovered = Herald.build(herald_settings(tmp_path, demo_corebank), clock)
    try:
        Worker(recovered).tick(force=True)
    finally:
        recovered.close()
    assert 'class="outages"' not in client.get("/jobs").text
