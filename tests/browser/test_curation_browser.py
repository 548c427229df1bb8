"""A curator settles a disagreement by keyboard and the gold label shows in the statistics."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from annotator.models import GoldLabel, GoldMethod, Role
from tests.browser.conftest import login, wait_until_saved

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


def disputed_queue(make_corpus, make_member, make_article, make_annotation, text):
    """A corpus whose every sentence has two annotators choosing differently, and its curator."""
    corpus = make_corpus()
    curator = make_member(corpus=corpus, role=Role.CURATOR)
    first, second = make_member(corpus=corpus), make_member(corpus=corpus)
    sentences = list(make_article(corpus=corpus, text=text).sentences.order_by("ordinal"))
    for sentence in sentences:
        make_annotation(sentence=sentence, annotator=first, value="opinion")
        make_annotation(sentence=sentence, annotator=second, value="not_a_claim")
    return corpus, curator, sentences


def gold_of(sentences) -> list[str | None]:
    gold = dict(GoldLabel.objects.values_list("sentence_id", "choice__value"))
    return [gold.get(sentence.pk) for sentence in sentences]


def test_each_settle_key_goes_to_its_own_sentence(
    browser_page, live_server, make_corpus, make_member, make_article, make_annotation
):
    corpus, curator, sentences = disputed_queue(
        make_corpus, make_member, make_article, make_annotation, "Talks failed. Prices rose."
    )
    page = browser_page
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/curation/")
    first, second = (page.locator(f"#item-{sentence.pk}") for sentence in sentences)
    expect(first).to_have_class(re.compile(r"\bcurrent\b"))

    # "1" settles the first sentence and the second becomes current at once, so "2" is for it.
    page.keyboard.press("1")
    expect(second).to_have_class(re.compile(r"\bcurrent\b"))
    expect(second).to_be_focused()
    page.keyboard.press("2")
    expect(page.locator("#toast")).to_contain_text("Everything here is settled")
    wait_until_saved(page)
    assert gold_of(sentences) == ["factual_claim", "opinion"]

    # Another key with nothing current changes nothing; k goes back, and re-settling says
    # what the gold label was.
    page.keyboard.press("3")
    page.keyboard.press("k")
    expect(second).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(first).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("3")
    expect(first.locator(".was")).to_have_text("(was: Factual claim)")
    wait_until_saved(page)
    assert gold_of(sentences) == ["user_comment", "opinion"]


def test_confirming_a_prefill_with_enter_moves_on(
    browser_page, live_server, make_corpus, make_member, make_article, make_annotation
):
    corpus, curator, sentences = disputed_queue(
        make_corpus, make_member, make_article, make_annotation, "Talks failed. Prices rose."
    )
    opinion = corpus.choices.get(value="opinion")
    GoldLabel.objects.create(
        sentence=sentences[0],
        layer="claim_type",
        choice=opinion,
        method=GoldMethod.MAJORITY,
        confirmed=False,
        decided_by=curator,
    )
    page = browser_page
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/curation/")
    expect(page.locator(f"#item-{sentences[0].pk}")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.locator(f"#item-{sentences[1].pk}")).to_be_focused()
    page.keyboard.press("0")
    wait_until_saved(page)

    assert gold_of(sentences) == ["opinion", "not_a_claim"]
    assert GoldLabel.objects.filter(confirmed=True).count() == 2


def test_a_failed_settle_is_retried_and_shown_as_not_saved_meanwhile(
    browser_page, live_server, make_corpus, make_member, make_article, make_annotation
):
    corpus, curator, sentences = disputed_queue(
        make_corpus, make_member, make_article, make_annotation, "Talks failed. Prices rose."
    )
    page = browser_page
    failed: list[str] = []

    def fail_first(route) -> None:
        if not failed:
            failed.append(route.request.url)
            route.fulfill(status=503, content_type="text/plain", body="Busy, try again.")
        else:
            route.continue_()

    page.route(re.compile(r"/settle/$"), fail_first)
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/curation/")
    first = page.locator(f"#item-{sentences[0].pk}")

    page.keyboard.press("2")
    expect(first.locator(".save-state")).to_have_text(re.compile("Not saved"))
    expect(page.locator("#toast")).to_contain_text("Busy, try again. (503)")
    page.keyboard.press("1")  # meant for the second sentence, which is current
    wait_until_saved(page)

    assert failed
    assert gold_of(sentences) == ["opinion", "factual_claim"]
