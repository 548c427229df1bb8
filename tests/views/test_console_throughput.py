"""The throughput page: managers only, the period in the query string, a bounded query count."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from annotator.models import Assignment, AssignmentStatus, Role


def url(corpus) -> str:
    return reverse("annotator:corpus-throughput", kwargs={"slug": corpus.slug})


def test_only_managers(client, corpus, manager, curator, annotator, outsider):
    client.force_login(manager)
    assert client.get(url(corpus)).status_code == 200
    for user in (curator, annotator, outsider):
        client.force_login(user)
        assert client.get(url(corpus)).status_code == 404
        assert client.get(url(corpus), HTTP_HX_REQUEST="true").status_code == 404


def test_page_shows_each_annotator_with_a_chart_and_flags_who_stopped(
    client, corpus, manager, annotator, other_annotator, make_article
):
    article = make_article(corpus=corpus)
    Assignment.objects.create(article=article, annotator=other_annotator)
    done = make_article(corpus=corpus, text="Done already.")
    Assignment.objects.create(
        article=done, annotator=annotator, status=AssignmentStatus.DONE, finished_at=timezone.now()
    )
    client.force_login(manager)
    html = client.get(url(corpus), {"days": 30}).content.decode()
    assert "annotator" in html and "other-annotator" in html
    assert html.count("<svg") == 2
    assert "Articles annotator finished per day: 1 in 30 days" in html
    assert 'class="idle"' in html and "stopped?" in html
    assert "Take back their articles" in html
    assert f"annotators={other_annotator.pk}&amp;preview=1" in html


def test_period_must_be_one_offered(client, corpus, manager):
    client.force_login(manager)
    for days in ("3", "x", "-7"):
        response = client.get(url(corpus), {"days": days})
        assert response.status_code == 400
        assert "Choose one of the periods" in response.content.decode()


def test_htmx_request_gets_the_page(client, corpus, manager):
    client.force_login(manager)
    response = client.get(url(corpus), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Throughput" in response.content.decode()


def test_query_count_does_not_grow_with_annotators(
    client, corpus, manager, make_member, make_article, make_annotation, django_assert_num_queries
):
    client.force_login(manager)

    def load() -> None:
        # session, user, corpus with role, members with workload and last change, labels and
        # time and median per sentence of the period (one query), finished per day.
        with django_assert_num_queries(6):
            assert client.get(url(corpus)).status_code == 200

    load()
    article = make_article(corpus=corpus)
    for n in range(6):
        user = make_member(corpus=corpus, role=Role.ANNOTATOR)
        make_annotation(sentence=article.sentences.first(), annotator=user, value="opinion")
        Assignment.objects.create(
            article=article,
            annotator=user,
            status=AssignmentStatus.DONE,
            finished_at=timezone.now() - timedelta(days=n),
        )
    load()
