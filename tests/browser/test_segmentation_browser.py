"""Correcting segmentation and zones in a real browser, and what annotators then see: a manager
splits a sentence and merges two, excludes a run, confirms zones, bulk-confirms a corpus; an
annotator's keys skip the excluded row. Every test ends by reading the database."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotator.models import Annotation, Assignment, Role, SegmentationChange, Zone
from annotator.resegmenting import set_excluded
from tests.browser.conftest import login, wait_until_saved
from tests.browser.test_accessibility import violations
from tests.factories import sentence_ids

TEXT = (
    "Seoul protested on Monday and Tokyo agreed.\n"
    "Share this article\n"
    "Beijing said nothing. Talks resume in May.\n\n"
    "Nobody came."
)


@pytest.fixture
def setting(make_corpus, make_member, make_article):
    corpus = make_corpus()
    manager = make_member(corpus=corpus, role=Role.MANAGER)
    article = make_article(corpus=corpus, text=TEXT)
    return corpus, manager, article


def texts(article) -> list[str]:
    return list(article.sentences.order_by("ordinal").values_list("text", flat=True))


def test_manager_splits_merges_and_excludes_a_run(browser_page, live_server, setting):
    corpus, manager, article = setting
    page = browser_page
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/articles/")
    page.get_by_role("link", name="Sentences").first.click()
    expect(page.locator("h1")).to_have_text(f"Sentences of {article}")

    # Split the first sentence before "and".
    page.get_by_role("link", name="Split sentence 1").click()
    page.get_by_label("…Seoul protested on Monday | and Tokyo agreed.…").check()
    page.click("#split-button")
    expect(page.locator(".message.success")).to_contain_text("Split sentence 1")
    assert texts(article)[:2] == ["Seoul protested on Monday", "and Tokyo agreed."]

    # Merge "Beijing said nothing." (now sentence 4) with "Talks resume in May."
    page.get_by_role("link", name="Merge with next (sentence 4)").click()
    page.click("#merge-button")
    expect(page.locator(".message.success")).to_contain_text("Merged sentences 4 and 5")
    assert texts(article)[3] == "Beijing said nothing. Talks resume in May."

    # Exclude a run: sentences 3 to 3 by number, plus tick none; then the furniture line.
    page.fill("#first", "3")
    page.fill("#last", "3")
    page.click("#exclude-button")
    expect(page.locator(".message.success")).to_contain_text("Excluded: 1 sentence(s)")
    expect(page.locator("#s-2")).to_have_class("excluded")
    rows = list(article.sentences.order_by("ordinal").values_list("text", "excluded"))
    assert rows == [
        ("Seoul protested on Monday", False),
        ("and Tokyo agreed.", False),
        ("Share this article", True),
        ("Beijing said nothing. Talks resume in May.", False),
        ("Nobody came.", False),
    ]
    assert [c.action for c in SegmentationChange.objects.order_by("id")] == [
        "split",
        "merge",
        "exclude",
    ]
    for start, end, text in article.sentences.values_list("start", "end", "text"):
        assert TEXT[start:end] == text


def test_manager_corrects_and_confirms_zones_then_bulk_confirms(
    browser_page, live_server, setting, make_article
):
    corpus, manager, article = setting
    other = make_article(corpus=corpus, text="Another story. Read more\nSubscribe today!")
    other.sentences.filter(ordinal=2).update(zone=Zone.BOILERPLATE, zone_rule="subscription")
    page = browser_page
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/")
    page.get_by_role("navigation", name="Corpus").get_by_role("link", name="Zones").click()
    expect(page.locator("#zone-counts")).to_contain_text("Page furniture")
    page.locator(f"#article-{article.pk}").get_by_role("link", name="Review zones").click()

    page.get_by_label("Zone of sentence 2").select_option(Zone.BOILERPLATE)
    page.get_by_label("Zone of sentence 5").select_option(Zone.COMMENTS)
    page.click("#confirm-zones")
    expect(page.locator(".message.success")).to_contain_text("2 corrected")
    zones = list(article.sentences.order_by("ordinal").values_list("zone", "excluded"))
    assert zones[1] == (Zone.BOILERPLATE, True)
    assert zones[4] == (Zone.COMMENTS, False)
    assert all(article.sentences.values_list("zone_confirmed", flat=True))

    page.goto(f"{live_server.url}/corpora/{corpus.slug}/zones/")
    page.locator("#confirm-all button").click()
    expect(page.locator(".message.success")).to_contain_text("in 1 article(s)")
    assert list(other.sentences.order_by("ordinal").values_list("excluded", flat=True)) == [
        False,
        False,
        True,
    ]
    expect(page.locator(".empty")).to_have_text("Every sentence's zone is confirmed.")


def test_annotator_keys_never_label_an_excluded_sentence(
    browser_page, live_server, setting, make_member
):
    corpus, manager, article = setting
    set_excluded(
        article_id=article.pk, sentence_ids=sentence_ids(article, 1), excluded=True, by=manager
    )
    article.sentences.filter(ordinal=3).update(zone=Zone.COMMENTS)
    annotator = make_member(corpus=corpus)
    Assignment.objects.create(article=article, annotator=annotator)
    sentences = list(article.sentences.order_by("ordinal"))
    page = browser_page
    login(page, live_server, annotator)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")

    excluded = page.locator(f"#s-{sentences[1].pk}")
    expect(excluded).to_have_class("context-row excluded")
    expect(excluded.locator("form")).to_have_count(0)
    expect(page.locator(f"#s-{sentences[3].pk} .badge.reader-comment")).to_have_text(
        "reader comment"
    )
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[0].pk}")
    expect(page.locator("#article-progress")).to_contain_text("0 / 4 sentences")

    # Claim type "1" on each sentence in turn; the focus moves on by itself and must jump over
    # the excluded row. j and k back and forth never stop on it either.
    page.keyboard.press("j")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[2].pk}")
    page.keyboard.press("k")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[0].pk}")
    for _ in range(4):
        page.keyboard.press("1")
        page.keyboard.press("n")
    wait_until_saved(page)
    expect(page.locator("#article-progress")).to_contain_text("4 / 4 sentences")

    labelled = set(
        Annotation.objects.filter(annotator=annotator, layer="claim_type").values_list(
            "sentence__ordinal", flat=True
        )
    )
    assert labelled == {0, 2, 3, 4}
    assert not Annotation.objects.filter(sentence=sentences[1]).exists()
    assert violations(page) == []


def test_split_and_merge_pages_have_no_accessibility_violations(browser_page, live_server, setting):
    corpus, manager, article = setting
    first, second = article.sentences.order_by("ordinal")[:2]
    page = browser_page
    login(page, live_server, manager)
    base = f"{live_server.url}/corpora/{corpus.slug}/articles/{article.pk}/sentences"
    for path in (f"{base}/{first.pk}/split/", f"{base}/{first.pk}/merge/"):
        page.goto(path)
        assert violations(page) == [], path


def test_manager_ticks_sentences_to_exclude_then_includes_one_again(
    browser_page, live_server, setting
):
    corpus, manager, article = setting
    page = browser_page
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/articles/{article.pk}/sentences/")
    page.get_by_label("Choose sentence 2").check()
    page.get_by_label("Choose sentence 3").check()
    page.click("#exclude-button")
    expect(page.locator(".message.success")).to_contain_text("Excluded: 2 sentence(s)")
    assert list(article.sentences.filter(excluded=True).values_list("ordinal", flat=True)) == [
        1,
        2,
    ]
    page.get_by_label("Choose sentence 2").check()
    page.click("#include-button")
    expect(page.locator(".message.success")).to_contain_text("1 sentence(s)")
    assert list(article.sentences.filter(excluded=True).values_list("ordinal", flat=True)) == [2]
    assert [c.action for c in SegmentationChange.objects.order_by("id")] == [
        "exclude",
        "include",
    ]
