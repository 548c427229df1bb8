"""The hostile corpus of tests/security/test_xss_payloads.py in Chromium: on every page each
role opens, and after the page swaps in fresh fragments, no dialog opens, no request goes to /x
(the payload's hx-get) and no injected element exists in the DOM."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, wait_until_saved
from tests.security.test_xss_payloads import build_hostile_corpus, pages_for

INJECTED = 'img[src="x"], svg[onload], [onerror], [hx-get="/x"], [hx-trigger="load"]'


def watch(page: Page) -> tuple[list[str], list[str]]:
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    return dialogs, requests


def assert_nothing_injected(page: Page, dialogs: list[str], requests: list[str], url: str) -> None:
    # Called once the page fired "load" (goto) or its swaps were answered (wait_until_saved):
    # htmx processes the page at DOMContentLoaded, so a request an injected hx-trigger="load"
    # made would already be recorded; the extra frame lets any timer-started one begin.
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))")
    assert dialogs == [], url
    assert [r for r in requests if r.rstrip("/").endswith("/x")] == [], url
    assert page.locator(INJECTED).count() == 0, url
    # Every script on our pages is a file from static/; an inline one would be injected.
    assert page.locator("script:not([src])").count() == 0, url


def test_payloads_never_run_on_any_page(browser_page, live_server, make_user):
    page = browser_page
    hostile = build_hostile_corpus(make_user)
    dialogs, requests = watch(page)

    for who, urls in pages_for(hostile).items():
        page.context.clear_cookies()
        if who == "admin":
            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", hostile.admin.get_username())
            page.fill("#id_password", "pw")
            page.click("input[type=submit]")
            page.wait_for_url(f"{live_server.url}/admin/")
        else:
            login(page, live_server, getattr(hostile, who))
        for url in urls:
            page.goto(f"{live_server.url}{url}")
            assert_nothing_injected(page, dialogs, requests, url)


def test_payloads_never_run_after_htmx_swaps(browser_page, live_server, make_user):
    page = browser_page
    hostile = build_hostile_corpus(make_user)
    dialogs, requests = watch(page)
    login(page, live_server, hostile.annotator)
    page.goto(f"{live_server.url}{hostile.article.get_absolute_url()}")
    row = page.locator(f"#s-{hostile.sentence.pk}")

    # A label click and a note save each swap the sentence row in, payloads included.
    row.locator("button.choice").first.click()
    wait_until_saved(page)
    row.locator("details.note").evaluate("details => { details.open = true; }")
    row.locator("input[name=note]").fill('<img src=x onerror=alert(2)><div hx-get="/x">')
    row.get_by_role("button", name="Save note").click()
    expect(row.locator(".note-preview")).to_contain_text("<img src=x onerror=alert(2)>")
    wait_until_saved(page)

    assert_nothing_injected(page, dialogs, requests, "article after swaps")
