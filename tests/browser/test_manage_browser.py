"""A manager runs a corpus from its settings pages in a real browser: creates an account and
reads its one-time password, which then signs in; adds and reorders a label choice; and no page
of the settings area breaks the Content-Security-Policy."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from annotator.models import Corpus, LabelChoice, Layer
from tests.browser.conftest import login

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def test_manager_creates_an_account_and_edits_the_schema(
    browser_page: Page, live_server: object, corpus: Corpus, manager: object
) -> None:
    page = browser_page
    page.add_init_script(COLLECT_VIOLATIONS)
    violations: dict[str, list[str]] = {}
    login(page, live_server, manager)

    page.goto(f"{live_server.url}{corpus.get_absolute_url()}")
    page.get_by_role("navigation", name="Corpus").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Corpus settings")).to_be_visible()
    violations["settings"] = page.evaluate("window.__cspViolations")

    page.get_by_role("navigation", name="Corpus settings").get_by_role(
        "link", name="Members"
    ).click()
    page.fill("#create-account [name=username]", "browser-new")
    page.click("#create-account button[type=submit]")
    password = page.locator("#new-password").inner_text()
    assert len(password) >= 20
    violations["members"] = page.evaluate("window.__cspViolations")

    page.get_by_role("navigation", name="Corpus settings").get_by_role(
        "link", name="Label schema"
    ).click()
    page.locator("#layer-claim_type summary").click()
    page.fill("#id_claim_type-value", "rumour")
    page.fill("#id_claim_type-name", "Rumour")
    page.fill("#id_claim_type-key", "r")
    page.click("#layer-claim_type .add-choice button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Added “Rumour” to Claim type.")
    # Added last; two steps up puts it before "User comment" and "Not a claim".
    page.get_by_role("button", name="Move Rumour up").click()
    expect(page.locator("#layer-claim_type tbody tr").nth(3)).to_contain_text("Rumour")
    page.get_by_role("button", name="Move Rumour up").click()
    expect(page.locator("#layer-claim_type tbody tr").nth(2)).to_contain_text("Rumour")
    violations["schema"] = page.evaluate("window.__cspViolations")

    assert list(
        LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE)
        .order_by("order")
        .values_list("value", flat=True)
    ) == ["factual_claim", "opinion", "rumour", "user_comment", "not_a_claim"]
    assert violations == {"settings": [], "members": [], "schema": []}

    # The one-time password works: the new annotator signs in and sees the corpus.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "browser-new")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_text(corpus.name).first).to_be_visible()
