"""A curator settles a disagreement by keyboard and the gold label shows in the statistics."""

from __future__ import annotations

from annotator.models import GoldLabel, GoldMethod, Role
from tests.browser.conftest import login

TEXT = (
    "The minister said the plan works. Critics disagree with him. "
    "Officials met on Monday. Talks ended late at night."
)


def test_curator_settles_by_keyboard_and_gold_reaches_the_statistics(
    browser_page, live_server, make_corpus, make_member, make_article, make_annotation
):
    corpus = make_corpus(name="Korea coverage", slug="korea")
    curator = make_member(corpus=corpus, role=Role.CURATOR, username="curator")
    first = make_member(corpus=corpus, username="alice")
    second = make_member(corpus=corpus, username="bruno")
    sentences = list(make_article(corpus=corpus, text=TEXT).sentences.order_by("ordinal"))
    for i, sentence in enumerate(sentences):
        make_annotation(sentence=sentence, annotator=first, value="opinion")
        make_annotation(
            sentence=sentence, annotator=second, value="not_a_claim" if i == 1 else "opinion"
        )
    page = browser_page
    login(page, live_server, curator)

    page.goto(f"{live_server.url}/corpora/korea/curation/")
    item = page.locator(".curation-item").first
    assert "Critics disagree with him." in item.inner_text()
    page.wait_for_selector(".curation-item.current")

    # "/" opens the note, Esc leaves it, "2" (Opinion's key) settles the current sentence.
    page.keyboard.press("/")
    page.keyboard.type("reported opinion")
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    page.wait_for_selector(".curation-item.settled .gold-choice")
    assert page.locator(".curation-item.settled .gold-choice").inner_text() == "Opinion"

    gold = GoldLabel.objects.get()
    assert (gold.sentence_id, gold.choice.value, gold.method, gold.note) == (
        sentences[1].pk,
        "opinion",
        GoldMethod.ADJUDICATED,
        "reported opinion",
    )

    page.goto(f"{live_server.url}/corpora/korea/statistics/")
    claim = page.locator("#layer-0")
    assert "1 confirmed" in claim.inner_text()
    accuracy = claim.locator("table.accuracy")
    alice_row = accuracy.locator("tbody tr", has_text="alice").first
    bruno_row = accuracy.locator("tbody tr", has_text="bruno").first
    assert "1.000" in alice_row.inner_text() and "(1/1)" in alice_row.inner_text()
    assert "0.000" in bruno_row.inner_text() and "(0/1)" in bruno_row.inner_text()
