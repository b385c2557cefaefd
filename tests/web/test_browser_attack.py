"""Browser journeys of what the attack on issue 12's pages fixed, at desktop and phone sizes: a reason that quotes
a phone number is masked for a campaign manager on the Opt-outs page and cannot be searched digit by digit, and a
Messages search with a day at the calendar's edge shows its results instead of an error page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from herald.services import campaigns
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from herald.worker import outbound_for
from tests.campaign_parts import activating, validating
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, shot

pytestmark = browser_group(__name__)
browser, server, _ = browser_fixtures()

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    size = str(request.param)
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone)
    context.set_default_timeout(10_000)
    yield size, context.new_page()
    context.close()


def test_a_reason_quoting_a_number_is_masked_and_cannot_be_searched_digit_by_digit(
    sized: tuple[str, Page], server: Server
) -> None:
    size, page = sized
    own, quoted = ("0712 345 611", "0733 111 221") if size == "desktop" else ("0712 345 612", "0733 111 222")
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/optouts")
    add = page.locator("#optout-add")
    add.get_by_label("Number").fill(own)
    add.get_by_label("Reason").fill(f"her son called from {quoted}")
    add.get_by_role("button", name="Add to the opt-out list").click()
    expect(page.locator(".notice")).to_contain_text("Number put on the opt-out list")
    row = page.locator("table.optouts tbody tr", has_text=f"+2547******{own[-2:]}")
    expect(row).to_contain_text(f"her son called from 07******{quoted[-2:]}")
    expect(page.locator("main")).not_to_contain_text(quoted)
    shot(page, f"attack-optout-reason-masked-{size}")

    search = page.get_by_label("Search the opt-out list")
    search.fill("called from 0733")
    search.press("Enter")
    expect(page.locator("main")).to_contain_text("Only admins can search the reasons for digits")
    expect(page.locator("table.optouts")).to_have_count(0)
    shot(page, f"attack-optout-digits-refused-{size}")


def test_a_search_from_the_first_day_of_the_calendar_lists_the_messages(
    sized: tuple[str, Page], server: Server
) -> None:
    size, page = sized
    herald = server.herald
    request = CampaignRequest.model_validate(
        {
            "campaignName": f"Edge days {size}",
            "triggerType": "direct",
            "runReportId": 166,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": "Hello {{firstName}}",
        }
    )
    campaign_id = campaigns.create(request, **validating(herald)).id
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    log_in(page, server, Role.VIEWER)
    page.goto(f"{server.url}/messages?campaign={campaign_id}&from=0001-01-01&to=9999-12-31")
    expect(page.locator("h1")).to_contain_text("Messages")
    expect(page.locator("main table tbody tr").first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("herald failed on this page")
    shot(page, f"attack-messages-edge-days-{size}")
