"""The officer confirms before what costs money, in Chromium: activate through the dialog, re-send by failure code.

At desktop and phone sizes, and once with script off (the buttons are then links to the same
confirmation as a page). Failed messages come from the simulator through the jobs page's
"Run now" buttons, as in tests/web/test_browser.py. Screenshots go to var/screenshots/.
"""

from __future__ import annotations

from collections import Counter

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from herald.domain.message import MessageStatus
from herald.services.auth import Role
from herald.store.tables import messages
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, run_job, shot, tab_count
from tests.web.test_access import pending_campaign

pytestmark = browser_group(__name__)
browser, server, page = browser_fixtures()


def activate_through_the_dialog(page: Page, name: str) -> None:
    dialog = page.locator("dialog#confirm-dialog")
    page.click("[data-testid=activate-button]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-testid=estimate-audience]")).to_contain_text("clients")
    expect(dialog.locator("[data-testid=estimate-cost]")).to_contain_text("KES")
    shot(page, f"{name}-activate-dialog")
    dialog.locator("[data-cancel]").click()  # changing one's mind costs nothing
    expect(dialog).to_be_hidden()
    expect(page.locator("h1 .badge")).to_have_text("Pending")
    page.click("[data-testid=activate-button]")
    dialog.locator("[data-testid=confirm]").click()
    expect(page.locator(".notice")).to_contain_text("Campaign activated")
    expect(page.locator("h1 .badge")).to_have_text("Active")


def test_a_manager_activates_through_the_dialog_and_resends_one_failure_code(page: Page, server: Server) -> None:
    campaign_id = pending_campaign(server.herald, "Confirm at the desk")
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/campaigns/{campaign_id}")
    activate_through_the_dialog(page, "20-desktop")

    run_job(page, server, "update-outbound")  # the Direct campaign's messages
    run_job(page, server, "send")
    server.clock.advance(seconds=5)  # past the simulator's delivery delay
    run_job(page, server, "delivery-reports")
    with server.herald.store.connect() as conn:
        query = select(messages.c.error_code).where(
            messages.c.campaign_id == campaign_id, messages.c.status == MessageStatus.FAILED
        )
        failed = Counter(conn.execute(query).scalars())
    (code, count), *others = failed.most_common()
    assert others, failed  # two codes at least, so choosing one is a choice

    page.goto(f"{server.url}/campaigns/{campaign_id}?tab=failed")
    expect(page.locator("[data-testid=resent-as]")).to_have_count(0)
    dialog = page.locator("dialog#confirm-dialog")
    page.click("[data-testid=resend-button]")
    expect(dialog.locator("table.codes")).to_contain_text(code)
    expect(dialog.locator("[data-testid=estimate-audience]")).to_have_text(f"{sum(failed.values()):,}")
    for other, _ in others:  # only the most common code
        dialog.locator(f"input[type=checkbox][value='{other}']").uncheck()
    dialog.locator("[data-testid=choose-codes]").click()
    expect(dialog.locator("[data-testid=estimate-audience]")).to_have_text(f"{count:,}")
    shot(page, "21-desktop-resend-by-code")
    dialog.locator("[data-testid=confirm]").click()
    expect(page.locator("[data-testid=resend-result]")).to_contain_text(
        f"{count:,} failed message{'' if count == 1 else 's'} queued again"
    )
    shot(page, "22-desktop-resend-done")

    page.goto(f"{server.url}/campaigns/{campaign_id}?tab=failed")
    rows = page.locator("table.messages tbody tr")
    expect(rows.first).to_be_visible()
    for i in range(rows.count()):  # a mark on each row of the chosen code, on no other
        row = rows.nth(i)
        chosen = row.locator("td code").inner_text() == code
        assert row.locator("[data-testid=resent-as]").count() == (1 if chosen else 0), row.inner_text()
    page.locator("[data-testid=resent-as]").first.click()
    expect(page.locator("nav.tabs a[aria-current=page]")).to_contain_text("Pending")
    expect(page.locator("[data-testid=resend-of]").first).to_be_visible()
    assert tab_count(page, "Pending") == count
    shot(page, "23-desktop-resent-marks")


def test_on_a_phone_the_dialog_fits_and_activates(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        campaign_id = pending_campaign(server.herald, "Confirm on the phone")
        log_in(page, server, Role.CAMPAIGN_MANAGER)
        page.goto(f"{server.url}/campaigns/{campaign_id}")
        page.click("[data-testid=activate-button]")
        dialog = page.locator("dialog#confirm-dialog")
        expect(dialog.locator("[data-testid=confirm]")).to_be_in_viewport()
        box = dialog.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "24-phone-activate-dialog")
        dialog.locator("[data-cancel]").click()
        activate_through_the_dialog(page, "25-phone")
    finally:
        context.close()


def test_without_script_the_confirmation_is_a_page_and_still_needed(browser: Browser, server: Server) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        campaign_id = pending_campaign(server.herald, "Confirm without script")
        log_in(page, server, Role.CAMPAIGN_MANAGER)
        page.goto(f"{server.url}/campaigns/{campaign_id}")
        page.click("[data-testid=activate-button]")
        expect(page).to_have_url(f"{server.url}/campaigns/{campaign_id}/activate")
        expect(page.locator("[data-testid=estimate-cost]")).to_contain_text("KES")
        shot(page, "26-no-script-confirmation-page")
        page.click("[data-testid=confirm]")
        expect(page.locator("h1 .badge")).to_have_text("Active")
    finally:
        context.close()
