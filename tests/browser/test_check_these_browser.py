"""A curator opens "Check these", finds a deliberately flipped gold label at the top, and fixes
it with one key; the database holds the fix and the flag is gone on the next visit."""

from __future__ import annotations

from playwright.sync_api import expect

from annotator.models import GoldLabel, GoldMethod
from tests.assist_data import flipped_gold_corpus
from tests.browser.conftest import login, wait_until_saved
from tests.browser.test_accessibility import violations


def test_flipped_gold_is_first_in_check_these_and_fixed_by_keyboard(
    browser_page, live_server, make_corpus, make_member, make_article
):
    data = flipped_gold_corpus(make_corpus, make_article, make_member)
    page = browser_page
    login(page, live_server, data.curator)
    page.goto(f"{live_server.url}/corpora/{data.corpus.slug}/curation/")
    # The filter, as a person uses it: "Show: Check these", then Filter.
    page.select_option("#status", "check")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**status=check**")

    first = page.locator(".curation-item").first
    expect(first).to_have_attribute("data-sentence", str(data.flipped.pk))
    expect(page.locator(".curation-item.current")).to_have_attribute(
        "data-sentence", str(data.flipped.pk)
    )
    expect(first.locator(".flags")).to_contain_text("Gold label “Not a claim” looks wrong")
    expect(first.locator(".model-choice")).to_have_text("Opinion")
    assert violations(page) == []  # axe-core, as for every page type

    page.keyboard.press("2")  # Opinion's key re-settles the current sentence
    expect(first.locator(".gold-choice")).to_have_text("Opinion")
    expect(first.locator(".was")).to_have_text("(was: Not a claim)")
    wait_until_saved(page)

    gold = GoldLabel.objects.get(sentence=data.flipped)
    assert (gold.choice.value, gold.method, gold.decided_by) == (
        "opinion",
        GoldMethod.ADJUDICATED,
        data.curator,
    )
    page.reload()
    expect(page.locator(".curation-item").first).to_have_attribute(
        "data-sentence", str(data.slipped.pk)
    )
    expect(page.locator(f'.curation-item[data-sentence="{data.flipped.pk}"]')).to_have_count(0)
