"""Every page fits, in the real browser: at 1366x768 no table is cut, on a 390 px phone rows are cards and tabs show.

One herald holds the longest values an institution really has: a long campaign name, six-digit
counts, long provider error texts and reasons, a failing provider with a long health detail, a
public URL in every webhook, a job run stopped by a long error. Each page is screenshotted at both
sizes into var/screenshots/ (HERALD_SCREENSHOTS) and measured: the page never scrolls sideways,
at 1366 no table scrolls inside its box and no cell's content is wider than the cell, on a phone
every table cell is labelled with its column and every tab of the campaign page is on screen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from herald.app import Herald
from herald.clock import ManualClock
from herald.domain.jobs import Job
from herald.domain.message import MessageStatus
from herald.services import auth, campaigns, optouts, runs
from herald.services.audit import SYSTEM
from herald.services.auth import Role
from herald.store.tables import messages
from herald.worker import outbound_for
from tests.campaign_parts import activating, validating
from tests.web.browser import PHONE, browser, browser_group, serving, shot
from tests.web.conftest import PASSWORD, START, DemoCorebank, build_herald, herald_settings

pytestmark = browser_group(__name__)
__all__ = ["browser"]  # the module-scoped Chromium, bound here by name

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
LONG_NAME = "Loan payments due in 1-3 days: Nairobi Central, Westlands and Thika Road branches (November)"
LONG_ERROR = (
    "Message rejected by the mobile network operator: the destination handset is unreachable, switched off "
    "or out of coverage for longer than the validity period (network error 27, absent subscriber)"
)
PROVIDERS = [
    {
        "kind": "twilio",
        "name": "twilio-kenya-safaricom-airtel-primary",
        "account_sid": "AC" + "0" * 32,
        "auth_token": "twilio-auth-token-0123456789abcdef",
        "from_number": "+254700000001",
        "base_url": "http://127.0.0.1:9",  # nothing listens: the health check fails with its long sentence
        "timeout": 1,
        "fallback": "infobip-east-africa-fallback",
    },
    {
        "kind": "infobip",
        "name": "infobip-east-africa-fallback",
        "base_url": "http://127.0.0.1:9",
        "api_key": "infobip-api-key-5e6f7a8b",
        "sender": "MFIBANK",
        "webhook_secret": "infobip-push-secret-a1b2c3d4",
        "timeout": 1,
    },
]
PUBLIC_URL = "https://sms-campaigns.nairobi-microfinance-institution.example.co.ke"
DELIVERED = 123_456  # six-digit counts in the tabs and the campaigns list


@dataclass
class Site:
    url: str
    campaign_id: int
    empty_tab_campaign_id: int
    scheduled_id: int


def _seed(herald: Herald) -> tuple[int, int, int]:
    """The long values: one busy campaign with every tab filled, one just activated, one scheduled and
    not yet active, a job run that failed, a user with a long name."""
    parts = validating(herald)
    request = campaigns.CampaignRequest.model_validate(
        {
            "campaignName": LONG_NAME,
            "triggerType": "direct",
            "runReportId": 166,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": "Dear {{fullName}}, your instalment is due soon. Pay by M-Pesa to 123456, account {{id}}.",
        }
    )
    busy = campaigns.create(request, **parts).id
    campaigns.activate(busy, **activating(herald))
    outbound_for(herald).run()  # real Pending and Invalid messages from the rule
    # The delivered ones were created weeks ago, before the chart's window: the campaign page's chart
    # reads every message of its window, and six-digit counts need not cost the test seconds per page.
    long_ago = START - timedelta(days=60)
    body = "Dear Wanjiku Kamau-Otieno, your instalment of KES 12,345.00 is due on 23 Nov 2026. Thank you."
    rows: list[dict[str, Any]] = []
    for i in range(DELIVERED + 30):  # and ten each Failed, Sent, Waiting
        status = (
            MessageStatus.DELIVERED
            if i < DELIVERED
            else [MessageStatus.FAILED, MessageStatus.SENT, MessageStatus.WAITING_FOR_DELIVERY_REPORT][i % 3]
        )
        failed = status is MessageStatus.FAILED
        rows.append(
            {
                "campaign_id": busy,
                "dedup_key": f"seed:{i}",
                "client_id": 100_000 + i,
                "office_id": 1,
                "mobile_no": f"+2547{i % 100_000_000:08d}",
                "body": body,
                "status": int(status),
                "encoding": "GSM7",
                "segments": 1,
                "provider": "twilio-kenya-safaricom-airtel-primary",
                "external_id": f"SM{i:032x}",
                "error_code": "30003" if failed else None,
                "error_text": LONG_ERROR if failed else None,
                "attempts": 1,
                "created_at": long_ago if status is MessageStatus.DELIVERED else START,
                "updated_at": START,
                "sent_at": START + timedelta(seconds=2),
                "delivered_at": long_ago + timedelta(seconds=9) if status is MessageStatus.DELIVERED else None,
            }
        )
    with herald.store.begin() as conn:
        conn.execute(messages.insert(), rows)
    fresh = campaigns.create(request.model_copy(update={"campaign_name": "Welcome new clients"}), **parts).id
    campaigns.activate(fresh, **activating(herald))
    scheduled = campaigns.create(
        request.model_copy(
            update={
                "campaign_name": "Every Monday, Wednesday and Friday: savings reminder for group leaders (draft)",
                "trigger_type": "schedule",
                "recurrence": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
                "recurrence_start_date": "2026-11-23T09:00",
                "timezone": "Africa/Nairobi",
            }
        ),
        **parts,
    ).id
    try:
        with runs.recorded(herald.store, herald.clock, Job.UPDATE_OUTBOUND):
            raise RuntimeError(
                "Cannot read the Fineract database at postgresql+psycopg://herald_readonly@fineract-db.internal:5432/"
                "fineract_default: connection refused; check HERALD_COREBANK_URL and that PostgreSQL is running"
            )
    except RuntimeError:
        pass
    optouts.add_number(
        "0712345678",
        "Client asked at the Westlands branch counter on 19 Nov not to receive any more reminders by SMS",
        SYSTEM,
        store=herald.store,
        clock=herald.clock,
        default_region="KE",
    )
    auth.create_user(
        "wanjiku.kamau-otieno.operations", Role.CAMPAIGN_MANAGER, PASSWORD, store=herald.store, clock=herald.clock
    )
    return busy, fresh, scheduled


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, herald_template: Path, demo_corebank: DemoCorebank
) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("layout-herald")
    clock = ManualClock(START)
    build_herald(home, herald_template, demo_corebank, clock).close()  # the template's users and offices
    settings = herald_settings(home, demo_corebank).model_copy(
        update={"providers": json.dumps(PROVIDERS), "public_url": PUBLIC_URL}
    )
    herald = Herald.build(settings, clock)
    busy, fresh, scheduled = _seed(herald)
    with serving(herald) as url:
        yield Site(url, busy, fresh, scheduled)
    herald.close()


def pages(site: Site) -> list[tuple[str, str]]:
    """Every page an officer or admin opens, with its screenshot name."""
    c = f"/campaigns/{site.campaign_id}"
    return [
        ("/campaigns", "campaigns"),
        *(
            (f"{c}?tab={tab}", f"campaign-{tab}")
            for tab in ("pending", "waiting", "sent", "delivered", "failed", "invalid")
        ),
        (f"/campaigns/{site.empty_tab_campaign_id}", "campaign-just-activated"),
        (f"/campaigns/{site.scheduled_id}", "campaign-scheduled"),
        ("/campaigns/new", "campaign-form"),
        (f"/campaigns/{site.scheduled_id}/edit", "campaign-form-edit"),
        (f"/campaigns/{site.scheduled_id}/activate", "campaign-confirm-activation"),  # the page the dialog shows
        ("/jobs", "jobs"),
        ("/providers", "providers"),
        ("/audit", "audit"),
        ("/users", "users"),
        ("/optouts", "optouts"),
        ("/offices", "offices"),
        ("/offices/1/edit", "office-form"),
        ("/campaigns/999999", "error-not-found"),
        ("/no-such-page", "error-unknown-path"),
    ]


def open_form_with_preview(page: Page, site: Site) -> None:
    """The campaign form filled in, its live preview showing the audience and sample messages."""
    page.goto(f"{site.url}/campaigns/new")
    with page.expect_navigation():  # the form re-renders for the rule: its parameters follow
        page.select_option("select[name=runReportId]", label="Active Clients")
    page.fill("input[name=campaignName]", LONG_NAME)
    page.fill("textarea[name=message]", "Dear {{fullName}} of {{officeName}}, your instalment is due soon.")
    expect(page.locator("#preview table.samples tbody tr").first).to_be_visible()


def overflows(page: Page) -> list[str]:
    """What is cut on this page: the page scrolling sideways, a table scrolling in its box, a cell's or a
    paragraph's content running past its edge."""
    found: list[str] = page.evaluate(
        """() => {
          const cut = [];
          const root = document.documentElement;
          if (root.scrollWidth > window.innerWidth) cut.push(`page ${root.scrollWidth} > ${window.innerWidth}`);
          for (const box of document.querySelectorAll('.scroll')) {
            if (box.scrollWidth > box.clientWidth) cut.push(`table box ${box.scrollWidth} > ${box.clientWidth}`);
          }
          for (const cell of document.querySelectorAll('td, th')) {
            if (cell.scrollWidth > cell.clientWidth) cut.push(`cell "${cell.textContent.trim().slice(0, 40)}"`);
          }
          // Text outside tables too: a long error or URL must wrap inside its box, not run over its edge.
          for (const block of document.querySelectorAll('main p, main dd, main li, main pre, main h1, main .card')) {
            if (block.clientWidth && block.scrollWidth > block.clientWidth) {
              cut.push(`${block.tagName.toLowerCase()} "${block.textContent.trim().slice(0, 40)}"`);
            }
          }
          return cut;
        }"""
    )
    return found


