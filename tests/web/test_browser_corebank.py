"""Browser journeys on a core bank that cannot be read, at desktop and phone sizes: what the IT person and officer see.

The served herald's core bank file is missing (moved, or HERALD_COREBANK_URL mistyped) while its
own database holds a campaign; a worker pass has met the missing file, as `herald serve` would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from herald.app import Herald
from herald.clock import ManualClock
from herald.services.auth import Role
from herald.worker import Worker
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, serving, shot
from tests.web.conftest import START, DemoCorebank, build_herald, herald_settings
from tests.web.test_access import pending_campaign

pytestmark = browser_group(__name__)
browser, _server, page = browser_fixtures()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, herald_template: Path, demo_corebank: DemoCorebank
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("browser-corebank")
    clock = ManualClock(START)
    working = build_herald(home, herald_template, demo_corebank, clock)
    pending_campaign(working, "Everyone in Nairobi")
    working.close()
    missing = home / "moved" / "fineract.sqlite"
    herald = Herald.build(herald_settings(home, DemoCorebank(f"sqlite:///{missing}", demo_corebank.offices)), clock)
    # A worker pass meets the missing core bank; in a thread of its own, away from Playwright's event loop.
    passed = threading.Thread(target=lambda: Worker(herald).tick(force=True))
    passed.start()
    passed.join(timeout=30)
    with serving(herald) as url:
        yield Server(url, herald, clock)
    herald.close()
    assert not missing.exists()  # nothing the pages did made a file at the core bank's path


def test_the_it_person_sees_which_core_bank_is_broken_why_and_since_when_on_the_jobs_page(
    page: Page, server: Server
) -> None:
    log_in(page, server, Role.VIEWER)
    page.goto(f"{server.url}/jobs")
    outage = page.locator("section.corebank-outages")
    expect(outage.locator("[role=alert]")).to_contain_text("The worker cannot read this core bank")
    row = outage.locator("table.outages tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("default")
    expect(row.locator("td").nth(1)).to_have_text("Update SMS Outbound with Campaign Message")
    expect(row.locator("td.reason")).to_contain_text("No core-banking database at")
    expect(row.locator("td.reason")).to_contain_text("Set HERALD_COREBANK_URL")
    expect(row.locator("td").nth(3)).to_have_text("20 Nov 2026 08:00:00 EAT")
    shot(page, "corebank-01-jobs-outage-desktop")

    page.set_viewport_size(PHONE)
    page.goto(f"{server.url}/jobs")
    expect(outage.locator("[role=alert]")).to_be_visible()
    # A card on a phone: every cell inside the screen's width, none scrolled out of sight.
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    expect(row.locator("td.reason")).to_contain_text("No core-banking database at")
    shot(page, "corebank-02-jobs-outage-phone")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_officer_is_told_why_on_the_campaign_page_and_in_the_campaign_form(
    page: Page, server: Server, size: str
) -> None:
    if size == "phone":
        page.set_viewport_size(PHONE)
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.click("text=Everyone in Nairobi")
    notice = page.locator(".corebank-problem")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("The core-banking database cannot be read")
    expect(notice).to_contain_text("No core-banking database at")
    shot(page, f"corebank-03-campaign-page-{size}")

    # The form cannot offer the offices; its parameters step says why, where the officer looks for them.
    page.goto(f"{server.url}/campaigns/new")
    parameters = page.locator("fieldset", has=page.locator("legend", has_text="Parameters"))
    said = parameters.locator("p.error")
    said.scroll_into_view_if_needed()
    expect(said).to_be_visible()
    expect(said).to_contain_text("No core-banking database at")
    expect(said).to_contain_text("HERALD_COREBANK_URL")
    shot(page, f"corebank-04-form-{size}")
