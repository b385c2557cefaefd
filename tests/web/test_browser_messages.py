"""Finding a message as an officer does it, in a real browser at desktop and phone sizes: search the Messages
page, open a message's history (from the search and from a tab), download the CSV; screenshots of each."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from herald.services.auth import Role
from tests.web.browser import PHONE, Server, browser_fixtures, browser_group, log_in, shot
from tests.web.conftest import DemoCorebank
from tests.web.test_message_search import FULL_NUMBER, a_client, messages_of, two_campaigns

pytestmark = browser_group(__name__)
browser, server, page = browser_fixtures()


@pytest.fixture(scope="module")
def known(server: Server, demo_corebank: DemoCorebank) -> tuple[int, int, str]:
    """(first campaign's id, a client's id, their name): two campaigns messaged the same office's clients."""
    first, _ = two_campaigns(server.herald)
    client_id, name, _ = a_client(server.herald, demo_corebank)
    return first, client_id, name


def download(page: Page) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    with Path(info.value.path()).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_a_manager_finds_a_client_opens_the_history_and_downloads_the_csv(
    page: Page, server: Server, known: tuple[int, int, str]
) -> None:
    first, client_id, name = known
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.get_by_role("link", name="Messages", exact=True).click()
    expect(page.get_by_test_id("number-admins")).to_contain_text("Only admins can search by phone number")
    page.get_by_label("Client").fill(name.lower())  # any case, any part of the name
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.found tbody tr")
    expect(rows.filter(has_text=name)).to_have_count(2)
    expect(page.locator("table.found")).to_contain_text("Greetings")
    expect(page.locator("table.found")).to_contain_text("Reminders")
    assert not FULL_NUMBER.search(page.content())
    shot(page, "messages-01-search-by-name")
    exported = download(page)
    assert len(exported) == rows.count() and name in {r["clientName"] for r in exported}
    assert not FULL_NUMBER.search(str(exported))
    rows.filter(has_text="Reminders").first.locator("td a").first.click()
    expect(page.locator("h1")).to_contain_text("Message")
    expect(page.get_by_test_id("client")).to_contain_text(f"{name} #{client_id}")
    expect(page.locator("main")).to_contain_text("EAT")  # times carry their zone
    shot(page, "messages-02-message-history")
    page.goto(f"{server.url}/campaigns/{first}?tab=pending")
    tab_rows = page.locator("table.messages tbody tr")
    shot(page, "messages-06-tab-with-download-csv")
    tab_csv = download(page)
    assert len(tab_csv) == len(messages_of(server.herald, campaign_id=first, status=100))
    opened = tab_rows.first.locator("td a").first
    message_id = opened.inner_text()
    opened.click()
    expect(page).to_have_url(re.compile(rf"/messages/{message_id}$"))
    expect(page.get_by_test_id("status")).to_have_text("Pending")


def test_a_viewer_searches_and_reads_a_message_on_a_phone(
    browser: Browser, server: Server, known: tuple[int, int, str]
) -> None:
    _, client_id, name = known
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, server, Role.VIEWER)
        page.goto(f"{server.url}/messages")
        page.get_by_label("Client").fill(str(client_id))
        page.get_by_label("Status").select_option("pending")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_test_id("found")).to_have_text("2 messages match.")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "messages-03-phone-search")
        page.locator("table.found tbody tr td a").first.click()
        expect(page.get_by_test_id("client")).to_contain_text(name)
        expect(page.get_by_test_id("mobile")).to_contain_text("******")
        assert not FULL_NUMBER.search(page.content())
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "messages-04-phone-message")
    finally:
        context.close()


def test_an_admin_finds_every_message_to_a_number(
    page: Page, server: Server, demo_corebank: DemoCorebank, known: tuple[int, int, str]
) -> None:
    _, _, number = a_client(server.herald, demo_corebank)  # `known` made the campaigns, whatever ran before
    log_in(page, server, Role.ADMIN)
    page.goto(f"{server.url}/messages")
    page.get_by_label("Phone number").fill("0" + number.removeprefix("+254"))
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.found tbody tr")).to_have_count(len(messages_of(server.herald, mobile_no=number)))
    expect(page.locator("table.found")).to_contain_text(number)
    shot(page, "messages-05-admin-number-search")