def logged_in_page(browser: Browser, site: Site, viewport: ViewportSize, *, phone: bool) -> Page:
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{site.url}/login")
    shot(page, f"layout-{'phone' if phone else 'desktop'}-login")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page).to_have_url(f"{site.url}/campaigns")
    return page


def test_every_page_fits_1366_without_cutting_a_column(browser: Browser, site: Site) -> None:
    page = logged_in_page(browser, site, DESKTOP, phone=False)
    try:
        assert overflows(page) == []
        cut = {}
        for path, name in pages(site):
            page.goto(site.url + path)
            expect(page.locator("h1")).to_be_visible()
            shot(page, f"layout-desktop-{name}")
            if found := overflows(page):
                cut[path] = found
        open_form_with_preview(page, site)
        shot(page, "layout-desktop-campaign-form-preview")
        if found := overflows(page):
            cut["/campaigns/new with its preview"] = found
        assert cut == {}
        page.goto(f"{site.url}/campaigns")
        expect(page.locator("table.campaigns")).to_contain_text(f"{DELIVERED:,}")  # the six-digit count is there
    finally:
        page.context.close()


def test_on_a_phone_rows_are_labelled_cards_and_every_tab_is_on_screen(browser: Browser, site: Site) -> None:
    page = logged_in_page(browser, site, PHONE, phone=True)
    try:
        for path, name in pages(site):
            page.goto(site.url + path)
            expect(page.locator("h1")).to_be_visible()
            shot(page, f"layout-phone-{name}")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            unlabelled = page.evaluate(
                """() => [...document.querySelectorAll('table')].flatMap((t) => {
                     const heads = [...t.querySelectorAll('thead th')].map((th) => th.textContent.trim());
                     return [...t.querySelectorAll('tbody tr')].flatMap((tr) => [...tr.cells]
                       .filter((td, i) => heads[i] && td.dataset.label !== heads[i])
                       .map((td) => td.textContent.trim().slice(0, 30)));
                   })"""
            )
            assert unlabelled == [], (path, unlabelled)
            # Cards: the header row is hidden and each cell shows its column's name before its value.
            shown = page.evaluate(
                """() => [...document.querySelectorAll('table')].map((t) => ({
                     headerHeight: t.tHead ? t.tHead.getBoundingClientRect().height : 0,
                     rowsAreBlocks: [...t.querySelectorAll('tbody > tr')].every(
                       (r) => getComputedStyle(r).display === 'block'),
                     labelsShown: [...t.querySelectorAll('td[data-label]')].every(
                       (td) => getComputedStyle(td, '::before').content === JSON.stringify(td.dataset.label)),
                   }))"""
            )
            assert all(t == {"headerHeight": 1, "rowsAreBlocks": True, "labelsShown": True} for t in shown), (
                path,
                shown,
            )
        open_form_with_preview(page, site)  # the preview arrives after the page: its table is labelled too
        shot(page, "layout-phone-campaign-form-preview")
        expect(page.locator("#preview table.samples td[data-label=Message]").first).to_contain_text("Dear ")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.goto(f"{site.url}/campaigns/{site.campaign_id}?tab=failed")
        card = page.locator("table.messages tbody tr").first
        box = card.bounding_box()
        assert box and box["width"] <= PHONE["width"]  # a card, within the screen
        reason = card.locator("td[data-label=Reason]")
        expect(reason).to_contain_text("absent subscriber")
        cell, row = reason.bounding_box(), card.bounding_box()
        assert cell and row and cell["x"] + cell["width"] <= row["x"] + row["width"] + 1
        tabs = page.locator("nav.tabs > *")
        expect(tabs).to_have_count(6)
        tabs.first.scroll_into_view_if_needed()
        for tab in tabs.all():  # every tab whole on screen, none past its right edge
            expect(tab).to_be_in_viewport(ratio=1)
            edges = tab.bounding_box()
            assert edges and edges["x"] >= 0 and edges["x"] + edges["width"] <= PHONE["width"], tab.inner_text()
    finally:
        page.context.close()


def test_a_zero_is_plain_text_and_a_count_links_to_its_tab(browser: Browser, site: Site) -> None:
    page = logged_in_page(browser, site, DESKTOP, phone=False)
    try:
        page.goto(f"{site.url}/campaigns/{site.empty_tab_campaign_id}")
        tabs = page.locator("nav.tabs")
        expect(tabs.locator("a")).to_have_count(0)  # nothing sent yet: no tab leads to an empty table
        expect(tabs.locator("span.tab:has-text('Delivered') .count")).to_have_text("0")
        page.goto(f"{site.url}/campaigns")
        row = page.locator(f"table.campaigns tr:has-text('{LONG_NAME}')")
        expect(row.locator("a", has_text=f"{DELIVERED:,}")).to_have_attribute(
            "href", f"/campaigns/{site.campaign_id}?tab=delivered"
        )
        fresh = page.locator("table.campaigns tr:has-text('Welcome new clients')")
        expect(fresh.locator("td.num a")).to_have_count(0)
        page.click(f"text={LONG_NAME}")
        page.click("nav.tabs a:has-text('Failed')")
        expect(page.locator("table.messages")).to_contain_text("absent subscriber")
    finally:
        page.context.close()
