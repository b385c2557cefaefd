"""A new officer's look at the merged pages in Chromium, at desktop and phone sizes, with screenshots: what the
parts built side by side got wrong together (a blank band atop cards, a header without its Sending pill)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from herald.services import campaigns
from herald.services.auth import Role
from tests.campaign_parts import activating
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, shot
from tests.web.test_access import pending_campaign

pytestmark = browser_group(__name__)
browser, server, page = browser_fixtures()

SIZES: dict[str, ViewportSize] = {"desktop": {"width": 1366, "height": 768}, "phone": PHONE}


def heading_gap(page: Page, card: str) -> float:
    """Pixels between a card's top edge and its first heading's (its padding and border are 17)."""
    gap = page.evaluate(
        """(selector) => {
            const card = document.querySelector(selector), heading = card.querySelector("h2");
            return heading.getBoundingClientRect().top - card.getBoundingClientRect().top;
        }""",
        card,
    )
    assert isinstance(gap, int | float)
    return float(gap)


@pytest.mark.parametrize("size", SIZES)
def test_cards_begin_with_their_heading_on_the_campaign_page_and_the_form(
    page: Page, server: Server, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    campaign_id = pending_campaign(server.herald, f"Cards {size}")
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/campaigns/{campaign_id}")
    expect(page.locator("[data-testid=campaign-preview] h2")).to_have_text("Preview before activation")
    shot(page, f"review-campaign-preview-{size}")
    assert heading_gap(page, "[data-testid=campaign-preview]") < 24  # 41 with h2's own 1.5rem on top
    page.goto(f"{server.url}/campaigns/new")
    expect(page.locator("section.form-preview h2")).to_have_text("Preview")
    shot(page, f"review-form-{size}")
    assert heading_gap(page, "section.form-preview") < 24


SPLIT_WORDS = """(table) => [...document.querySelectorAll(table + " tbody td")].flatMap((cell) => {
    const text = cell.textContent.trim();
    if (!text || /\\s/.test(text) || text.length > 24) return [];  // only one short word, which must not break
    const range = document.createRange();
    range.selectNodeContents(cell);
    return range.getClientRects().length > 1 ? [text] : [];
})"""


@pytest.mark.parametrize("size", SIZES)
def test_the_audit_log_never_breaks_a_short_word_across_lines(page: Page, server: Server, size: str) -> None:
    # At 1366 px the log read "syste / m", "campaign.activat / e" and "(unknown / )": cells may break anywhere
    # (so that a long URL wraps), and the widest column, the details, took the short ones' room.
    page.set_viewport_size(SIZES[size])
    name = f"Loan payments received (Active Loans): Nairobi Central, Westlands, Thika Road {size}"
    campaign_id = pending_campaign(server.herald, name)  # a long target and details: the log fills the screen
    campaigns.activate(campaign_id, **activating(server.herald))
    log_in(page, server, Role.ADMIN)
    page.goto(f"{server.url}/audit")
    expect(page.locator("table.audit td", has_text="campaign.activate").first).to_be_visible()
    shot(page, f"review-audit-{size}")
    assert page.evaluate(SPLIT_WORDS, "table.audit") == []
