"""axe-core finds no accessibility violation on any page type, in the states people see: the
article page with labels of every kind, its help open, a save that failed; statistics and
curation with real disagreements; every settings page; sign-in and the error page. The top
navigation is the same on every page.

axe-core is vendored from the npm registry as a test asset (tests/browser/assets/axe.min.js,
MPL-2.0, licence beside it) and evaluated through Playwright, so the pages' CSP is untouched.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from annotator import curating
from annotator.annotating import save_note
from annotator.curating import Unit
from annotator.models import Assignment, GoldLabel, GoldMethod, Layer
from tests.browser.conftest import login, wait_until_saved

AXE = (Path(__file__).parent / "assets" / "axe.min.js").read_text(encoding="utf-8")
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help} at ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + n.failureSummary).join(" | "));
}"""
TEXT = (
    "The ministry said exports rose 4% in May. Critics called the figure misleading.\n\n"
    "I think this is a disaster for farmers. Readers wrote in to complain. Nobody answered."
)


def violations(page: Page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(RUN_AXE)


def top_navigation(page: Page) -> list[str]:
    return page.get_by_role("navigation", name="Main").locator("a, button").all_inner_texts()


@pytest.fixture
def busy_corpus(
    corpus, manager, curator, annotator, other_annotator, make_article, make_annotation
):
    """Two annotators who disagree, notes and flags, gold of every kind, a stance target."""
    article = make_article(corpus=corpus, text=TEXT, title="Exports rise")
    sentences = list(article.sentences.order_by("ordinal"))
    for who in (annotator, other_annotator):
        Assignment.objects.create(article=article, annotator=who)
    claims = ["factual_claim", "opinion", "opinion", "user_comment", "not_a_claim"]
    for i, sentence in enumerate(sentences):
        make_annotation(sentence=sentence, annotator=other_annotator, value=claims[i])
        make_annotation(
            sentence=sentence,
            annotator=other_annotator,
            layer=Layer.STANCE,
            value=["favor", "against", "neutral"][i % 3],
        )
    # The annotator's own rows: done, optional stance unset, claim missing, one to do.
    make_annotation(sentence=sentences[0], annotator=annotator, value="opinion")
    make_annotation(sentence=sentences[0], annotator=annotator, layer=Layer.STANCE, value="favor")
    make_annotation(sentence=sentences[1], annotator=annotator, value="opinion")
    make_annotation(sentence=sentences[2], annotator=annotator, layer=Layer.STANCE, value="favor")
    make_annotation(sentence=sentences[3], annotator=annotator, value="opinion")
    save_note(sentence=sentences[1], annotator=annotator, unsure=True, note="a quote?")
    save_note(sentence=sentences[0], annotator=other_annotator, unsure=True, note="hmm")
    claim = Unit(layer=Layer.CLAIM_TYPE, target=None)
    opinion = corpus.choices.get(value="opinion")
    curating.settle(sentence=sentences[0], unit=claim, choice=opinion, curator=curator)
    GoldLabel.objects.create(
        sentence=sentences[1],
        layer=Layer.CLAIM_TYPE,
        choice=opinion,
        method=GoldMethod.MAJORITY,
        confirmed=False,
        decided_by=curator,
    )
    return article, sentences


def test_annotator_pages_have_no_violations(browser_page, live_server, busy_corpus, annotator):
    page = browser_page
    article, sentences = busy_corpus
    found: dict[str, list[str]] = {}
    navigation: dict[str, list[str]] = {}

    page.goto(f"{live_server.url}/accounts/login/")
    found["login"] = violations(page)
    login(page, live_server, annotator)
    for name, path in {
        "home": "/",
        "corpus": article.corpus.get_absolute_url(),
        "tokens": "/account/tokens/",
        "article": article.get_absolute_url(),
    }.items():
        page.goto(f"{live_server.url}{path}")
        found[name] = violations(page)
        navigation[name] = top_navigation(page)

    # The article page in use: a fresh label, the help overlay, an open note.
    row = page.locator(f"#s-{sentences[4].pk}")
    row.get_by_role("button", name="Not a claim").click()
    wait_until_saved(page)
    row.locator("details.note summary").click()
    found["article, labelled"] = violations(page)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    found["article, help"] = violations(page)
    page.keyboard.press("Escape")

    # A save the server refuses: the row and the message say so.
    page.route(
        re.compile(r"/label/$"),
        lambda route: route.fulfill(status=403, content_type="text/plain", body="Not yours."),
    )
    page.locator(f"#s-{sentences[3].pk} .sentence-text").click()
    page.keyboard.press("3")
    expect(page.locator(f"#s-{sentences[3].pk}")).to_have_attribute("data-save-state", "failed")
    found["article, not saved"] = violations(page)

    page.goto(f"{live_server.url}/articles/987654/")
    found["404"] = violations(page)

    assert {name: problems for name, problems in found.items() if problems} == {}
    assert all(items == navigation["home"] for items in navigation.values()), navigation


def test_manager_and_curator_pages_have_no_violations(
    browser_page, live_server, busy_corpus, manager, curator, corpus
):
    page = browser_page
    article, sentences = busy_corpus
    choice = corpus.choices.get(value="opinion")
    target = corpus.stance_targets.get()
    found: dict[str, list[str]] = {}
    navigation: dict[str, list[str]] = {}
    pages = {
        "home": "/",
        "corpus": corpus.get_absolute_url(),
        "article": article.get_absolute_url(),
        "statistics": f"/corpora/{corpus.slug}/statistics/",
        "curation": f"/corpora/{corpus.slug}/curation/",
        "curation, all": f"/corpora/{corpus.slug}/curation/?status=all",
        "curation, stance": f"/corpora/{corpus.slug}/curation/?layer=stance",
        "curation sentence": f"/corpora/{corpus.slug}/curation/sentences/{sentences[1].pk}/",
        "settings": f"/corpora/{corpus.slug}/settings/",
        "members": f"/corpora/{corpus.slug}/members/",
        "schema": f"/corpora/{corpus.slug}/schema/",
        "choice edit": f"/corpora/{corpus.slug}/schema/{choice.pk}/",
        "targets": f"/corpora/{corpus.slug}/targets/",
        "target edit": f"/corpora/{corpus.slug}/targets/{target.pk}/",
        "assign": f"/corpora/{corpus.slug}/assign/",
        "assign, filtered": f"/corpora/{corpus.slug}/assign/?status=unassigned",
        "articles": f"/corpora/{corpus.slug}/articles/",
        "articles, filtered": f"/corpora/{corpus.slug}/articles/?status=in_progress&sort=-labels",
        "throughput": f"/corpora/{corpus.slug}/throughput/",
        "import": f"/corpora/{corpus.slug}/import/",
        "export": f"/corpora/{corpus.slug}/export/",
        "releases": f"/corpora/{corpus.slug}/releases/",
        "sentences": f"/corpora/{corpus.slug}/articles/{article.pk}/sentences/",
        "split, refused": (
            f"/corpora/{corpus.slug}/articles/{article.pk}/sentences/{sentences[1].pk}/split/"
        ),
        "zones": f"/corpora/{corpus.slug}/articles/{article.pk}/zones/",
        "corpus zones": f"/corpora/{corpus.slug}/zones/",
        "tokens": "/account/tokens/",
    }
    login(page, live_server, manager)
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.ok, (name, response and response.status)
        found[name] = violations(page)
        navigation[name] = top_navigation(page)

    # The curator's view of curation, after settling one sentence by key.
    page.context.clear_cookies()
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/curation/?status=all")
    page.keyboard.press("2")
    wait_until_saved(page)
    found["curation, curator after a key"] = violations(page)

    assert {name: problems for name, problems in found.items() if problems} == {}
    assert all(items == navigation["home"] for items in navigation.values()), navigation
    assert navigation["home"][:2] == ["My corpora", "API tokens"]


def test_statistics_tables_do_not_overlap_at_1280_px(
    browser_page, live_server, busy_corpus, manager, corpus
):
    page = browser_page
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/statistics/")
    boxes = page.locator(".layer .columns > div").evaluate_all(
        "divs => divs.map(d => { const r = d.getBoundingClientRect();"
        " const t = d.querySelector('table, ol, p'); const w = t ? t.scrollWidth : 0;"
        " return [r.left, r.right, w, r.width]; })"
    )
    assert boxes
    for _left, _right, content_width, width in boxes:
        assert content_width <= width + 1  # nothing spills out of its column
    for (_, right, *_), (left, *_) in zip(boxes[::2], boxes[1::2], strict=False):
        assert right <= left  # side by side, not on top of each other


def test_curation_filter_labels_sit_beside_their_fields(
    browser_page, live_server, busy_corpus, curator, corpus
):
    page = browser_page
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/corpora/{corpus.slug}/curation/")
    for name in ("layer", "target", "annotator", "status"):
        label = page.locator(f"form.filters label[for={name}]").bounding_box()
        field = page.locator(f"form.filters #{name}").bounding_box()
        assert label and field
        # On the same line, the label just left of its field.
        assert abs((label["y"] + label["height"] / 2) - (field["y"] + field["height"] / 2)) < 8
        assert 0 <= field["x"] - (label["x"] + label["width"]) < 24
