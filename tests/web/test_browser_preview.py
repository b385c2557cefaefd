"""The officer's preview in Chromium, at desktop and phone sizes: warnings, the GSM-7 fix, errors at their field,
the campaign page's preview before activation and a Triggered campaign's page (issue 12 items 9, 15, 16)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from herald.services import campaigns
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from tests.campaign_parts import validating
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, shot

pytestmark = browser_group(__name__)
browser, server, page = browser_fixtures()

SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": PHONE}
CURLY = "Dear {{firstName}} {{middleName}}, it\u2019s time \u2013 come by\u2026"


def _campaign(server: Server, name: str, trigger: str, rule: int, message: str) -> int:
    request = CampaignRequest.model_validate(
        {
            "campaignName": name,
            "triggerType": trigger,
            "runReportId": rule,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": message,
        }
    )
    return campaigns.create(request, **validating(server.herald)).id


@pytest.mark.parametrize("size", SIZES)
def test_the_form_shows_errors_at_their_field_warns_and_use_gsm7_rewrites_the_message(
    page: Page, server: Server, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/campaigns/new")
    page.fill("input[name=campaignName]", f"Curly {size}")
    page.fill("textarea[name=message]", "Hi {{nickname}}")
    page.click("button:has-text('Create campaign')")
    error = page.locator("label:has(textarea[name=message]) .field-error")
    expect(error).to_contain_text("{{nickname}} is not provided")
    expect(page.locator("p.error[role=alert]")).to_have_count(0)  # next to the field, not above the form
    error.scroll_into_view_if_needed()
    shot(page, f"preview-field-error-{size}")
    page.fill("textarea[name=message]", CURLY)
    expect(error).to_have_count(0)  # typing in the field clears its stale error
    warnings = page.locator("[data-testid=preview-warnings]")
    expect(warnings.get_by_text("{{middleName}} is empty for")).to_be_visible()
    expect(warnings.locator("[data-kind=ucs2_template]")).to_contain_text("\u2019 (curly quote")
    page.evaluate("window.scrollTo(0, 0)")
    form_box = page.locator("#campaign-form").bounding_box()
    preview_box = page.locator("section.form-preview").bounding_box()
    assert form_box and preview_box
    if size == "desktop":  # beside the form, not under it
        assert preview_box["x"] >= form_box["x"] + form_box["width"] - 1 and preview_box["y"] < form_box["y"] + 200
    else:  # stacked, and the page does not scroll sideways
        assert preview_box["y"] >= form_box["y"] + form_box["height"] - 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"preview-warnings-{size}")
    page.click("text=Use GSM-7 characters")
    expect(page.locator("textarea[name=message]")).to_have_value(
        "Dear {{firstName}} {{middleName}}, it's time - come by..."
    )
    expect(warnings.locator("[data-kind=ucs2_template]")).to_have_count(0)
    expect(page.get_by_text("{{middleName}} is empty for")).to_be_visible()
    shot(page, f"preview-gsm7-applied-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_the_campaign_page_previews_before_activation(page: Page, server: Server, size: str) -> None:
    page.set_viewport_size(SIZES[size])
    campaign_id = _campaign(server, f"Before activation {size}", "direct", 166, CURLY)
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/campaigns/{campaign_id}")
    panel = page.locator("[data-testid=campaign-preview]")
    expect(panel.locator("[data-testid=audience]")).to_have_text(re.compile(r"[1-9][\d,]*"))
    expect(panel.locator("table.samples tbody tr").first).to_be_visible()
    expect(panel.locator("[data-kind=ucs2_template]")).to_be_visible()
    shot(page, f"preview-campaign-page-{size}")
    panel.locator("text=Use GSM-7 characters").click()
    expect(page.locator("textarea[name=message]")).to_have_value(
        "Dear {{firstName}} {{middleName}}, it's time - come by..."
    )
    page.click("button:has-text('Save')")
    expect(page.locator("[data-testid=campaign-preview] [data-kind=ucs2_template]")).to_have_count(0)
    expect(page.locator("pre.template")).to_have_text("Dear {{firstName}} {{middleName}}, it's time - come by...")


@pytest.mark.parametrize("size", SIZES)
def test_a_triggered_campaign_page_shows_a_real_sample_and_the_hook(page: Page, server: Server, size: str) -> None:
    page.set_viewport_size(SIZES[size])
    message = "Asante {{firstname}}, we received {{repaymentAmount}}. Balance {{LoanOutstanding}}."
    campaign_id = _campaign(server, f"Repayments {size}", "triggered", 179, message)
    log_in(page, server, Role.VIEWER)
    page.goto(f"{server.url}/campaigns/{campaign_id}")
    panel = page.locator("[data-testid=triggered-status]")
    expect(panel.locator("[data-testid=triggered-sample]")).to_have_text(
        re.compile(r"Asante \w+, we received [A-Z]{3} [\d,.]+\. Balance [A-Z]{3} [\d,.]+\.")
    )
    expect(panel).to_contain_text("Set HERALD_PUBLIC_URL")  # the test server has no public URL
    expect(panel.locator("[data-testid=hook-arrived]")).to_contain_text("Never")
    expect(page.locator("[data-testid=campaign-preview]")).to_have_count(0)
    shot(page, f"preview-triggered-{size}")
