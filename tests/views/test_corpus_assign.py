"""A manager assigns chosen articles to a member."""

from __future__ import annotations

from django.urls import reverse

from annotator.models import Assignment


def url(corpus) -> str:
    return reverse("annotator:corpus-assign", kwargs={"slug": corpus.slug})


def test_manager_assigns_and_sees_refusals(client, corpus, manager, annotator, make_article):
    first, second = make_article(corpus=corpus), make_article(corpus=corpus, text="Two.")
    Assignment.objects.create(article=second, annotator=annotator)
    client.force_login(manager)
    assert client.get(url(corpus)).status_code == 200
    response = client.post(
        url(corpus), {"annotator": annotator.pk, "articles": [first.pk, second.pk]}, follow=True
    )
    html = response.content.decode()
    assert "Assigned 1 article(s) to annotator." in html
    assert f"Not assigned: #{second.pk}" in html
    assert Assignment.objects.get(article=first).assigned_by == manager


def test_articles_of_another_corpus_cannot_be_chosen(
    client, corpus, make_corpus, manager, annotator, make_article
):
    foreign = make_article(corpus=make_corpus())
    client.force_login(manager)
    response = client.post(url(corpus), {"annotator": annotator.pk, "articles": [foreign.pk]})
    assert response.status_code == 200  # the form comes back with an error
    assert not Assignment.objects.exists()


def test_only_managers(client, corpus, curator, annotator, outsider):
    for user in (curator, annotator, outsider):
        client.force_login(user)
        assert client.get(url(corpus)).status_code == 404


def test_assign_page_query_count(
    client, corpus, manager, annotator, other_annotator, make_article, django_assert_num_queries
):
    for n in range(5):
        make_article(corpus=corpus, text=f"Article {n}.")
    client.force_login(manager)
    # session, user, corpus (manager role), members for the select, articles exist?, articles
    with django_assert_num_queries(6):
        assert client.get(url(corpus)).status_code == 200
