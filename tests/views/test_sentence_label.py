"""Saving a label: htmx fragment or plain POST + redirect; only for the signed-in annotator."""

from __future__ import annotations

from django.urls import reverse

from annotator.forms import label_value
from annotator.models import Annotation, AnnotationHistory, Assignment
from tests.views.conftest import choice


def url(sentence) -> str:
    return reverse("annotator:sentence-label", kwargs={"pk": sentence.pk})


def test_htmx_label_saves_and_returns_only_that_row(client, corpus, annotator, assigned, sentences):
    client.force_login(annotator)
    opinion = choice(corpus, "opinion")
    response = client.post(
        url(sentences[1]), {"label": label_value(opinion), "seconds": "6.5"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div class="sentence-row')
    assert f'id="s-{sentences[1].pk}"' in html
    assert sentences[0].text not in html  # only the one row
    assert 'aria-pressed="true"' in html
    annotation = Annotation.objects.get()
    assert (annotation.sentence, annotation.annotator, annotation.choice) == (
        sentences[1],
        annotator,
        opinion,
    )
    assert annotation.seconds_spent == 6.5


def test_plain_post_redirects_to_the_sentence(client, corpus, annotator, assigned, sentences):
    client.force_login(annotator)
    target = corpus.stance_targets.get()
    response = client.post(
        url(sentences[2]), {"label": label_value(choice(corpus, "against"), target)}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/articles/{assigned.article.pk}/#s-{sentences[2].pk}")
    assert Annotation.objects.get().target == target


def test_seconds_are_clamped(client, corpus, annotator, assigned, sentences):
    client.force_login(annotator)
    client.post(
        url(sentences[0]), {"label": label_value(choice(corpus, "opinion")), "seconds": "99999"}
    )
    assert Annotation.objects.get().seconds_spent == 3600


def test_label_of_another_corpus_is_refused(client, make_corpus, annotator, assigned, sentences):
    other = make_corpus()
    client.force_login(annotator)
    response = client.post(
        url(sentences[0]), {"label": label_value(choice(other, "opinion"))}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    stance_without_target = client.post(
        url(sentences[0]), {"label": str(choice(assigned.article.corpus, "favor").pk)}
    )
    assert stance_without_target.status_code == 302
    assert not Annotation.objects.exists()


def test_annotator_always_writes_as_themselves(
    client, corpus, annotator, other_annotator, assigned, sentences
):
    """There is no annotation id to tamper with: the annotator is the signed-in user."""
    Assignment.objects.create(article=assigned.article, annotator=other_annotator)
    client.force_login(other_annotator)
    client.post(url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))})
    client.force_login(annotator)
    client.post(
        url(sentences[0]),
        {"label": label_value(choice(corpus, "factual_claim")), "annotator": other_annotator.pk},
    )
    labels = dict(Annotation.objects.values_list("annotator__username", "choice__value"))
    assert labels == {"other-annotator": "opinion", "annotator": "factual_claim"}


def test_unassigned_member_cannot_label(client, corpus, other_annotator, article, sentences):
    client.force_login(other_annotator)
    response = client.post(
        url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert not Annotation.objects.exists()


def test_outsider_gets_404(client, corpus, outsider, sentences):
    client.force_login(outsider)
    response = client.post(url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))})
    assert response.status_code == 404
    assert not AnnotationHistory.objects.exists()


def test_csrf_is_enforced(corpus, annotator, assigned, sentences):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    response = client.post(url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))})
    assert response.status_code == 403
    assert not Annotation.objects.exists()


def test_label_save_query_count(
    client, corpus, annotator, other_annotator, assigned, sentences, django_assert_num_queries
):
    Assignment.objects.create(article=assigned.article, annotator=other_annotator)
    client.force_login(other_annotator)
    for sentence in sentences:
        client.post(url(sentence), {"label": label_value(choice(corpus, "opinion"))})
    client.force_login(annotator)
    opinion = label_value(choice(corpus, "opinion"))
    # session, user, sentence (+ role, may-label), choices, targets; in a transaction (a
    # savepoint inside the test's own): lock current label, savepoint, insert, release, history,
    # release; then the row: my labels, my note
    with django_assert_num_queries(14):
        client.post(url(sentences[0]), {"label": opinion}, HTTP_HX_REQUEST="true")
