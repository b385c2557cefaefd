"""Browser journeys of the admin pages as an officer and an admin do them, at desktop and phone sizes: put a
number on the opt-out list and take it off again, set an office's time zone, create a user who then logs in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from herald.services import auth
from herald.services.auth import Role
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, shot

pytestmark = browser_group(__name__)
browser, server, _ = browser_fixtures()

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    """A page at one of the two sizes, named for its screenshots; confirmation dialogs are accepted."""
    size = str(request.param)
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield size, page
    context.close()


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def open_from_menu(page: Page, label: str) -> None:
    page.locator("header.top nav").get_by_role("link", name=label).click()
    expect(page.locator("h1")).to_contain_text(label)


def test_a_manager_puts_a_number_on_the_opt_out_list_and_takes_it_off(sized: tuple[str, Page], server: Server) -> None:
    size, page = sized
    local = "0712 345 601" if size == "desktop" else "0712 345 602"
    masked = f"+2547******{local[-2:]}"
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    open_from_menu(page, "Opt-outs")
    add = page.locator("#optout-add")
    add.get_by_label("Number").fill(local)
    add.get_by_label("Reason").fill("asked at the branch")
    add.get_by_role("button", name="Add to the opt-out list").click()
    expect(page.locator(".notice")).to_contain_text("Number put on the opt-out list")
    row = page.locator("table.optouts tbody tr", has_text=masked)
    expect(row).to_contain_text("asked at the branch")
    expect(page.locator("table.optouts")).not_to_contain_text(local.replace(" ", "")[1:])  # masked for a manager
    fits(page)
    shot(page, f"admin-optouts-added-{size}")

    page.get_by_role("searchbox").fill(local)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-testid=optout-total]")).to_have_text(f"1 match for the number {masked}.")
    shot(page, f"admin-optouts-search-{size}")

    remove = page.locator("#optout-remove")
    remove.get_by_label("Number").fill(local)
    remove.get_by_label("Reason").fill("wants reminders again")
    remove.get_by_role("button", name="Take off the list").click()  # the confirmation is accepted
    expect(page.locator(".notice")).to_contain_text("taken off the opt-out list")
    expect(page.locator("table.optouts tbody tr", has_text=masked)).to_have_count(0)
    shot(page, f"admin-optouts-removed-{size}")


def test_an_admin_sets_an_offices_time_zone(sized: tuple[str, Page], server: Server) -> None:
    size, page = sized
    office, zone = ("Gulu", "Africa/Nairobi") if size == "desktop" else ("Kigali", "Africa/Kampala")
    log_in(page, server, Role.ADMIN)
    open_from_menu(page, "Offices")
    fits(page)
    shot(page, f"admin-offices-{size}")
    page.get_by_role("link", name=f"Edit {office}").click()
    expect(page.locator("h1")).to_contain_text(office)
    page.get_by_label("Time zone").select_option(zone)
    shot(page, f"admin-office-form-{size}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("Office saved")
    expect(page.locator("table.offices tr", has_text=office)).to_contain_text(zone)
    row_id = page.locator("table.offices tr", has_text=office).get_attribute("id") or ""
    office_id = int(row_id.removeprefix("office-"))
    assert server.herald.offices.timezones(None)[office_id] == zone


def test_an_admin_creates_a_user_who_logs_in(sized: tuple[str, Page], server: Server) -> None:
    size, page = sized
    name = f"officer-{size}"
    log_in(page, server, Role.ADMIN)
    open_from_menu(page, "Users")
    page.get_by_text("New user").click()  # the form folds away until asked for
    form = page.locator("#new-user")
    form.get_by_label("Username").fill(name)
    form.get_by_label("Role").select_option("viewer")
    form.get_by_label("Password", exact=False).first.fill("a long enough secret")
    form.get_by_label("The same again").fill("a long enough secret")
    shot(page, f"admin-new-user-{size}")
    form.get_by_role("button", name="Create user").click()
    expect(page.locator(".notice")).to_contain_text("User created")
    expect(page.locator(f"#user-{name}")).to_contain_text("Active")
    fits(page)
    assert auth.get_user(name, store=server.herald.store).role is Role.VIEWER

    page.context.clear_cookies()
    page.goto(f"{server.url}/campaigns")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", "a long enough secret")
    page.click("button:has-text('Log in')")
    expect(page).to_have_url(f"{server.url}/campaigns")
    expect(page.locator("form.who")).to_contain_text(re.compile(rf"{name}\s*\(viewer\)"))
