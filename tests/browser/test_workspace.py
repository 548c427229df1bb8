"""The annotation workspace in a real browser: keyboard and mouse labelling, undo, reload,
finishing, progress, blind annotation, and article text that tries to run code."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from annotator.models import Annotation, Assignment, AssignmentStatus
from tests.browser.conftest import login, wait_until_saved

TEXT = (
    "The ministry said exports rose 4% in May. Critics called the figure misleading.\n\n"
    "I think this is a disaster for farmers. Readers wrote in to complain."
)


def row(page, sentence):
    return page.locator(f"#s-{sentence.pk}")


def selected(page, sentence):
    return row(page, sentence).locator("button.choice.selected")


def test_annotator_labels_by_keyboard_and_mouse_then_finishes(
    browser_page, live_server, corpus, annotator, other_annotator, make_article
):
    page = browser_page
    article = make_article(corpus=corpus, text=TEXT, title="Exports rise")
    sentences = list(article.sentences.order_by("ordinal"))
    assert len(sentences) == 4

    login(page, live_server, annotator)
    expect(page.locator(".corpus-card")).to_contain_text("Korea coverage")
    page.click("text=Next article")
    page.wait_for_url(re.compile(rf"/articles/{article.pk}/"))
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[0].pk}")

    # A person reads before pressing a key: the time on the sentence is sent with its label
    # (tenths of a second), and on a quiet machine every key below lands within 50 ms.
    page.wait_for_timeout(300)
    # Keyboard: "1" labels the focused sentence; its stance (optional here) is still open, so
    # the focus stays until the stance key fills the row and moves it on.
    page.keyboard.press("1")
    expect(selected(page, sentences[0])).to_have_text(re.compile("Factual claim"))
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[0].pk}")
    page.keyboard.press("n")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[1].pk}")
    # A stance key first: the sentence has no claim type yet, so focus stays.
    page.keyboard.press("f")
    expect(selected(page, sentences[1])).to_have_text(re.compile("Favor"))
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[1].pk}")
    page.keyboard.press("2")
    expect(selected(page, sentences[1])).to_have_count(2)
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[2].pk}")

    # Typing in a note does not fire label keys.
    row(page, sentences[2]).locator("summary").click()
    row(page, sentences[2]).locator("input[name=note]").fill("1 2 3 0 u")
    expect(selected(page, sentences[2])).to_have_count(0)

    # Mouse: click a choice; then undo it with "u".
    row(page, sentences[2]).get_by_role("button", name="User comment").click()
    expect(selected(page, sentences[2])).to_have_text(re.compile("User comment"))
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("u")
    expect(selected(page, sentences[2])).to_have_count(0)
    expect(page.locator("#toast")).to_have_text("Undone.")

    # j/k move the focus.
    page.keyboard.press("k")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[1].pk}")
    page.keyboard.press("j")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[2].pk}")

    # The help overlay.
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()

    # Reload: labels are kept, the progress bar counts them.
    wait_until_saved(page)
    page.reload()
    expect(selected(page, sentences[0])).to_have_count(2)
    expect(selected(page, sentences[1])).to_have_count(2)
    expect(selected(page, sentences[2])).to_have_count(0)
    expect(page.locator("#article-progress")).to_contain_text("2 / 4 sentences")

    # Finish: label the rest, Enter on the last sentence marks the article done.
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[2].pk}")
    page.keyboard.press("0")
    expect(row(page, sentences[2]).locator(".stored-state")).to_have_text(
        "Stance not set (optional)"
    )
    page.keyboard.press("j")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[3].pk}")
    page.keyboard.press("3")
    page.keyboard.press("a")
    expect(page.locator("#article-progress")).to_contain_text("4 / 4 sentences")
    expect(page.locator("#toast")).to_contain_text("Every sentence is labelled")
    expect(page.locator(".sentence-row.is-focused")).to_have_id(f"s-{sentences[3].pk}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{corpus.get_absolute_url()}")
    expect(page.locator(".messages")).to_contain_text("is done")
    expect(page.locator("#my-progress")).to_contain_text("1 / 1")
    assignment = Assignment.objects.get(annotator=annotator)
    assert assignment.status == AssignmentStatus.DONE
    assert Annotation.objects.filter(annotator=annotator, layer="claim_type").count() == 4
    first = Annotation.objects.get(sentence=sentences[0], layer="claim_type")
    assert first.seconds_spent >= 0.3

    # A second annotator gets the same article (two per article) and sees none of the labels.
    page.click("text=Log out")
    login(page, live_server, other_annotator)
    page.click("text=Next article")
    page.wait_for_url(re.compile(rf"/articles/{article.pk}/"))
    expect(page.locator("button.choice.selected")).to_have_count(0)
    expect(page.locator("#article-progress")).to_contain_text("0 / 4 sentences")


def test_article_text_never_runs(browser_page, live_server, corpus, annotator, make_article):
    page = browser_page
    text = (
        "<script>alert(1)</script> appeared in the article.\n\n"
        "An image <img src=x onerror=alert(1)> was there too.\n\n"
        'And <div hx-get="/x" hx-trigger="load">load me</div> at the end.'
    )
    article = make_article(corpus=corpus, text=text, title="<script>alert('title')</script>")
    Assignment.objects.create(article=article, annotator=annotator)
    dialogs, requests = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))

    login(page, live_server, annotator)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    expect(page.locator(".sentences")).to_contain_text("<script>alert(1)</script> appeared")
    expect(page.locator(".sentences")).to_contain_text('<div hx-get="/x" hx-trigger="load">')
    expect(page.locator("h1")).to_have_text("<script>alert('title')</script>")
    # Label a sentence so a row from the server is swapped in too.
    page.keyboard.press("1")
    expect(page.locator("button.choice.selected")).to_have_count(1)
    wait_until_saved(page)  # the row came back from the server and was swapped in
    assert dialogs == []
    assert not [url for url in requests if url.rstrip("/").endswith("/x")]
    assert page.locator("img[src=x]").count() == 0


def test_tab_moves_between_stance_targets(
    browser_page, live_server, make_corpus, make_member, make_article
):
    corpus = make_corpus(targets=("Sanctions", "Alliance"), stance_required=True)
    user = make_member(corpus=corpus)
    article = make_article(corpus=corpus, text="One sentence only. And a second.")
    first = article.sentences.order_by("ordinal").first()
    Assignment.objects.create(article=article, annotator=user)
    page = browser_page
    login(page, live_server, user)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")

    page.keyboard.press("f")  # first target: Sanctions
    expect(row(page, first).locator(".layer-stance").nth(0).locator(".selected")).to_have_count(1)
    page.keyboard.press("Tab")
    page.keyboard.press("a")  # second target: Alliance
    expect(row(page, first).locator(".layer-stance").nth(1).locator(".selected")).to_have_count(1)
    page.keyboard.press("2")  # claim type completes the sentence: focus moves on
    expect(page.locator(".sentence-row.is-focused")).not_to_have_id(f"s-{first.pk}")
    wait_until_saved(page)
    stances = dict(
        Annotation.objects.filter(annotator=user, layer="stance").values_list(
            "target__name", "choice__value"
        )
    )
    assert stances == {"Sanctions": "favor", "Alliance": "against"}


def test_labelling_works_without_javascript(
    browser, live_server, transactional_db, corpus, annotator, make_article
):
    article = make_article(corpus=corpus, text=TEXT)
    Assignment.objects.create(article=article, annotator=annotator)
    first = article.sentences.order_by("ordinal").first()
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, live_server, annotator)
        page.goto(f"{live_server.url}{article.get_absolute_url()}")
        row(page, first).get_by_role("button", name="Opinion").click()
        page.wait_for_url(re.compile(rf"/articles/{article.pk}/#s-{first.pk}$"))
        expect(selected(page, first)).to_have_text(re.compile("Opinion"))
    finally:
        context.close()
    assert Annotation.objects.get(annotator=annotator).choice.value == "opinion"
