"""Playwright fixtures for browser tests, shared by every area.

Use `browser_page` (a fresh 1280 px page on `live_server`, screenshot saved under
test-artifacts/ when the test fails), `login(page, live_server, user, password)`, and
`wait_until_saved(page)` after keys or clicks that save (never wait for the network to go
idle: under load that times out, and it says nothing about what the page shows).
Debian's Chromium drives the tests (Playwright's own browser download does not work here);
without it the tests skip, unless BROWSER_TESTS_REQUIRED=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}; install it with: apt-get install chromium"
        if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # Waits are for a named element or state, never for time: a generous ceiling costs nothing
    # when the page is quick and keeps a loaded 2-core machine (suite, Chromium and the live
    # server sharing it) from failing a page that is merely slow. Playwright's default is 5 s.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(
    browser: object, request: pytest.FixtureRequest, live_server: object, transactional_db: None
) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print("Browser console:\n" + "\n".join(console))  # shown with the failure
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def login(page: object, live_server: object, user: object, password: str = "pw") -> None:
    """Sign in through the real login form and wait for the home page."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def wait_until_saved(page: object, timeout: float = 20_000) -> None:
    """Every change the page's keys or clicks made has been answered, none failed.

    A key queues its change before `keyboard.press()` returns, and rows (sentences, curation
    items) carry `data-save-state` while they have one on its way or failed.
    """
    from playwright.sync_api import expect

    expect(page.locator("[data-save-state]")).to_have_count(0, timeout=timeout)
