"""Every workspace URL: login required, and 404 (never 403 or data) for non-members."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Annotation, Assignment, SentenceNote


def workspace_urls(corpus, article, sentence) -> list[tuple[str, str]]:
    by_slug = {"slug": corpus.slug}
    return [
        ("get", reverse("annotator:corpus-detail", kwargs=by_slug)),
        ("post", reverse("annotator:corpus-next", kwargs=by_slug)),
        ("get", reverse("annotator:corpus-assign", kwargs=by_slug)),
        ("get", reverse("annotator:article-detail", kwargs={"pk": article.pk})),
        ("post", reverse("annotator:article-undo", kwargs={"pk": article.pk})),
        ("post", reverse("annotator:article-finish", kwargs={"pk": article.pk})),
        ("post", reverse("annotator:article-skip", kwargs={"pk": article.pk})),
        ("post", reverse("annotator:sentence-label", kwargs={"pk": sentence.pk})),
        ("post", reverse("annotator:sentence-note", kwargs={"pk": sentence.pk})),
    ]


@pytest.mark.parametrize("htmx", [False, True])
def test_outsider_gets_404_everywhere(client, corpus, annotator, outsider, article, htmx):
    Assignment.objects.create(article=article, annotator=annotator)
    sentence = article.sentences.first()
    client.force_login(outsider)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for method, url in workspace_urls(corpus, article, sentence):
        response = getattr(client, method)(
            url, {"label": "1", "reason": "x", "note": "x"}, **headers
        )
        assert response.status_code == 404, url
    assert not Annotation.objects.exists()
    assert not SentenceNote.objects.exists()
    assert Assignment.objects.get().status == "assigned"


def test_anonymous_is_sent_to_login_everywhere(client, corpus, article):
    sentence = article.sentences.first()
    urls = [("get", reverse("annotator:home")), *workspace_urls(corpus, article, sentence)]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
