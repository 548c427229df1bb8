"""The pages respect the Content-Security-Policy: a real browser reports no violation.

The policy is enforced in tests as in production (csp.middleware.CSPMiddleware), so an inline
<script>, an on…= handler or a style="…" attribute shows up here as a violation event.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from annotator.models import Assignment, Membership, Role
from tests.browser.conftest import login, wait_until_saved

# Recorded in the page before any of its own code runs, so nothing escapes the listener.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`
  );
});
"""

TEXT = (
    "The ministry said exports rose 4% in May. Critics called the figure misleading.\n\n"
    "I think this is a disaster for farmers. Readers wrote in to complain."
)


def violations_on(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def test_pages_raise_no_content_security_policy_violation(
    browser_page, live_server, corpus, manager, annotator, make_article
):
    page: Page = browser_page
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            console_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    # Every file a page asks for exists (styles, scripts, images), apart from the 404 page
    # visited on purpose below.
    failed: list[str] = []
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/articles/987654/")
            else None
        ),
    )
    page.add_init_script(COLLECT_VIOLATIONS)
    article = make_article(corpus=corpus, text=TEXT, title="Exports rise")
    Assignment.objects.create(article=article, annotator=annotator)
    Membership.objects.filter(user=manager, corpus=corpus).update(role=Role.MANAGER)
    found: dict[str, list[str]] = {}

    def visit(path: str) -> None:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
        # goto() returned on "load": the page's scripts (deferred) have run by then.
        found[path] = violations_on(page)

    login(page, live_server, annotator)
    found["/ (after sign-in)"] = violations_on(page)
    visit("/")
    visit(f"/corpora/{corpus.slug}/")
    visit(f"/articles/{article.pk}/")
    # Labelling swaps a fragment from the server in: nothing may inject inline code doing so.
    page.locator(".sentence-row button.choice").first.click()
    expect(page.locator(".sentence-row button.choice.selected").first).to_be_visible()
    wait_until_saved(page)
    found[f"/articles/{article.pk}/ (after labelling)"] = violations_on(page)
    visit("/account/tokens/")
    visit("/articles/987654/")  # the 404 page

    page.context.clear_cookies()
    login(page, live_server, manager)
    visit(f"/corpora/{corpus.slug}/statistics/")
    visit(f"/corpora/{corpus.slug}/curation/")
    visit("/api/docs/")

    reported = {path: problems for path, problems in found.items() if problems}
    assert reported == {}
    assert failed == []
    assert [text for text in console_errors if re.search("Content Security Policy", text)] == []
