"""Browser journeys of the schedule picker: an officer makes a weekly campaign at desktop and phone sizes.

The officer never writes an RRULE: she ticks days, types a time and picks a zone; the live preview
says the schedule, the next occurrences in that zone and the cost per run and per month; the
campaign page then shows its start and next run with the zone, and "not run yet" once activated.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from herald.services.auth import Role
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, shot

pytestmark = browser_group(__name__)
browser, server, page = browser_fixtures()


def _pick_weekly(page: Page, server: Server, name: str) -> None:
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/campaigns/new")
    page.fill("input[name=campaignName]", name)
    with page.expect_navigation():  # the form re-renders with the schedule's step
        page.select_option("select[name=triggerType]", "schedule")
    page.fill("textarea[name=message]", "Dear {{firstName}}, the branch is open for you today.")
    page.check("input[name='schedule.kind'][value=weekly]")
    page.check("input[name='schedule.days'][value=MO]")
    page.check("input[name='schedule.days'][value=TH]")
    page.fill("input[name='schedule.at']", "09:30")
    page.select_option("select[name=timezone]", "Africa/Kampala")


def test_a_weekly_campaign_made_with_the_picker_at_desktop_size(page: Page, server: Server) -> None:
    _pick_weekly(page, server, "Branch days")
    expect(page.locator("input[name='schedule.monthDay']")).to_be_hidden()  # only the chosen kind's fields
    expect(page.locator("input[name=recurrence]")).to_be_hidden()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("weekly on Monday, Thursday at 09:30 (Africa/Kampala)")
    expect(preview.locator("ol.occurrences li").first).to_have_text("Mon 23 Nov 2026 09:30 EAT")
    expect(preview.locator("ol.occurrences li").nth(1)).to_have_text("Thu 26 Nov 2026 09:30 EAT")
    expect(preview.locator("[data-testid=run-cost]")).to_contain_text("runs in the next 30 days")
    expect(preview.locator("[data-testid=run-cost]")).to_contain_text("Per month:")
    shot(page, "schedule-01-picker-desktop")

    page.click("button:has-text('Create campaign')")
    expect(page.locator("h1 .badge")).to_have_text("Pending")
    schedule = page.locator("[data-testid=schedule]")
    expect(schedule).to_have_text(
        "weekly on Monday, Thursday at 09:30 (Africa/Kampala), from 20 Nov 2026 08:00 EAT"
    )  # created at 05:00 UTC: 08:00 in Kampala, not "08:00" read off the UTC clock
    page.click("[data-testid=activate-button]")  # it costs money: the dialog says how much first
    dialog = page.locator("dialog#confirm-dialog")
    expect(dialog).to_contain_text("per run")
    dialog.locator("[data-testid=confirm]").click()
    expect(page.locator("h1 .badge")).to_have_text("Active")
    expect(page.locator("[data-testid=next-run]")).to_have_text("23 Nov 2026 09:30 EAT")
    expect(page.locator("[data-testid=last-run]")).to_have_text("not run yet")
    shot(page, "schedule-02-campaign-desktop")


def test_a_weekly_campaign_made_with_the_picker_on_a_phone(page: Page, server: Server) -> None:
    page.set_viewport_size(PHONE)
    _pick_weekly(page, server, "Branch days on a phone")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("weekly on Monday, Thursday at 09:30 (Africa/Kampala)")
    expect(preview.locator("[data-testid=run-cost]")).to_contain_text("Per month:")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the form is {width} px wide on a {PHONE['width']} px phone"
    shot(page, "schedule-03-picker-phone")

    page.check("input[name='schedule.kind'][value=rrule]")  # Advanced: the picker's rule, to write on from
    rrule = page.locator("input[name=recurrence]")
    expect(rrule).to_be_visible()
    expect(rrule).to_have_value("FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=30")
    expect(page.locator("input[name='schedule.at']")).to_be_hidden()
    rrule.fill("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=30")
    expect(preview).to_contain_text("every 2 weeks on Monday at 09:30 (Africa/Kampala)")
    page.click("button:has-text('Create campaign')")
    expect(page.locator("[data-testid=schedule]")).to_contain_text("every 2 weeks on Monday at 09:30")
    shot(page, "schedule-04-campaign-phone")
