"""Browser journey: a campaign activated in the UI of a served herald with its worker (the documented path)
reaches Delivered on screen without a reload, at desktop and phone sizes, with screenshots.

The page is never reloaded by the test: a marker set on the page's window after activation must
still be there at the end, and the officer's scroll position and half-typed search survive the
page's own updates. The simulator's delivery reports come seconds after each send, so the page as
first shown has nothing delivered yet: what is delivered on screen later came through the polling.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from herald.services.auth import Role
from tests.web.browser import PHONE, browser_group, shot, tab_count
from tests.web.browser import browser as browser  # the module's Chromium (a fixture)
from tests.web.conftest import PASSWORD, USERNAMES, DemoCorebank
from tests.web.served import Served, herald_serve

pytestmark = browser_group(__name__)

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
MESSAGES_ON_SCREEN = "document.getElementById('messages').getBoundingClientRect().top"
DOCUMENTED_PATH = {  # herald serve's defaults, except the jobs' intervals and the simulator's report delays
    "HERALD_MATERIALIZE_INTERVAL": "0.5",
    "HERALD_SEND_INTERVAL": "0.5",
    "HERALD_REPORTS_INTERVAL": "0.5",
    "HERALD_SIMULATOR_SENT_AFTER": "0.5",
    "HERALD_SIMULATOR_DELIVERED_AFTER": "2.5",
    "HERALD_SIMULATOR_FAILURE_RATIO": "0.1",
}


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, herald_template: Path, demo_corebank: DemoCorebank
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("live-browser")
    with herald_serve(home, herald_template, demo_corebank.url, worker=True, **DOCUMENTED_PATH) as server:
        yield server


def create_campaign(served: Served, name: str) -> int:
    created = subprocess.run(
        [sys.executable, "-m", "herald", "campaigns", "create", "--name", name, "--rule", "166",
         "-p", "officeId=1", "--message", "Dear {{firstName}}, our office opens at 8 tomorrow."],
        env=served.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    found = re.search(r"campaign (\d+)", created.stdout)
    assert found, created.stdout
    return int(found.group(1))


def journey(browser: Browser, served: Served, viewport: ViewportSize, name: str) -> None:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    try:
        campaign_id = create_campaign(served, name)
        page.goto(f"{served.url}/login")
        page.fill("input[name=username]", USERNAMES[Role.CAMPAIGN_MANAGER])
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Log in')")
        expect(page).to_have_url(f"{served.url}/campaigns")
        page.goto(f"{served.url}/campaigns/{campaign_id}")
        expect(page.locator("#live-status")).to_be_hidden()  # a Pending campaign: nothing going on

        page.click("[data-testid=activate-button]")  # it costs money: the dialog says how much first
        page.locator("dialog#confirm-dialog [data-testid=confirm]").click()
        expect(page.locator(".notice")).to_contain_text("Campaign activated")
        assert tab_count(page, "Delivered") == 0  # as first shown: no report can have come yet
        expect(page.locator("#live-status")).to_be_visible()
        page.evaluate("window.notReloaded = true")
        search = page.locator("form.search input[name=q]")
        search.fill("Dear")  # half-typed, not submitted
        search.blur()
        shot(page, f"live-{name.lower().replace(' ', '-')}-in-flight")  # a full-page shot scrolls: first
        scrolled = page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight), window.scrollY")
        heading_at = page.evaluate(MESSAGES_ON_SCREEN)  # the "Messages" heading, from the top of the screen
        assert scrolled > 200 or viewport is DESKTOP  # down to the tabs (a desktop shows most of the page)

        expect(page.locator("nav.tabs a:has-text('Delivered') .count")).not_to_have_text("0", timeout=45_000)
        expect(page.locator("#live-status")).to_be_hidden(timeout=45_000)  # nothing in flight: polling ended
        for tab in ("Pending", "Waiting for delivery report", "Sent"):
            assert tab_count(page, tab) == 0, tab
        delivered, failed = tab_count(page, "Delivered"), tab_count(page, "Failed")
        assert delivered > 0 and failed >= 0
        expect(page.locator("#live-messages")).to_contain_text("0 messages")  # the Pending list, swapped in
        expect(page.locator("#live-chart svg.chart rect.delivered")).to_have_count(1)
        assert page.evaluate("window.notReloaded") is True
        expect(page.locator("#messages")).to_be_in_viewport()  # still where the officer was reading
        # Never thrown back to the top: what the officer was reading stays where it was on the screen, whatever
        # grew or left above it, unless the page, shorter now that the Pending list is empty, cannot scroll so far.
        furthest = page.evaluate("document.documentElement.scrollHeight - window.innerHeight")
        now_at, scroll = page.evaluate(MESSAGES_ON_SCREEN), page.evaluate("window.scrollY")
        assert abs(now_at - heading_at) <= 2 or scroll >= furthest - 2, (heading_at, now_at, scroll, furthest)
        expect(search).to_have_value("Dear")
        expect(page.locator("h1 .badge")).to_have_text("Active")
        expect(page.locator("main dl.facts")).not_to_contain_text("Next run")  # prepared: no run is due any more
        shot(page, f"live-{name.lower().replace(' ', '-')}-delivered")

        page.reload()  # what the page showed by itself is what a reload shows
        assert (tab_count(page, "Delivered"), tab_count(page, "Failed")) == (delivered, failed)
    finally:
        context.close()


def test_a_campaign_activated_on_a_desktop_reaches_delivered_on_screen_without_reloading(
    browser: Browser, served: Served
) -> None:
    journey(browser, served, DESKTOP, "Office hours desktop")


def test_a_campaign_activated_on_a_phone_reaches_delivered_on_screen_without_reloading(
    browser: Browser, served: Served
) -> None:
    journey(browser, served, PHONE, "Office hours phone")
