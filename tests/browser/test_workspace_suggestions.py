"""Suggestions in the browser, as a person meets them: pre-selected suggestions store nothing
while the person moves through the rows with j, and are stored only when accepted (Enter, or
the label's key); hidden controls show nothing. Every test ends by reading the database."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotator.models import Annotation, Assignment, Layer, SuggestionMode
from tests.assist_data import model_version, predict
from tests.browser.conftest import login, wait_until_saved
from tests.browser.test_accessibility import violations

TEXT = "Seoul protested on Monday. Beijing said nothing. Talks resume in May. Nobody came."


@pytest.fixture
def open_preselected(browser_page, live_server, make_corpus, make_member, make_article):
    def open_(*, share=0.0):
        corpus = make_corpus(
            targets=("Alliance",),
            suggestions=SuggestionMode.PRESELECT,
            suggestion_control_share=share,
        )
        user = make_member(corpus=corpus)
        article = make_article(corpus=corpus, text=TEXT)
        Assignment.objects.create(article=article, annotator=user)
        sentences = list(article.sentences.order_by("ordinal"))
        claims = model_version(corpus, name="claims-net", version="3")
        stances = model_version(
            corpus, layer=Layer.STANCE, target=corpus.stance_targets.get(), name="stance-net"
        )
        for sentence in sentences:
            predict(claims, sentence, "opinion", 0.74)
            predict(stances, sentence, "against", 0.66)
        login(browser_page, live_server, user)
        browser_page.goto(f"{live_server.url}{article.get_absolute_url()}")
        expect(browser_page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[0].pk}")
        return user, sentences

    return open_


def stored(user):
    return sorted(
        Annotation.objects.filter(annotator=user).values_list(
            "sentence__ordinal", "layer", "choice__value", "suggestion_visible"
        )
    )


def test_moving_through_preselected_rows_saves_nothing(open_preselected, browser_page):
    page = browser_page
    user, sentences = open_preselected()
    row = page.locator(f"#s-{sentences[0].pk}")
    expect(row.locator("[data-suggestion]")).to_contain_text("Opinion (0.74, model claims-net 3)")
    expect(row.locator("button.choice.preselected")).to_have_count(2)  # claim type and stance
    expect(row.locator('button.choice[aria-pressed="true"]')).to_have_count(0)
    assert violations(page) == []  # axe-core, as for every page type
    for _ in range(len(sentences) - 1):
        page.keyboard.press("j")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[-1].pk}")
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[1].pk}")
    expect(page.locator("[data-save-state]")).to_have_count(0)
    assert not Annotation.objects.filter(annotator=user).exists()


def test_enter_accepts_the_preselection_and_a_key_overrides_it(open_preselected, browser_page):
    page = browser_page
    user, sentences = open_preselected()
    # Sentence 1: accept both suggestions with Enter; the focus moves on to sentence 2.
    page.keyboard.press("Enter")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[1].pk}")
    # Sentence 2: another claim type by its key, then accept the stance suggestion with Enter.
    page.keyboard.press("1")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[1].pk}")
    page.keyboard.press("Enter")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[2].pk}")
    # Sentence 3: j only moves on.
    page.keyboard.press("j")
    wait_until_saved(page)
    assert stored(user) == [
        (0, "claim_type", "opinion", True),
        (0, "stance", "against", True),
        (1, "claim_type", "factual_claim", True),
        (1, "stance", "against", True),
    ]
    row = page.locator(f"#s-{sentences[0].pk}")
    expect(row.locator("button.choice.preselected")).to_have_count(0)
    expect(row.locator('button.choice[aria-pressed="true"]')).to_have_count(2)


def test_hidden_controls_show_nothing_and_record_the_hidden_suggestion(
    open_preselected, browser_page
):
    page = browser_page
    user, sentences = open_preselected(share=1.0)
    expect(page.locator("[data-suggestion]")).to_have_count(0)
    expect(page.locator("button.choice.preselected")).to_have_count(0)
    page.keyboard.press("Enter")  # nothing to accept, not the last row: nothing happens
    page.keyboard.press("1")
    page.keyboard.press("n")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[1].pk}")
    wait_until_saved(page)
    assert stored(user) == [
        (0, "claim_type", "factual_claim", False),
        (0, "stance", "neutral", False),
    ]


def test_enter_on_the_last_row_accepts_first_and_finishes_only_when_pressed_again(
    open_preselected, browser_page, live_server
):
    page = browser_page
    user, sentences = open_preselected()
    for sentence in sentences[:-1]:
        expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentence.pk}")
        page.keyboard.press("Enter")
    last = page.locator(f"#s-{sentences[-1].pk}")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[-1].pk}")
    # The last row still has open suggestions: Enter accepts them and stays on the article.
    page.keyboard.press("Enter")
    expect(last.locator('button.choice[aria-pressed="true"]')).to_have_count(2)
    wait_until_saved(page)
    assert Assignment.objects.get(annotator=user).status == "assigned"
    assert len(stored(user)) == 2 * len(sentences)
    # Nothing is left to accept: Enter now finishes the article.
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{sentences[0].article.corpus.get_absolute_url()}")
    assert Assignment.objects.get(annotator=user).status == "done"
    assert {visible for *_, visible in stored(user)} == {True}
