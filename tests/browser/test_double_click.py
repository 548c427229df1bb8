"""Impatient clicking in Chromium: a double-click or two quick clicks on a label button save the
label once (one annotation, one history entry). The HTTP-level races are in
tests/security/test_concurrency.py."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from annotator.models import Annotation, AnnotationHistory, Assignment
from tests.browser.conftest import login, wait_until_saved


def test_double_click_and_quick_clicks_on_a_label_save_it_once(
    browser_page, live_server, corpus, annotator, make_article
):
    page = browser_page
    article = make_article(corpus=corpus, text="Seoul protested. Pyongyang did not answer.")
    Assignment.objects.create(article=article, annotator=annotator)
    first, second = article.sentences.order_by("ordinal")
    posts: list[str] = []
    page.on(
        "request",
        lambda request: posts.append(request.url) if request.method == "POST" else None,
    )

    login(page, live_server, annotator)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    button = page.locator(f"#s-{first.pk}").get_by_role("button", name="Opinion")
    button.dblclick()
    expect(page.locator(f"#s-{first.pk} button.choice.selected")).to_have_text(
        re.compile("Opinion")
    )
    # Two separate clicks as fast as Playwright can send them, on the other sentence.
    other = page.locator(f"#s-{second.pk}").get_by_role("button", name="Factual claim")
    other.click()
    other.click(no_wait_after=True)
    expect(page.locator(f"#s-{second.pk} button.choice.selected")).to_have_text(
        re.compile("Factual claim")
    )
    wait_until_saved(page)

    assert len(posts) >= 2  # the clicks did reach the server
    for sentence, value in ((first, "opinion"), (second, "factual_claim")):
        assert list(
            Annotation.objects.filter(sentence=sentence).values_list("choice__value", flat=True)
        ) == [value]
        history = AnnotationHistory.objects.filter(sentence=sentence)
        assert [(h.old_value, h.new_value) for h in history] == [("", value)]
