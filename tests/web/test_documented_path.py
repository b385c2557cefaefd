"""The README's quick start, followed literally in the browser: the demo, `herald serve`, and a campaign Delivered.

A newcomer runs `make run` (here its `herald demo run`, in a fresh folder, as a subprocess), then
the `herald serve` it prints, opens the URL, logs in with the printed login, creates a Direct
campaign, activates it and watches it reach Delivered. Nobody presses "Run now": the jobs run in
`herald serve` itself, which is what the README promises. Each step is screenshotted at desktop
and phone sizes into var/screenshots/ (HERALD_SCREENSHOTS).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from herald.demo.servers import free_port
from tests.web.browser import PHONE, browser, browser_group, shot, tab_count

pytestmark = browser_group(__name__)
__all__ = ["browser"]  # the module-scoped Chromium, bound here by name

HERALD = [sys.executable, "-m", "herald"]
README = Path(__file__).resolve().parents[2] / "README.md"


def newcomer_env() -> dict[str, str]:
    """A shell with nothing of herald set: every setting at the default the README documents."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HERALD_") or k == "HERALD_SCREENSHOTS"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`make run` in a fresh folder: its `herald demo run` (fewer clients, so the test takes seconds)."""
    readme = README.read_text()
    assert "make run" in readme and "$(BIN)/herald demo run" in (README.parent / "Makefile").read_text()
    assert "http://127.0.0.1:8080/" in readme and "user `demo`" in readme  # what the README says comes next
    folder = tmp_path_factory.mktemp("newcomer")
    done = subprocess.run(
        [*HERALD, "demo", "run", "--clients", "300", "--timeout", "60"],
        env=newcomer_env(),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done.stdout


@pytest.fixture(scope="module")
def served(demo: tuple[Path, str]) -> Iterator[str]:
    """The `herald serve` the demo tells the newcomer to run, as printed (only the port is a free one)."""
    folder, printed = demo
    command = re.search(r"herald serve\s+# then open\s+(http://\S+)", printed)  # as wrapped on 80 columns
    assert command, printed
    assert command.group(1) == "http://127.0.0.1:8080/"  # serve's default: the test takes a free port instead
    port = free_port()
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*HERALD, "serve", "--port", str(port)],
            env=newcomer_env(),
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"herald serve did not answer within 30 s: {log.read_text()}"
            time.sleep(0.1)
        said = log.read_text()
        assert f"herald is serving {url}/" in said and "The three jobs run in this process" in said, said
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Traceback" not in log.read_text()


def demo_login(printed: str) -> tuple[str, str]:
    found = re.search(r"log in as (\S+) with the password (\S+)", printed)
    assert found, printed
    return found.group(1), found.group(2)


def log_in_as_printed(page: Page, url: str, printed: str) -> None:
    username, password = demo_login(printed)
    page.goto(url + "/")
    expect(page.locator("h1")).to_have_text("Log in")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Log in')")
    expect(page).to_have_url(f"{url}/campaigns")


def delivered_without_run_now(page: Page, seconds: float) -> int:
    """Reload the campaign page until its Delivered tab counts something; nobody runs a job by hand."""
    deadline = time.monotonic() + seconds
    while (delivered := tab_count(page, "Delivered")) == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(1000)  # a reload a second, as an officer pressing F5 (the page may refresh itself)
        page.reload()
    return delivered


def test_the_readme_path_from_make_run_to_delivered_without_run_now(
    browser: Browser, demo: tuple[Path, str], served: str
) -> None:
    _, printed = demo
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in_as_printed(page, served, printed)
        expect(page.locator("header .sending")).to_have_text("Sending")  # serve's own worker is alive
        expect(page.locator("table.campaigns tbody tr")).to_have_count(4)  # the demo's four campaigns
        shot(page, "readme-1-demo-campaigns")

        page.click("text=New campaign")
        page.fill("input[name=campaignName]", "Welcome from the README")
        expect(page.locator("select[name=triggerType]")).to_have_value("direct")
        with page.expect_navigation():  # the form re-renders for the rule: its parameters follow
            page.select_option("select[name=runReportId]", label="Active Clients")
        page.fill("textarea[name=message]", "Dear {{firstName}}, welcome to our SMS service.")
        expect(page.locator("#preview [data-testid=audience]")).not_to_have_text("0")
        shot(page, "readme-2-new-direct-campaign")
        page.click("button:has-text('Create campaign')")
        expect(page.locator("h1 .badge")).to_have_text("Pending")

        page.click("[data-testid=activate-button]")  # it costs money: a dialog says how much first
        dialog = page.locator("dialog#confirm-dialog")
        expect(dialog.locator("[data-testid=estimate-cost]")).to_contain_text("KES")
        shot(page, "readme-3-confirm-activation")
        dialog.locator("[data-testid=confirm]").click()
        expect(page.locator("h1 .badge")).to_have_text("Active")
        expect(page.locator(".notice")).to_contain_text("the worker takes it from here")
        delivered = delivered_without_run_now(page, 90)
        assert delivered > 0, "nothing Delivered within 90 s of activation, with herald serve running"
        shot(page, "readme-4-campaign-delivered")

        phone = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, storage_state=context.storage_state()
        )
        try:
            small = phone.new_page()
            small.goto(page.url)
            expect(small.locator("nav.tabs")).to_contain_text("Delivered")
            shot(small, "readme-5-phone-campaign-delivered")
        finally:
            phone.close()
    finally:
        context.close()
