"""Skipping an article with a reason."""

from __future__ import annotations

from django.urls import reverse

from annotator.models import AssignmentStatus


def skip(client, article, reason):
    return client.post(
        reverse("annotator:article-skip", kwargs={"pk": article.pk}), {"reason": reason}
    )


def test_skip_with_reason(client, corpus, annotator, assigned):
    client.force_login(annotator)
    response = skip(client, assigned.article, "Not in English")
    assert response["Location"] == corpus.get_absolute_url()
    assigned.refresh_from_db()
    assert (assigned.status, assigned.skip_reason) == (AssignmentStatus.SKIPPED, "Not in English")


def test_skip_without_reason_is_refused(client, annotator, assigned):
    client.force_login(annotator)
    response = skip(client, assigned.article, "  ")
    assert response["Location"] == assigned.article.get_absolute_url()
    assigned.refresh_from_db()
    assert assigned.status == AssignmentStatus.ASSIGNED


def test_skip_needs_own_assignment(client, outsider, other_annotator, article):
    for user in (outsider, other_annotator):
        client.force_login(user)
        assert skip(client, article, "x").status_code == 404
