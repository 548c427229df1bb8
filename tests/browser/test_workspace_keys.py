"""Keys land on the sentence the person is looking at, as a person types them, whatever the
server does meanwhile: stance optional or required, one or two stance targets, saves that fail
and are retried, saves that never succeed. Every test ends by reading the database."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from annotator.models import Annotation, AnnotationHistory, Assignment, SentenceNote
from tests.browser.conftest import login, wait_until_saved

TEXT = "Seoul protested on Monday. Beijing said nothing. Talks resume in May. Nobody came."
LABEL_URLS = re.compile(r"/sentences/\d+/label/$")


@pytest.fixture
def open_article(browser_page, live_server, make_corpus, make_member, make_article):
    """A fresh article of a corpus with the given settings, open for its annotator."""

    def open_(*, targets=("Alliance",), stance_required=False, before_opening=None):
        corpus = make_corpus(targets=targets, stance_required=stance_required)
        user = make_member(corpus=corpus)
        article = make_article(corpus=corpus, text=TEXT)
        Assignment.objects.create(article=article, annotator=user)
        if before_opening:
            before_opening(browser_page)
        login(browser_page, live_server, user)
        browser_page.goto(f"{live_server.url}{article.get_absolute_url()}")
        sentences = list(article.sentences.order_by("ordinal"))
        expect(focused(browser_page)).to_have_id(f"s-{sentences[0].pk}")
        return user, sentences

    return open_


def focused(page: Page):
    return page.locator(".sentence-row.is-focused")


def row(page: Page, sentence):
    return page.locator(f"#s-{sentence.pk}")


def type_keys(page: Page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def stored_labels(user, sentences) -> list[tuple[str | None, dict[str, str]]]:
    """(claim type, {target: stance}) per sentence, as the database holds them."""
    result = []
    for sentence in sentences:
        rows = Annotation.objects.filter(annotator=user, sentence=sentence).values_list(
            "layer", "target__name", "choice__value"
        )
        claim = next((value for layer, _, value in rows if layer == "claim_type"), None)
        stances = {target: value for layer, target, value in rows if layer == "stance"}
        result.append((claim, stances))
    return result


def history(user) -> list[tuple[int, str, str, str]]:
    return list(
        AnnotationHistory.objects.filter(annotator=user)
        .order_by("changed_at", "id")
        .values_list("sentence__ordinal", "layer", "old_value", "new_value")
    )


def test_claim_then_stance_label_one_sentence_when_stance_is_optional(open_article, browser_page):
    page = browser_page
    user, sentences = open_article(stance_required=False)

    # Claim type first: the stance is still open, so the sentence keeps the focus and says so.
    page.keyboard.press("1")
    expect(row(page, sentences[0]).locator(".stored-state")).to_have_text(
        "Stance not set (optional)"
    )
    expect(focused(page)).to_have_id(f"s-{sentences[0].pk}")
    type_keys(page, "f", "1", "a")
    expect(focused(page)).to_have_id(f"s-{sentences[2].pk}")
    wait_until_saved(page)

    assert stored_labels(user, sentences[:3]) == [
        ("factual_claim", {"Alliance": "favor"}),
        ("factual_claim", {"Alliance": "against"}),
        (None, {}),
    ]
    expect(row(page, sentences[0]).locator(".stored-state")).to_have_text("✓ Labelled")


def test_claim_then_stance_label_one_sentence_when_stance_is_required(open_article, browser_page):
    page = browser_page
    user, sentences = open_article(stance_required=True)

    type_keys(page, "1", "f", "1", "a")
    expect(focused(page)).to_have_id(f"s-{sentences[2].pk}")
    wait_until_saved(page)

    assert stored_labels(user, sentences[:3]) == [
        ("factual_claim", {"Alliance": "favor"}),
        ("factual_claim", {"Alliance": "against"}),
        (None, {}),
    ]
    expect(row(page, sentences[0]).locator(".stored-state")).to_have_text("✓ Labelled")


def test_two_targets_tab_and_either_order(open_article, browser_page):
    page = browser_page
    user, sentences = open_article(targets=("Sanctions", "Alliance"), stance_required=False)

    # Stances first, then the claim type; then the usual order on the next sentence.
    type_keys(page, "f", "Tab", "a")
    expect(focused(page)).to_have_id(f"s-{sentences[0].pk}")  # the claim type is still open
    type_keys(page, "2")
    expect(focused(page)).to_have_id(f"s-{sentences[1].pk}")
    type_keys(page, "1", "a", "Tab", "n")
    expect(focused(page)).to_have_id(f"s-{sentences[2].pk}")
    wait_until_saved(page)

    assert stored_labels(user, sentences[:3]) == [
        ("opinion", {"Sanctions": "favor", "Alliance": "against"}),
        ("factual_claim", {"Sanctions": "against", "Alliance": "neutral"}),
        (None, {}),
    ]


def test_keys_move_focus_only_when_asked_and_help_says_how(open_article, browser_page):
    page = browser_page
    user, sentences = open_article(stance_required=False)
    expect(page.locator("#key-hint")).to_contain_text("Stance is optional here")

    # j leaves a sentence without its optional stance; k and a click come back.
    type_keys(page, "3", "j")
    expect(focused(page)).to_have_id(f"s-{sentences[1].pk}")
    page.keyboard.press("k")
    expect(focused(page)).to_have_id(f"s-{sentences[0].pk}")
    row(page, sentences[3]).locator(".sentence-text").click()
    expect(focused(page)).to_have_id(f"s-{sentences[3].pk}")

    page.keyboard.press("?")
    expect(page.locator("#help")).to_contain_text("The next sentence comes up by itself")
    expect(page.locator("#help")).to_contain_text("Flag the sentence as unsure")
    page.keyboard.press("Escape")
    wait_until_saved(page)
    assert stored_labels(user, sentences[:2]) == [("user_comment", {}), (None, {})]


def test_unsure_note_and_undo_keys(open_article, browser_page):
    page = browser_page
    user, sentences = open_article()
    first = row(page, sentences[0])

    page.keyboard.press("!")
    expect(first.locator("[data-unsure-badge]")).to_be_visible()
    page.keyboard.press("/")
    expect(first.locator("input[name=note]")).to_be_focused()
    page.keyboard.type("quote from a minister")
    page.keyboard.press("Escape")  # saves the note and gives the keys back
    expect(focused(page)).to_have_id(f"s-{sentences[0].pk}")
    page.keyboard.press("2")  # a label key again labels, it does not type
    expect(first.locator("button.choice.selected")).to_have_text(re.compile("Opinion"))
    wait_until_saved(page)
    note = SentenceNote.objects.get(annotator=user, sentence=sentences[0])
    assert (note.unsure, note.note) == (True, "quote from a minister")

    page.keyboard.press("u")
    expect(first.locator("button.choice.selected")).to_have_count(0)
    expect(page.locator("#toast")).to_have_text("Undone.")
    page.keyboard.press("!")
    expect(first.locator("[data-unsure-badge]")).to_be_hidden()
    wait_until_saved(page)
    note.refresh_from_db()
    assert (note.unsure, note.note) == (False, "quote from a minister")
    assert stored_labels(user, sentences[:1]) == [(None, {})]


def test_skip_key_opens_the_reason_and_escape_goes_back(open_article, browser_page, live_server):
    page = browser_page
    user, sentences = open_article()

    page.keyboard.press(">")
    reason = page.locator("#skip input[name=reason]")
    expect(reason).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#skip")).not_to_have_attribute("open", "")
    expect(focused(page)).to_be_focused()
    page.keyboard.press(">")
    page.keyboard.type("not in English")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Skipped")
    assignment = Assignment.objects.get(annotator=user)
    assert (assignment.status, assignment.skip_reason) == ("skipped", "not in English")


def test_pressed_choice_shows_before_the_server_answers(open_article, browser_page):
    page = browser_page
    held: list[Route] = []
    user, sentences = open_article(
        before_opening=lambda page: page.route(LABEL_URLS, lambda route: held.append(route))
    )

    page.keyboard.press("2")
    first = row(page, sentences[0])
    expect(first.locator("button.choice.selected")).to_have_text(re.compile("Opinion"))
    expect(first.locator(".save-state")).to_have_text("Saving…")
    assert held and not Annotation.objects.filter(annotator=user).exists()

    held[0].continue_()
    wait_until_saved(page)
    assert stored_labels(user, sentences[:1]) == [("opinion", {})]


def test_failed_saves_are_retried_and_keys_typed_meanwhile_land_in_order(
    open_article, browser_page
):
    page = browser_page
    aborted: list[str] = []

    def abort_first_two(route: Route) -> None:
        if len(aborted) < 2:
            aborted.append(route.request.post_data or "")
            route.abort("connectionreset")
        else:
            route.continue_()

    user, sentences = open_article(
        before_opening=lambda page: page.route(LABEL_URLS, abort_first_two)
    )
    first = row(page, sentences[0])

    page.keyboard.press("1")
    # The failed save: the row shows what is stored and says it is not saved, temporarily.
    expect(first.locator(".save-state")).to_have_text(re.compile("Not saved"))
    expect(first.locator("button.choice.selected")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("temporary")
    # Keys typed while it is retried are kept, in order, for the sentences they were meant for.
    type_keys(page, "f", "1", "a")
    expect(focused(page)).to_have_id(f"s-{sentences[2].pk}")
    wait_until_saved(page)

    assert len(aborted) == 2
    assert stored_labels(user, sentences[:3]) == [
        ("factual_claim", {"Alliance": "favor"}),
        ("factual_claim", {"Alliance": "against"}),
        (None, {}),
    ]
    # Each label saved once, in the order of the keys.
    assert history(user) == [
        (0, "claim_type", "", "factual_claim"),
        (0, "stance", "", "favor"),
        (1, "claim_type", "", "factual_claim"),
        (1, "stance", "", "against"),
    ]
    expect(first.locator("button.choice.selected")).to_have_count(2)


def test_a_save_that_always_fails_never_claims_the_label(open_article, browser_page):
    page = browser_page
    tries: list[str] = []

    def always_busy(route: Route) -> None:
        tries.append(route.request.url)
        route.fulfill(
            status=503, content_type="text/plain", body="The database is busy; try again soon."
        )

    user, sentences = open_article(before_opening=lambda page: page.route(LABEL_URLS, always_busy))
    first = row(page, sentences[0])

    page.keyboard.press("2")
    expect(first.locator(".save-state")).to_have_text(re.compile("Not saved"))
    expect(first.locator("button.choice.selected")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("The database is busy; try again soon. (503)")
    # It gives up after a bounded number of tries and says so; the row keeps its stored state.
    expect(first).to_have_attribute("data-save-state", "failed", timeout=30_000)
    expect(first.locator(".save-state")).to_have_text("Not saved")
    expect(page.locator("#toast")).to_contain_text("Gave up after 5 of 5 tries")
    expect(first.locator("button.choice.selected")).to_have_count(0)
    expect(first.locator(".stored-state")).to_have_text("Not labelled")

    assert len(tries) == 5
    assert not Annotation.objects.filter(annotator=user).exists()


def test_a_refused_save_is_not_retried(open_article, browser_page):
    page = browser_page
    tries: list[str] = []

    def refuse(route: Route) -> None:
        tries.append(route.request.url)
        route.fulfill(status=403, content_type="text/plain", body="Not assigned to you.")

    user, sentences = open_article(before_opening=lambda page: page.route(LABEL_URLS, refuse))

    page.keyboard.press("2")
    expect(row(page, sentences[0])).to_have_attribute("data-save-state", "failed")
    expect(page.locator("#toast")).to_contain_text("Not saved: Not assigned to you. (403)")
    expect(row(page, sentences[0]).locator("button.choice.selected")).to_have_count(0)
    assert len(tries) == 1
    assert not Annotation.objects.filter(annotator=user).exists()


def test_a_note_typed_but_not_saved_survives_labelling_elsewhere(open_article, browser_page):
    page = browser_page
    user, sentences = open_article()

    page.keyboard.press("/")
    page.keyboard.type("draft, not saved yet")
    row(page, sentences[1]).get_by_role("button", name="Opinion").click()
    wait_until_saved(page)

    expect(row(page, sentences[0]).locator("input[name=note]")).to_have_value(
        "draft, not saved yet"
    )
    assert stored_labels(user, sentences[:2]) == [(None, {}), ("opinion", {})]
    assert not SentenceNote.objects.filter(annotator=user).exists()
