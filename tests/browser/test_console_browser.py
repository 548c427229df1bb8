"""The managers' console in a real browser, as a person uses it: a curator filters and sorts the
articles table and opens an article's curation; a manager shares out every matching article
after a preview, then (without JavaScript) takes chosen articles back; a manager reads the
throughput page and follows its "take back" link to a preview."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from annotator.article_stats import refresh_figures
from annotator.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    LabelChoice,
    Layer,
    Role,
)
from tests.browser.conftest import login


@pytest.fixture
def newsroom(make_corpus, make_member, make_article, make_annotation):
    """Eight articles: two finished by two annotators (one disputed), the rest unassigned."""
    corpus = make_corpus(name="Newsroom", slug="newsroom", annotators_per_article=2)
    people = {
        "manager": make_member(corpus=corpus, role=Role.MANAGER, username="manager"),
        "curator": make_member(corpus=corpus, role=Role.CURATOR, username="curator"),
        "alice": make_member(corpus=corpus, username="alice"),
        "bruno": make_member(corpus=corpus, username="bruno"),
        "chen": make_member(corpus=corpus, username="chen"),
    }
    articles = [
        make_article(corpus=corpus, text=f"Story {n} opens. It ends.", title=f"Story {n}")
        for n in range(8)
    ]
    for article in articles[:2]:
        for name in ("alice", "bruno"):
            Assignment.objects.create(
                article=article,
                annotator=people[name],
                status=AssignmentStatus.DONE,
                finished_at=timezone.now(),
            )
            for sentence in article.sentences.all():
                disputed = article == articles[1] and name == "bruno" and sentence.ordinal == 0
                make_annotation(
                    sentence=sentence,
                    annotator=people[name],
                    value="factual_claim" if disputed else "opinion",
                )
    refresh_figures(article_ids=[a.pk for a in articles])
    return corpus, people, articles


@pytest.fixture
def no_js_page(browser: object, live_server: object, transactional_db: None) -> Iterator[Page]:
    """A page with JavaScript off: the console must work with plain links and forms."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def rows(page: Page) -> list[str]:
    return page.locator("table.articles tbody tr").evaluate_all(
        "rows => rows.map(row => row.id.replace('article-', ''))"
    )


def test_curator_filters_and_sorts_the_table_and_opens_a_curation(
    browser_page: Page, live_server: object, newsroom: tuple
) -> None:
    corpus, people, articles = newsroom
    page = browser_page
    login(page, live_server, people["curator"])
    page.goto(f"{live_server.url}{corpus.get_absolute_url()}")
    page.get_by_role("navigation", name="Corpus").get_by_role("link", name="Articles").click()
    expect(page.get_by_role("heading", name="Articles")).to_be_visible()
    expect(page.locator(".table-summary")).to_contain_text("8 articles")

    page.get_by_label("Status").select_option("done")
    page.get_by_role("button", name="Show articles").click()
    expect(page.locator(".table-summary")).to_contain_text("2 articles")
    assert sorted(rows(page)) == sorted(str(a.pk) for a in articles[:2])
    # htmx swapped the table and kept the address in step, so the filter can be bookmarked.
    assert "status=done" in page.url

    page.locator("table.articles thead").get_by_role("link", name="Disputed").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Disputed")
    assert rows(page)[0] == str(articles[1].pk)
    assert "sort=-disputed" in page.url

    page.locator(f"#article-{articles[1].pk}").get_by_role("link", name="Curation").click()
    expect(page.get_by_role("heading", name="Curation: Claim type")).to_be_visible()
    expect(page.locator(".curation-item")).to_have_count(1)
    assert "Story 1 opens." in page.locator(".curation-item").inner_text()


