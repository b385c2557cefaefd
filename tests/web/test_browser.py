"""Browser tests: Playwright driving Debian's Chromium headless against the real app served by uvicorn.

The server runs in a thread on 127.0.0.1 with a hand-moved clock, so the test decides when the
schedule falls due and when the simulator's delivery reports arrive; the jobs run from the jobs
page's "Run now" buttons, as an officer would run them. The machinery is in tests/web/browser.py.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from herald.services.auth import Role
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, run_job, shot, tab_count
from tests.web.test_access import pending_campaign

pytestmark = browser_group(__name__)
browser, server, page = browser_fixtures()


def test_a_manager_creates_previews_activates_watches_and_closes_a_scheduled_campaign(
    page: Page, server: Server
) -> None:
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    shot(page, "01-campaigns-empty")
    page.click("text=New campaign")
    page.fill("input[name=campaignName]", "Instalments due soon")
    with page.expect_navigation():  # the form re-renders for the trigger type: the rules and fields follow
        page.select_option("select[name=triggerType]", "schedule")
    with page.expect_navigation():
        page.select_option("select[name=runReportId]", label="Loan payments due")
    expect(page.locator("input[name=campaignName]")).to_have_value("Instalments due soon")
    page.fill("input[name='param.fromX']", "-3")
    page.fill("input[name='param.toY']", "-1")
    page.fill("textarea[name=message]", "Dear {{fullName}}, your instalment of {{totalDue}} is due on ")
    page.click("button[data-var=paymentDueDate]")  # the variable picker inserts at the cursor
    expect(page.locator("textarea[name=message]")).to_have_value(
        "Dear {{fullName}}, your instalment of {{totalDue}} is due on {{paymentDueDate}}"
    )
    page.fill("input[name=recurrenceStartDate]", "2026-11-20T09:00")
    page.fill("input[name='schedule.at']", "09:00")  # the picker's time (daily by default)

    preview = page.locator("#preview")  # the live preview, fetched as the form changes
    expect(preview).to_contain_text("daily at 09:00 (Africa/Nairobi)")
    expect(preview.locator("ol.occurrences li")).to_have_count(5)
    expect(preview.locator("ol.occurrences li").first).to_have_text("Fri 20 Nov 2026 09:00 EAT")
    audience = int(preview.locator("[data-testid=audience]").inner_text().replace(",", ""))
    assert audience > 0
    assert int(preview.locator("[data-testid=segments]").inner_text().replace(",", "")) > 0
    expect(preview.locator("[data-testid=cost]")).to_contain_text("KES")
    expect(preview.locator("table.samples")).to_contain_text("is due on")
    shot(page, "02-campaign-form-with-preview")

    page.click("button:has-text('Create campaign')")
    expect(page.locator("h1 .badge")).to_have_text("Pending")
    page.click("[data-testid=activate-button]")  # it costs money: a dialog says how much first
    page.locator("dialog#confirm-dialog [data-testid=confirm]").click()
    expect(page.locator(".notice")).to_contain_text("Campaign activated")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    campaign_url = page.url.split("?")[0]

    server.clock.advance(hours=1, minutes=1)  # 09:01 in Nairobi: the first occurrence is due
    run_job(page, server, "update-outbound")
    run_job(page, server, "send")
    page.goto(campaign_url + "?tab=waiting")
    waiting = tab_count(page, "Waiting for delivery report")
    assert waiting > 0
    server.clock.advance(seconds=5)  # past the simulator's delivery delay
    run_job(page, server, "delivery-reports")
    shot(page, "03-jobs")

    page.goto(campaign_url + "?tab=delivered")
    delivered, failed = tab_count(page, "Delivered"), tab_count(page, "Failed")
    assert delivered > 0 and delivered + failed == waiting
    expect(page.locator("table.messages tbody tr").first).to_be_visible()
    expect(page.locator("svg.chart rect.delivered")).to_have_count(1)
    shot(page, "04-campaign-delivered")

    page.click("button:has-text('Close')")
    expect(page.locator("h1 .badge")).to_have_text("Closed")
    expect(page.locator("[data-testid=reactivate-button]")).to_be_visible()

    page.goto(f"{server.url}/providers")
    expect(page.locator("table")).to_contain_text("OK")
    shot(page, "05-providers")


def test_a_viewer_sees_no_activate_button_and_a_forged_post_is_refused(page: Page, server: Server) -> None:
    campaign_id = pending_campaign(server.herald, "Waiting for approval")
    log_in(page, server, Role.VIEWER)
    page.goto(f"{server.url}/campaigns/{campaign_id}")
    expect(page.locator("h1 .badge")).to_have_text("Pending")
    expect(page.locator("[data-testid=activate-button]")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    forged = page.request.post(f"{server.url}/campaigns/{campaign_id}/activate", form={"csrf_token": token})
    assert forged.status == 403
    assert "needs the campaign manager role" in forged.text()
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("Pending")


def test_pages_fit_a_phone_screen(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, server, Role.VIEWER)
        campaign_id = pending_campaign(server.herald, "Phone check")
        for path, name in ((f"/campaigns/{campaign_id}", "06-phone-campaign"), ("/campaigns", "07-phone-campaigns")):
            page.goto(server.url + path)
            # Wide tables scroll inside their own box; the page itself never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            shot(page, name)
        context.clear_cookies()
        log_in(page, server, Role.ADMIN)  # the admins' own pages: the audit log and the users
        for path, name in (("/audit", "08-phone-audit"), ("/users", "09-phone-users")):
            page.goto(server.url + path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            shot(page, name)
    finally:
        context.close()
