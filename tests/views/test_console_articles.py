"""The articles table: who sees it, what it shows, its filters, sorts and pages (full page and
htmx fragment), recounting, and a query count that does not grow with the rows."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from annotator.annotating import save_label
from annotator.article_stats import refresh_figures
from annotator.models import (
    Annotation,
    ArticleStats,
    Assignment,
    AssignmentStatus,
    LabelChoice,
    Layer,
    Role,
)
from annotator.views import console


def url(corpus, name: str = "annotator:corpus-articles") -> str:
    return reverse(name, kwargs={"slug": corpus.slug})


def article_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="article-(\d+)"', response.content.decode())]


@pytest.fixture
def shelf(corpus, make_article, annotator, other_annotator):
    """Five articles: two done by both annotators (one of them disputed), one in progress, one
    skipped, one unassigned."""
    corpus.annotators_per_article = 2
    corpus.save()
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    factual = LabelChoice.objects.get(corpus=corpus, value="factual_claim")
    articles = [
        make_article(corpus=corpus, text=f"Story {n} begins. It goes on.", title=f"Story {n}")
        for n in range(5)
    ]
    done_calm, done_disputed, in_progress, skipped, _unassigned = articles
    for article in (done_calm, done_disputed):
        for user in (annotator, other_annotator):
            Assignment.objects.create(article=article, annotator=user, status=AssignmentStatus.DONE)
            for sentence in article.sentences.select_related("article"):
                disagree = article == done_disputed and user == other_annotator
                save_label(
                    sentence=sentence,
                    annotator=user,
                    layer=Layer.CLAIM_TYPE,
                    target=None,
                    choice=factual if disagree and sentence.ordinal == 0 else opinion,
                )
    Assignment.objects.create(article=in_progress, annotator=annotator)
    Assignment.objects.create(
        article=skipped, annotator=other_annotator, status=AssignmentStatus.SKIPPED
    )
    refresh_figures(article_ids=[a.pk for a in articles])
    return articles


def test_managers_and_curators_see_the_table_others_get_404(
    client, corpus, manager, curator, annotator, outsider, shelf
):
    for user in (manager, curator):
        client.force_login(user)
        response = client.get(url(corpus))
        assert response.status_code == 200
        assert sorted(article_ids(response)) == sorted(a.pk for a in shelf)
    for user in (annotator, outsider):
        client.force_login(user)
        assert client.get(url(corpus)).status_code == 404
        assert client.get(url(corpus), HTTP_HX_REQUEST="true").status_code == 404


def test_only_managers_get_the_assignment_controls(client, corpus, manager, curator, shelf):
    client.force_login(curator)
    html = client.get(url(corpus)).content.decode()
    assert 'name="article" value=' not in html.replace('type="hidden" name="article"', "")
    assert "Assign or take back" not in html
    client.force_login(manager)
    html = client.get(url(corpus)).content.decode()
    assert 'type="checkbox" name="article"' in html
    assert "Assign or take back all 5 matching" in html


def test_rows_show_status_annotators_figures_and_links(client, corpus, manager, shelf):
    client.force_login(manager)
    html = client.get(url(corpus)).content.decode()
    done_calm, done_disputed, in_progress, skipped, unassigned = shelf

    def row(article) -> str:
        return re.search(rf'<tr id="article-{article.pk}">(.*?)</tr>', html, re.S).group(1)

    assert "Done" in row(done_calm) and "100 %" in row(done_calm)
    assert re.search(r'class="num">4</td>\s*<td class="num">0</td>', row(done_calm))
    assert re.search(r'class="num">4</td>\s*<td class="num">1</td>', row(done_disputed))
    assert "50 %" in row(done_disputed)  # agreement: sentence 1 disagrees, sentence 2 agrees
    assert "In progress" in row(in_progress) and "annotator" in row(in_progress)
    assert "Skipped" in row(skipped) and "Unassigned" in row(unassigned)
    assert f"/articles/{done_calm.pk}/" in row(done_calm)
    assert f"curation/?article={done_calm.pk}" in row(done_calm)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=done", [0, 1]),
        ("status=in_progress", [2]),
        ("status=skipped", [3]),
        ("status=unassigned", [4]),
        ("disputed_min=1", [1]),
        ("labels_min=1&labels_max=4", [0, 1]),
        ("agreement_max=60", [1]),
        ("agreement_min=100", [0]),
        ("gold_min=1", []),
        ("q=story+3", [3]),
        ("q=%23{pk2}", [2]),
        ("q=%23%C2%B2", []),  # "#²": a digit to str.isdigit, not to int()
        ("q=%C2%B2", []),
    ],
)
def test_filters(client, corpus, manager, shelf, query, expected):
    client.force_login(manager)
    response = client.get(f"{url(corpus)}?{query.format(pk2=shelf[2].pk)}")
    assert response.status_code == 200
    assert sorted(article_ids(response)) == [shelf[i].pk for i in expected]


def test_filter_by_annotator_and_their_assignment(
    client, corpus, manager, annotator, other_annotator, shelf
):
    client.force_login(manager)
    theirs = client.get(f"{url(corpus)}?annotator={other_annotator.pk}")
    assert sorted(article_ids(theirs)) == [shelf[0].pk, shelf[1].pk, shelf[3].pk]
    skipped = client.get(f"{url(corpus)}?annotator={other_annotator.pk}&their_status=skipped")
    assert article_ids(skipped) == [shelf[3].pk]


def test_sorting_by_each_figure_both_ways(client, corpus, manager, shelf):
    client.force_login(manager)
    by_disputes = article_ids(client.get(f"{url(corpus)}?sort=-disputed"))
    assert by_disputes[0] == shelf[1].pk
    by_agreement = article_ids(client.get(f"{url(corpus)}?sort=agreement"))
    # Lowest agreement first; articles without agreement last.
    assert by_agreement[:2] == [shelf[1].pk, shelf[0].pk]
    assert article_ids(client.get(f"{url(corpus)}?sort=-article")) == [a.pk for a in shelf][::-1]
    for key in ("labels", "-labels", "gold", "-gold", "-agreement"):
        assert sorted(article_ids(client.get(f"{url(corpus)}?sort={key}"))) == sorted(
            a.pk for a in shelf
        )


def test_bad_filters_are_a_400_that_says_why(client, corpus, manager, shelf):
    client.force_login(manager)
    for query, words in (
        ("status=lost", "Select a valid choice"),
        ("labels_min=5&labels_max=2", "“at most” is below “at least”"),
        ("gold_max=140", "less than or equal to 100"),
        ("annotator=999999", "Select a valid choice"),
        ("sort=title", "Select a valid choice"),
    ):
        response = client.get(f"{url(corpus)}?{query}")
        assert response.status_code == 400, query
        assert words in response.content.decode(), query


def test_pages_of_fifty(client, corpus, manager, make_article, monkeypatch):
    monkeypatch.setattr(console, "PAGE_SIZE", 2)
    articles = [make_article(corpus=corpus, text=f"Piece {n}.") for n in range(5)]
    client.force_login(manager)
    first = client.get(url(corpus))
    assert article_ids(first) == [a.pk for a in articles[:2]]
    assert "Page 1 of 3" in first.content.decode()
    last = client.get(f"{url(corpus)}?page=3")
    assert article_ids(last) == [articles[4].pk]
    assert article_ids(client.get(f"{url(corpus)}?page=99")) == [articles[4].pk]
    assert article_ids(client.get(f"{url(corpus)}?page=x")) == [a.pk for a in articles[:2]]


def test_htmx_gets_the_table_fragment_only(client, corpus, curator, shelf):
    client.force_login(curator)
    response = client.get(f"{url(corpus)}?status=done", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="article-table"')
    assert "<html" not in html
    assert sorted(article_ids(response)) == [shelf[0].pk, shelf[1].pk]


def test_new_articles_appear_without_a_recount(client, corpus, manager, make_article):
    client.force_login(manager)
    article = make_article(corpus=corpus, text="Fresh from the import.")
    assert article_ids(client.get(url(corpus))) == [article.pk]
    assert ArticleStats.objects.get(article=article).refreshed_at is not None


def test_changed_rows_are_marked_and_recounting_the_page_clears_them(
    client, corpus, manager, annotator, shelf
):
    in_progress = shelf[2]
    sentence = in_progress.sentences.select_related("article").first()
    save_label(
        sentence=sentence,
        annotator=annotator,
        layer=Layer.CLAIM_TYPE,
        target=None,
        choice=LabelChoice.objects.get(corpus=corpus, value="opinion"),
    )
    client.force_login(manager)
    html = client.get(url(corpus)).content.decode()
    assert "1 row on this page changed since" in html
    row = re.search(rf'<tr id="article-{in_progress.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "changed</span>" in row
    response = client.post(
        url(corpus, "annotator:corpus-articles-refresh"),
        {"article": [a.pk for a in shelf], "next": url(corpus) + "?status=in_progress"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url(corpus) + "?status=in_progress"
    assert "Recounted the figures of 5 article(s) on this page." in response.content.decode()
    assert ArticleStats.objects.get(article=in_progress).labels == 1
    assert "on this page changed since" not in client.get(url(corpus)).content.decode()


def test_recount_everything_and_refuse_foreign_ids_and_outside_redirects(
    client, corpus, make_corpus, make_article, curator, annotator, shelf
):
    foreign = make_article(corpus=make_corpus(), text="Not yours.")
    Annotation.objects.all().delete()
    client.force_login(curator)
    response = client.post(
        url(corpus, "annotator:corpus-articles-refresh"),
        {"scope": "all", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == url(corpus)
    assert set(ArticleStats.objects.filter(corpus=corpus).values_list("labels", flat=True)) == {0}
    client.post(url(corpus, "annotator:corpus-articles-refresh"), {"article": [foreign.pk]})
    assert not ArticleStats.objects.filter(article=foreign).exists()
    client.force_login(annotator)
    assert client.post(url(corpus, "annotator:corpus-articles-refresh")).status_code == 404


def test_recount_of_a_large_corpus_goes_to_the_background(
    client, corpus, curator, shelf, monkeypatch
):
    monkeypatch.setattr(console, "RECOUNT_IN_REQUEST", 2)
    Annotation.objects.all().delete()
    client.force_login(curator)
    response = client.post(
        url(corpus, "annotator:corpus-articles-refresh"), {"scope": "all"}, follow=True
    )
    assert "Recounting the figures of 5 articles in the background" in response.content.decode()
    # Tests run tasks at once (ImmediateBackend); `manage.py db_worker` does in production.
    assert set(ArticleStats.objects.values_list("labels", flat=True)) == {0}


def test_query_count_does_not_grow_with_rows(
    client, corpus, manager, make_article, annotator, other_annotator, django_assert_num_queries
):
    def load() -> None:
        with django_assert_num_queries(9):
            response = client.get(f"{url(corpus)}?sort=-labels&status=in_progress")
            assert response.status_code == 200

    client.force_login(manager)
    article = make_article(corpus=corpus, text="One.")
    Assignment.objects.create(article=article, annotator=annotator)
    client.get(url(corpus))  # creates the rows of the articles table once
    # session, user, corpus with role, missing rows check, members, count and ages of the
    # figures, the page of rows, their assignments, rows changed since counted.
    load()
    for n in range(12):
        more = make_article(corpus=corpus, text=f"Article {n} here.")
        for user in (annotator, other_annotator):
            Assignment.objects.create(article=more, annotator=user)
    refresh_figures(article_ids=list(corpus.articles.values_list("pk", flat=True)))
    load()


def test_nav_and_corpus_page_link_the_table(client, corpus, manager, curator, annotator):
    client.force_login(curator)
    assert url(corpus) in client.get(corpus.get_absolute_url()).content.decode()
    client.force_login(manager)
    html = client.get(corpus.get_absolute_url()).content.decode()
    assert url(corpus) in html
    assert reverse("annotator:corpus-throughput", kwargs={"slug": corpus.slug}) in html
    client.force_login(annotator)
    assert url(corpus) not in client.get(corpus.get_absolute_url()).content.decode()


def test_roles_are_from_the_role_constants():
    # The table is for reviewers; assigning for managers (see test_console_assign).
    assert Role.CURATOR in Role.REVIEWERS and Role.CURATOR not in Role.MANAGERS
