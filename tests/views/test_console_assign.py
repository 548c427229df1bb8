"""Assignment at scale: only managers; choosing articles by filter or in the table; a preview
that changes nothing; apply; take back; refusals in words; a bounded query count."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from annotator.models import Annotation, Assignment, AssignmentStatus, Role


def url(corpus) -> str:
    return reverse("annotator:corpus-assign", kwargs={"slug": corpus.slug})


@pytest.fixture
def articles(corpus, make_article):
    corpus.annotators_per_article = 2
    corpus.save()
    return [
        make_article(corpus=corpus, text=f"Report {n} opens.", title=f"Report {n}")
        for n in range(6)
    ]


@pytest.fixture
def team(corpus, annotator, other_annotator):
    return [annotator, other_annotator]


def test_only_managers(client, corpus, curator, annotator, outsider, articles):
    for user in (curator, annotator, outsider):
        client.force_login(user)
        assert client.get(url(corpus)).status_code == 404
        assert client.get(url(corpus), HTTP_HX_REQUEST="true").status_code == 404
        assert client.post(url(corpus), {"mode": "each"}).status_code == 404
    assert not Assignment.objects.exists()


def test_page_counts_the_articles_matching_the_filters(client, corpus, manager, articles, team):
    Assignment.objects.create(article=articles[0], annotator=team[0])
    client.force_login(manager)
    html = client.get(url(corpus)).content.decode()
    assert re.search(r"<strong>6</strong> articles\s+\(every article of the corpus\)", html)
    html = client.get(f"{url(corpus)}?status=unassigned&q=report").content.decode()
    assert "<strong>5</strong> articles" in html
    assert "matching: title or id contains “report”; status unassigned" in html
    assert "annotator" in html and "other-annotator" in html  # the members to choose from


def test_preview_changes_nothing_and_apply_does_what_it_said(
    client, corpus, manager, articles, team
):
    client.force_login(manager)
    query = urlencode(
        [("status", "unassigned"), ("mode", "balanced"), ("limit", "4"), ("preview", "1")]
        + [("annotators", user.pk) for user in team]
    )
    preview = client.get(f"{url(corpus)}?{query}")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert not Assignment.objects.exists()
    assert "<strong>8</strong> new assignments would be made" in html
    assert "2 reached the limit of 4 new article(s)" not in html  # balanced: per article
    assert "Articles refused as a whole: 2 the chosen annotators who may take it reached" in html
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    assert hidden["mode"] == "balanced" and hidden["status"] == "unassigned"

    form = re.search(r'<form method="post"[^>]*id="apply-form">(.*?)</form>', html, re.S).group(1)
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    response = client.post(url(corpus), dict_list(fields), follow=True)
    page = response.content.decode()
    assert (
        "Assigned 8 article assignment(s) of 6 article(s): annotator 4, other-annotator 4." in page
    )
    assert "2 article(s) refused: the chosen annotators who may take it reached the limit." in page
    assert Assignment.objects.count() == 8
    assert set(Assignment.objects.values_list("assigned_by", flat=True)) == {manager.pk}
    # Back on the same selection, with the figures of the table already current.
    assert response.redirect_chain[-1][0] == f"{url(corpus)}?status=unassigned"
    assert "<strong>2</strong> articles" in page


def dict_list(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def test_articles_chosen_in_the_table_and_each_mode_with_refusals(
    client, corpus, manager, articles, team, make_member
):
    third = make_member(corpus=corpus, role=Role.ANNOTATOR, username="third")
    Assignment.objects.create(article=articles[0], annotator=team[0], status=AssignmentStatus.DONE)
    client.force_login(manager)
    chosen = [articles[0].pk, articles[1].pk]
    page = client.get(f"{url(corpus)}?{urlencode([('article', pk) for pk in chosen])}")
    assert "<strong>2</strong> articles chosen in the table" in page.content.decode()
    assert f"#{articles[0].pk} Report 0" in page.content.decode()
    data = {"article": chosen, "mode": "each", "annotators": [team[0].pk, team[1].pk, third.pk]}
    response = client.post(url(corpus), data, follow=True)
    html = response.content.decode()
    assert "Assigned 3 article assignment(s) of 2 article(s)" in html
    assert "annotator: 1 refused, already done." in html
    assert "third: 2 refused, already has 2 annotators." in html
    assert Assignment.objects.filter(article__in=articles[2:]).count() == 0


def test_take_back_keeps_labels_and_finished_work(
    client, corpus, manager, articles, team, make_annotation
):
    for article in articles[:3]:
        Assignment.objects.create(article=article, annotator=team[0])
    Assignment.objects.filter(article=articles[0]).update(status=AssignmentStatus.DONE)
    sentence = articles[1].sentences.first()
    make_annotation(sentence=sentence, annotator=team[0], value="opinion")
    client.force_login(manager)
    data = {
        "annotator": team[0].pk,
        "mode": "unassign",
        "annotators": [team[0].pk],
        "preview": "1",
    }
    html = client.get(url(corpus), data).content.decode()
    assert "<strong>2</strong> assignments would be taken back" in html
    assert "1 done: finished work is kept" in html
    client.post(url(corpus), {k: v for k, v in data.items() if k != "preview"})
    statuses = dict(Assignment.objects.values_list("article_id", "status"))
    assert statuses == {
        articles[0].pk: AssignmentStatus.DONE,
        articles[1].pk: AssignmentStatus.SKIPPED,
        articles[2].pk: AssignmentStatus.SKIPPED,
    }
    assert Annotation.objects.filter(sentence=sentence, annotator=team[0]).exists()


def test_bad_input_comes_back_with_the_reason(client, corpus, manager, articles, team, outsider):
    client.force_login(manager)
    for data, words in (
        ({"mode": "each", "preview": "1"}, "This field is required"),
        ({"mode": "all", "annotators": [team[0].pk], "preview": "1"}, "Select a valid choice"),
        ({"mode": "each", "annotators": [outsider.pk], "preview": "1"}, "Select a valid choice"),
        (
            {"mode": "each", "annotators": [team[0].pk], "limit": "0", "preview": "1"},
            "greater than or equal to 1",
        ),
        ({"status": "lost", "mode": "each", "annotators": [team[0].pk], "preview": "1"}, "lost"),
    ):
        response = client.get(url(corpus), data)
        assert response.status_code == 400, data
        assert words in response.content.decode(), data
    response = client.post(url(corpus), {"mode": "each", "annotators": [outsider.pk]})
    assert response.status_code == 400
    assert not Assignment.objects.exists()


def test_htmx_request_gets_the_same_page(client, corpus, manager, articles):
    client.force_login(manager)
    response = client.get(url(corpus), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Assign articles" in response.content.decode()


def test_preview_query_count_does_not_grow_with_articles(
    client, corpus, manager, articles, team, make_article, django_assert_num_queries
):
    client.force_login(manager)
    data = {"mode": "balanced", "annotators": [u.pk for u in team], "preview": "1"}

    def load() -> None:
        # session, user, corpus with role, missing rows check, members with workload, the
        # selection's count, its ids, then per batch of 5,000 articles: the articles and
        # their assignments.
        with django_assert_num_queries(10):
            assert client.get(url(corpus), data).status_code == 200

    client.get(url(corpus))
    load()
    for n in range(20):
        make_article(corpus=corpus, text=f"More news {n}.")
    client.get(url(corpus))
    load()


def test_links_back_keep_the_filters_but_not_the_table_sort(client, corpus, manager, articles):
    client.force_login(manager)
    html = client.get(f"{url(corpus)}?status=unassigned&sort=labels").content.decode()
    table = reverse("annotator:corpus-articles", kwargs={"slug": corpus.slug})
    links = re.findall(rf'<a href="{re.escape(table)}\?([^"]*)">See them in the table</a>', html)
    assert links == ["status=unassigned"]


def test_article_ids_that_are_not_plain_digits_are_ignored_not_a_500(
    client, corpus, manager, articles, team
):
    # "²" is a digit to str.isdigit but not to int(); 5,000 digits are more than int() reads.
    client.force_login(manager)
    query = urlencode(
        [("mode", "balanced"), ("limit", "4"), ("preview", "1")]
        + [("annotators", user.pk) for user in team]
        + [("article", "²"), ("article", "9" * 5000), ("article", str(articles[0].pk))]
    )
    response = client.get(f"{url(corpus)}?{query}")
    assert response.status_code == 200
    assert not Assignment.objects.exists()
