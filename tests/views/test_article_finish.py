"""Marking an article done: refused with the missing sentences pointed out, else done."""

from __future__ import annotations

from django.urls import reverse

from annotator.forms import label_value
from annotator.models import AssignmentStatus
from tests.views.conftest import choice


def finish(client, article):
    return client.post(reverse("annotator:article-finish", kwargs={"pk": article.pk}))


def test_incomplete_article_is_not_done_and_missing_are_listed(
    client, corpus, annotator, assigned, sentences
):
    client.force_login(annotator)
    client.post(
        reverse("annotator:sentence-label", kwargs={"pk": sentences[0].pk}),
        {"label": label_value(choice(corpus, "opinion"))},
    )
    response = finish(client, assigned.article)
    assert response.status_code == 302
    assert f"?missing=1#s-{sentences[1].pk}" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Not done yet: 3 sentence(s) still need labels (sentence 2, 3, 4)." in page
    assigned.refresh_from_db()
    assert assigned.status == AssignmentStatus.ASSIGNED


def test_complete_article_is_done_and_progress_moves(
    client, corpus, annotator, assigned, sentences
):
    client.force_login(annotator)
    for sentence in sentences:
        client.post(
            reverse("annotator:sentence-label", kwargs={"pk": sentence.pk}),
            {"label": label_value(choice(corpus, "factual_claim"))},
        )
    response = finish(client, assigned.article)
    assert response["Location"] == corpus.get_absolute_url()
    assigned.refresh_from_db()
    assert assigned.status == AssignmentStatus.DONE
    page = client.get(corpus.get_absolute_url()).content.decode()
    assert "is done" in page
    assert 'value="1"' in page  # the progress bar has one article done


def test_finish_needs_own_assignment(client, outsider, other_annotator, article):
    for user in (outsider, other_annotator):
        client.force_login(user)
        assert finish(client, article).status_code == 404
