"""Undo over HTTP: the row that changed comes back, retargeted for htmx."""

from __future__ import annotations

from django.urls import reverse

from annotator.forms import label_value
from annotator.models import Annotation
from tests.views.conftest import choice


def test_undo_via_htmx_returns_the_changed_row(client, corpus, annotator, assigned, sentences):
    client.force_login(annotator)
    label_url = reverse("annotator:sentence-label", kwargs={"pk": sentences[2].pk})
    client.post(label_url, {"label": label_value(choice(corpus, "opinion"))})
    client.post(label_url, {"label": label_value(choice(corpus, "not_a_claim"))})
    undo_url = reverse("annotator:article-undo", kwargs={"pk": assigned.article.pk})

    response = client.post(undo_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#s-{sentences[2].pk}"
    assert response["HX-Reswap"] == "outerHTML"
    assert Annotation.objects.get().choice.value == "opinion"

    assert client.post(undo_url).status_code == 302  # plain POST works too
    assert not Annotation.objects.exists()
    assert client.post(undo_url, HTTP_HX_REQUEST="true").status_code == 204  # nothing left


def test_undo_never_touches_other_annotators(
    client, corpus, annotator, other_annotator, assigned, sentences
):
    from annotator.models import Assignment

    Assignment.objects.create(article=assigned.article, annotator=other_annotator)
    client.force_login(other_annotator)
    client.post(
        reverse("annotator:sentence-label", kwargs={"pk": sentences[0].pk}),
        {"label": label_value(choice(corpus, "opinion"))},
    )
    client.force_login(annotator)
    undo_url = reverse("annotator:article-undo", kwargs={"pk": assigned.article.pk})
    assert client.post(undo_url, HTTP_HX_REQUEST="true").status_code == 204
    assert Annotation.objects.count() == 1


def test_undo_needs_membership(client, outsider, article):
    undo_url = reverse("annotator:article-undo", kwargs={"pk": article.pk})
    client.force_login(outsider)
    assert client.post(undo_url).status_code == 404


def test_undo_on_an_article_given_back_is_refused(client, corpus, annotator, assigned, sentences):
    """The labelling rule holds for undo too: once the article is skipped, its labels stay."""
    from annotator.models import AssignmentStatus

    client.force_login(annotator)
    client.post(
        reverse("annotator:sentence-label", kwargs={"pk": sentences[0].pk}),
        {"label": label_value(choice(corpus, "opinion"))},
    )
    assigned.status = AssignmentStatus.SKIPPED
    assigned.save()
    undo_url = reverse("annotator:article-undo", kwargs={"pk": assigned.article.pk})

    refused = client.post(undo_url, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    assert "not assigned to you" in refused.content.decode()
    assert client.post(undo_url).status_code == 403
    assert Annotation.objects.get().choice.value == "opinion"


def test_member_without_the_article_may_not_undo(client, other_annotator, article):
    undo_url = reverse("annotator:article-undo", kwargs={"pk": article.pk})
    client.force_login(other_annotator)
    assert client.post(undo_url, HTTP_HX_REQUEST="true").status_code == 403
    assert client.post(undo_url).status_code == 403


def test_undo_on_a_finished_article_reopens_it(client, corpus, annotator, assigned, sentences):
    from annotator.models import AssignmentStatus

    client.force_login(annotator)
    for sentence in sentences:
        client.post(
            reverse("annotator:sentence-label", kwargs={"pk": sentence.pk}),
            {"label": label_value(choice(corpus, "opinion"))},
        )
    client.post(reverse("annotator:article-finish", kwargs={"pk": assigned.article.pk}))
    assigned.refresh_from_db()
    assert assigned.status == AssignmentStatus.DONE
    client.post(reverse("annotator:article-undo", kwargs={"pk": assigned.article.pk}))
    assigned.refresh_from_db()
    assert assigned.status == AssignmentStatus.ASSIGNED
