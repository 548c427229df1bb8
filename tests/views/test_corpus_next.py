"""The "Next article" button."""

from __future__ import annotations

from django.urls import reverse

from annotator.models import Assignment


def next_url(corpus) -> str:
    return reverse("annotator:corpus-next", kwargs={"slug": corpus.slug})


def test_next_opens_an_article_then_continues_it(client, corpus, annotator, article):
    client.force_login(annotator)
    first = client.post(next_url(corpus))
    assert first["Location"] == article.get_absolute_url()
    assert client.post(next_url(corpus))["Location"] == article.get_absolute_url()
    assert Assignment.objects.filter(annotator=annotator).count() == 1


def test_nothing_left_says_so(client, corpus, annotator):
    client.force_login(annotator)
    response = client.post(next_url(corpus), follow=True)
    assert "Nothing left for you here" in response.content.decode()


def test_get_is_not_allowed_and_outsider_gets_404(client, corpus, annotator, outsider):
    client.force_login(annotator)
    assert client.get(next_url(corpus)).status_code == 405
    client.force_login(outsider)
    assert client.post(next_url(corpus)).status_code == 404
