"""The UI's own scripts under its Content-Security-Policy, in the real browser: they run, and nothing is blocked.

The live preview, the variable picker, the self-submitting selects and the delete confirmation
are all script; a CSP that blocked them would leave a form that works only by hand.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from herald.services.auth import Role
from tests.web.browser import Server, browser_fixtures, browser_group, log_in, shot
from tests.web.test_access import pending_campaign

pytestmark = browser_group(__name__)
browser, server, page = browser_fixtures()


def watch_violations(page: Page) -> list[Any]:
    """CSP violations the page reports, and console errors (a refused script logs one)."""
    found: list[Any] = []

    def keep(message: Any) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("CSP "):
            found.append(message.text)

    page.on("console", keep)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error('CSP ' + e.violatedDirective))"
    )
    return found


def test_the_campaign_forms_script_runs_under_the_csp(page: Page, server: Server) -> None:
    violations = watch_violations(page)
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/campaigns/new")
    expect(page.locator("button.refresh")).to_be_hidden()  # the script hid the by-hand button
    with page.expect_navigation():  # a select posts the form itself
        page.select_option("select[name=runReportId]", label="Active Clients")
    page.fill("input[name=campaignName]", "CSP check")
    page.fill("textarea[name=message]", "Hello ")
    page.click("button[data-var=firstName]")  # the variable picker
    expect(page.locator("textarea[name=message]")).to_have_value("Hello {{firstName}}")
    expect(page.locator("#preview table.samples")).to_contain_text("Hello ")  # the live preview's fetch
    assert violations == [], violations


def test_the_delete_button_asks_first_under_the_csp(page: Page, server: Server) -> None:
    violations = watch_violations(page)
    campaign_id = pending_campaign(server.herald, "Ask before deleting")
    log_in(page, server, Role.CAMPAIGN_MANAGER)
    page.goto(f"{server.url}/campaigns/{campaign_id}")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.click("button:has-text('Delete')")  # returns once the dialog is handled
    assert asked and re.search("Delete this campaign", asked[0])
    page.reload()
    expect(page.locator("h1")).to_contain_text("Ask before deleting")  # dismissed: nothing deleted
    assert violations == [], violations


def test_an_admin_disables_a_user_from_the_users_page_after_confirming(page: Page, server: Server) -> None:
    violations = watch_violations(page)
    log_in(page, server, Role.ADMIN)
    page.click("nav a:has-text('Users')")
    row = page.locator("#user-viewer")
    expect(row).to_contain_text("Active")
    shot(page, "10-users")
    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Disable')").click()
    expect(page.locator(".notice")).to_contain_text("User disabled")
    expect(page.locator("#user-viewer")).to_contain_text("Disabled")
    page.locator("#user-viewer button:has-text('Enable')").click()
    expect(page.locator(".notice")).to_contain_text("User enabled")
    assert violations == [], violations


def test_the_api_docs_render_from_herald_alone(page: Page, server: Server) -> None:
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(server.url) else None)
    page.goto(f"{server.url}/docs")
    # Swagger UI ran and read the OpenAPI spec (it renders late on a busy machine: more than expect's 5 s default)
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/campaigns").first).to_be_visible()
    assert elsewhere == [], elsewhere  # nothing asked of another host (herald often runs with no internet)
