"""The pages and the API when the core bank cannot be read: the sentence saying why, never a 500 or a traceback.

herald's own database is fine and holds a campaign; only the core bank is gone (its SQLite file
missing), as when HERALD_COREBANK_URL points at the wrong place or Fineract's server is down.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from herald.app import Herald
from herald.clock import ManualClock
from herald.server import create_app
from herald.services import auth, campaigns
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from herald.services.corebank_health import outages
from herald.worker import Worker
from tests.campaign_parts import activating, validating
from tests.web.confirming import confirmation_of
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
    code = confirmation_of(client, f"/campaigns/{broken.campaign_id}/activate")  # the estimate says it cannot count
    activated = client.post(
        f"/campaigns/{broken.campaign_id}/activate",
        data={"csrf_token": csrf, "confirmation": code},
        follow_redirects=True,
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
    assert 'data-label="Tenant">default</td>' in row and "Update SMS Outbound with Campaign Message" in row
    assert says_missing(row, broken.missing)
    assert re.search(r"20 Nov 2026 08:00:00 EAT", row)  # since when, in the installation's zone

    recovered = Herald.build(herald_settings(tmp_path, demo_corebank), clock)
    try:
        Worker(recovered).tick(force=True)
    finally:
        recovered.close()
    assert 'class="outages"' not in client.get("/jobs").text


def test_one_tenant_s_broken_core_bank_holds_its_campaigns_while_the_other_tenant_s_are_sent(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, clock: ManualClock
) -> None:
    kampala_file = tmp_path / "kampala" / "fineract.sqlite"
    kampala_file.parent.mkdir()
    source = make_url(demo_corebank.url).database
    assert source
    shutil.copy(source, kampala_file)
    both = {"tenants": json.dumps({"kampala": f"sqlite:///{kampala_file}"})}
    working = build_herald(tmp_path, herald_template, demo_corebank, clock)
    working.close()

    def herald() -> Herald:
        return Herald.build(herald_settings(tmp_path, demo_corebank).model_copy(update=both), clock)

    first = herald()
    ids = {}
    for tenant in ("default", "kampala"):
        request = CampaignRequest.model_validate(
            {
                "campaignName": f"Everyone in {tenant}",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
                "message": "Hello {{firstName}}",
                "tenantId": tenant,
            }
        )
        ids[tenant] = campaigns.create(request, **validating(first)).id
        campaigns.activate(ids[tenant], **activating(first))
    first.close()

    kampala_file.rename(kampala_file.with_suffix(".moved"))  # Kampala's Fineract server goes away
    second = herald()
    try:
        Worker(second).tick(force=True)
        counts = campaigns.message_counts(store=second.store)
        assert sum(counts.get(ids["default"], {}).values()) > 0  # Nairobi's campaign went on
        assert sum(counts.get(ids["kampala"], {}).values()) == 0  # Kampala's waits, still due
        [outage] = outages(second.store)
        assert outage.tenant == "kampala" and "tenant 'kampala' in HERALD_TENANTS" in outage.reason
    finally:
        second.close()

    kampala_file.with_suffix(".moved").rename(kampala_file)  # back: the next pass sends Kampala's too
    third = herald()
    try:
        Worker(third).tick(force=True)
        assert sum(campaigns.message_counts(store=third.store).get(ids["kampala"], {}).values()) > 0
        assert outages(third.store) == []
    finally:
        third.close()
