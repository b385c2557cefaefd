"""The browser tests' machinery: Debian's Chromium under Playwright, the app served by uvicorn in a thread, helpers.

A test module uses it by naming the fixtures it needs, `browser, server, page = browser_fixtures()`,
and `pytestmark = browser_group(__name__)`: each module gets its own xdist group, so one module's
tests share one Chromium and one server, and two modules can run on the two workers at once.
Screenshots go to var/screenshots/ (or $HERALD_SCREENSHOTS); they are never committed.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from herald.app import Herald
from herald.clock import ManualClock
from herald.server import create_app
from herald.services.auth import Role
from tests.debian import apt_install
from tests.web.conftest import PASSWORD, START, USERNAMES, DemoCorebank, build_herald


def browser_group(module: str) -> pytest.MarkDecorator:
    """The xdist group of one browser test module: its tests stay on one worker, with one browser and one server."""
    return pytest.mark.xdist_group(f"browser-{module.rsplit('.', 1)[-1]}")


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # this machine's closed network refuses Chromium's own calls home
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("HERALD_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))
PHONE: ViewportSize = {"width": 390, "height": 844}


def ensure_chromium() -> None:
    """Debian's Chromium (Playwright's own browser download cannot be fetched here), installed when missing."""
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail("The browser tests need Debian's chromium: run `apt-get install -y chromium` as root.")
    apt_install("chromium")


@dataclass
class Server:
    url: str
    herald: Herald
    clock: ManualClock


@contextmanager
def serving(herald: Herald) -> Iterator[str]:
    """`herald`'s app under uvicorn in a thread on a free port of 127.0.0.1; its URL until the block ends."""
    served = uvicorn.Server(uvicorn.Config(create_app(herald), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=served.run, name="herald-ui", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert served.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{served.servers[0].sockets[0].getsockname()[1]}"
    finally:
        served.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, herald_template: Path, demo_corebank: DemoCorebank
) -> Iterator[Server]:
    clock = ManualClock(START)
    herald = build_herald(tmp_path_factory.mktemp("browser-herald"), herald_template, demo_corebank, clock)
    with serving(herald) as url:
        yield Server(url, herald, clock)
    herald.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    print(f"screenshot: {SCREENSHOTS / name}.png")


def log_in(page: Page, server: Server, role: Role) -> None:
    page.goto(f"{server.url}/campaigns")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", USERNAMES[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page).to_have_url(f"{server.url}/campaigns")


def tab_count(page: Page, tab: str) -> int:
    # A tab with messages is a link, an empty one plain text (span.tab): both show their count.
    return int(page.locator(f"nav.tabs :is(a, span.tab):has-text('{tab}') .count").inner_text().replace(",", ""))


def run_job(page: Page, server: Server, slug: str) -> None:
    page.goto(f"{server.url}/jobs")
    page.click(f"#{slug} button:has-text('Run now')")
    expect(page.locator(".notice")).to_contain_text("Job run finished")


def browser_fixtures() -> tuple[Any, Any, Any]:
    """The module-scoped browser and server and the per-test page, for a test module to bind by name."""
    return browser, server, page