def test_manager_shares_out_every_matching_article_after_a_preview(
    browser_page: Page, live_server: object, newsroom: tuple
) -> None:
    corpus, people, articles = newsroom
    page = browser_page
    login(page, live_server, people["manager"])
    page.goto(f"{live_server.url}/corpora/newsroom/articles/")
    page.get_by_label("Status").select_option("unassigned")
    page.get_by_role("button", name="Show articles").click()
    expect(page.locator(".table-summary")).to_contain_text("6 articles")

    page.get_by_role("link", name="Assign or take back all 6 matching…").click()
    expect(page.get_by_role("heading", name="Assign articles")).to_be_visible()
    expect(page.locator("#selection")).to_contain_text("6 articles matching: status unassigned")
    page.get_by_label("Share the articles out evenly among the chosen annotators").check()
    for name in ("alice", "bruno", "chen"):
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("#preview")
    expect(preview).to_contain_text("12 new assignments would be made")
    assert not Assignment.objects.filter(article__in=articles[2:]).exists()
    for name in ("alice", "bruno", "chen"):
        expect(preview.locator("tr", has_text=name)).to_contain_text("4")

    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".messages")).to_contain_text(
        "Assigned 12 article assignment(s) of 6 article(s)"
    )
    given = Counter(
        Assignment.objects.filter(article__in=articles[2:]).values_list(
            "annotator__username", flat=True
        )
    )
    assert given == {"alice": 4, "bruno": 4, "chen": 4}
    holding = Counter(
        Assignment.objects.filter(status__in=AssignmentStatus.HOLDING_PLACE).values_list(
            "article", flat=True
        )
    )
    assert set(holding.values()) == {2}
    # The table shows them in progress at once.
    page.goto(f"{live_server.url}/corpora/newsroom/articles/?status=in_progress")
    expect(page.locator(".table-summary")).to_contain_text("6 articles")


def test_without_javascript_a_manager_takes_chosen_articles_back(
    no_js_page: Page, live_server: object, newsroom: tuple
) -> None:
    corpus, people, articles = newsroom
    for article in articles[2:5]:
        Assignment.objects.create(article=article, annotator=people["chen"])
    sentence = articles[2].sentences.first()
    Annotation.objects.create(
        sentence=sentence,
        annotator=people["chen"],
        layer=Layer.CLAIM_TYPE,
        choice=LabelChoice.objects.get(corpus=corpus, value="opinion"),
    )
    page = no_js_page
    login(page, live_server, people["manager"])
    page.goto(f"{live_server.url}/corpora/newsroom/articles/")
    page.get_by_label("Annotator").select_option(label="chen")
    page.get_by_role("button", name="Show articles").click()
    page.wait_for_url("**annotator=*")
    assert sorted(rows(page)) == sorted(str(a.pk) for a in articles[2:5])

    for article in articles[2:4]:
        page.get_by_label(f"Choose {article.title}").check()
    page.get_by_role("button", name="Assign or take back the chosen articles…").click()
    expect(page.locator("#selection")).to_contain_text("2 articles chosen in the table")
    page.get_by_label("Take the articles back from the chosen annotators").check()
    page.get_by_label("chen", exact=True).check()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("2 assignments would be taken back")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".messages")).to_contain_text("Took back 2 article assignment(s)")

    statuses = dict(
        Assignment.objects.filter(annotator=people["chen"]).values_list("article", "status")
    )
    assert statuses == {
        articles[2].pk: AssignmentStatus.SKIPPED,
        articles[3].pk: AssignmentStatus.SKIPPED,
        articles[4].pk: AssignmentStatus.ASSIGNED,
    }
    assert Annotation.objects.filter(sentence=sentence, annotator=people["chen"]).exists()


def test_manager_reads_throughput_and_previews_taking_back_a_stopped_annotators_work(
    browser_page: Page, live_server: object, newsroom: tuple
) -> None:
    corpus, people, articles = newsroom
    Assignment.objects.create(article=articles[5], annotator=people["chen"])
    page = browser_page
    login(page, live_server, people["manager"])
    page.goto(f"{live_server.url}{corpus.get_absolute_url()}")
    page.get_by_role("navigation", name="Corpus").get_by_role("link", name="Throughput").click()
    expect(page.get_by_role("heading", name="Throughput")).to_be_visible()
    page.get_by_label("Period").select_option("30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**days=30")
    alice = page.locator("#throughput tbody tr", has_text="alice")
    expect(alice.locator("svg")).to_have_attribute(
        "aria-label", "Articles alice finished per day: 2 in 30 days"
    )
    chen = page.locator("#throughput tbody tr", has_text="chen")
    expect(chen).to_contain_text("stopped?")
    chen.get_by_role("link", name="Take back their articles…").click()
    expect(page.locator("#preview")).to_contain_text("1 assignment would be taken back")
    assert Assignment.objects.get(annotator=people["chen"]).status == AssignmentStatus.ASSIGNED
