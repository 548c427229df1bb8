"""Takes the README's screenshot of the article page (docs/screenshot-article.png).

Skipped unless UPDATE_SCREENSHOTS=1:
`UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_screenshot.py -p no:randomly`
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotator.models import Assignment
from tests.browser.conftest import login, wait_until_saved

ROOT = Path(__file__).resolve().parents[2]
GUIDELINES = """# Claim types

- **Factual claim**: can be checked against evidence (numbers, events, quotes).
- **Opinion**: the writer's judgement; words like *horrible*, *should*.
- **User comment**: a reader's comment quoted in the article.
- **Not a claim**: headings, captions, boilerplate.

# Stance

Judge the sentence's stance toward the target, not the article's.
Mark a sentence **unsure** and leave a note when in doubt.
"""


@pytest.mark.skipif(os.environ.get("UPDATE_SCREENSHOTS") != "1", reason="UPDATE_SCREENSHOTS=1")
def test_article_page_screenshot(browser_page, live_server, corpus, annotator, make_article):
    corpus.guidelines = GUIDELINES
    corpus.save()
    text = (ROOT / "samples" / "000_3b5d33387df6cb3c.txt").read_text()
    title, _, body = text.partition("\n\n")
    article = make_article(corpus=corpus, text=body, title=title)
    Assignment.objects.create(article=article, annotator=annotator)
    page = browser_page
    login(page, live_server, annotator)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    # Three sentences done (claim type, then stance moves on), the fourth with its claim type
    # only: it keeps the focus and says its stance is not set.
    for key in ("2", "a", "2", "f", "1", "n", "1"):
        before = page.locator("button.choice.selected").count()
        page.keyboard.press(key)
        expect(page.locator("button.choice.selected")).to_have_count(before + 1)
    wait_until_saved(page)
    page.set_viewport_size({"width": 1280, "height": 860})
    expect(page.locator(".sentence-row.is-focused")).to_contain_text("Kim Jong Un sent")
    expect(page.locator(".sentence-row.is-focused .stored-state")).to_have_text(
        "Stance not set (optional)"
    )
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ROOT / "docs" / "screenshot-article.png"))
    page.set_viewport_size({"width": 800, "height": 900})  # usable at 800 px too
    page.screenshot(path=str(ROOT / "test-artifacts" / "article-800px.png"))
