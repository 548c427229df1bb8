"""Saving a label: htmx fragment or plain POST + redirect; only for the signed-in annotator,
only on an article they hold; cheap (queries pinned); and a stored label answers success."""

from __future__ import annotations

import time

import psycopg2
import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse

from annotator.annotating import label_saved
from annotator.forms import label_value
from annotator.models import Annotation, AnnotationHistory, Assignment, AssignmentStatus
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
    assert "not assigned to you" in response.content.decode()
    assert not Annotation.objects.exists()


def test_unassigned_member_is_told_why_on_the_full_page(
    client, corpus, other_annotator, article, sentences
):
    client.force_login(other_annotator)
    response = client.post(url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#s-{sentences[0].pk}")
    assert any("not assigned to you" in str(m) for m in get_messages(response.wsgi_request))
    assert not Annotation.objects.exists()


def test_skipped_article_can_no_longer_be_labelled(client, corpus, annotator, assigned, sentences):
    client.force_login(annotator)
    opinion = {"label": label_value(choice(corpus, "opinion"))}
    assert client.post(url(sentences[0]), opinion, HTTP_HX_REQUEST="true").status_code == 200
    Assignment.objects.filter(pk=assigned.pk).update(status=AssignmentStatus.SKIPPED)
    refused = client.post(url(sentences[1]), opinion, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    assert list(Annotation.objects.values_list("sentence", flat=True)) == [sentences[0].pk]


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
    target = corpus.stance_targets.get()
    client.post(url(sentences[0]), {"label": label_value(choice(corpus, "favor"), target)})
    opinion = label_value(choice(corpus, "opinion"))
    # session, user, the sentence with my labels and note, the save (one statement: rule,
    # upsert, history); the schema comes from the cache the saves above filled, and the row
    # is drawn from what the save knows
    with django_assert_num_queries(4):
        response = client.post(url(sentences[0]), {"label": opinion}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().count('aria-pressed="true"') == 2  # claim and stance


def test_label_save_query_count_with_a_cold_schema_and_for_reviewers(
    client, corpus, manager, assigned, sentences, django_assert_num_queries
):
    from annotator.views.workspace import forget_schemas

    Assignment.objects.create(article=assigned.article, annotator=manager)
    client.force_login(manager)
    forget_schemas()
    opinion = label_value(choice(corpus, "opinion"))
    # the four above, plus the schema (choices, targets) and, for a manager, everyone's labels
    with django_assert_num_queries(7):
        client.post(url(sentences[0]), {"label": opinion}, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(5):
        client.post(url(sentences[1]), {"label": opinion}, HTTP_HX_REQUEST="true")


def test_schema_change_reaches_the_next_save(client, corpus, annotator, assigned, sentences):
    """The cached schema is replaced when the corpus's schema_version moves, also after a
    bulk_create (the schema cache must never serve a stale name or miss a new choice)."""
    from annotator.corpora import save_choice
    from annotator.models import LabelChoice, Layer

    client.force_login(annotator)
    opinion = choice(corpus, "opinion")
    client.post(url(sentences[0]), {"label": label_value(opinion)}, HTTP_HX_REQUEST="true")
    opinion.name = "Judgement"
    save_choice(choice=opinion)  # the one home of schema writes, which moves schema_version
    html = client.post(
        url(sentences[0]), {"label": label_value(opinion)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Judgement" in html
    [added] = LabelChoice.objects.bulk_create(
        [LabelChoice(corpus=corpus, layer=Layer.CLAIM_TYPE, value="rumour", name="Rumour", key="9")]
    )
    response = client.post(url(sentences[1]), {"label": label_value(added)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Annotation.objects.get(sentence=sentences[1]).choice == added


def _terminate(pid: int) -> None:
    """Kill backend `pid` from a connection of its own and wait until it is gone."""
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    params.pop("cursor_factory", None)
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(200):
                cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone() is None:
                    return
                time.sleep(0.01)
    finally:
        admin.close()
    raise AssertionError(f"backend {pid} did not go away")


@pytest.mark.django_db(transaction=True)
def test_stored_label_answers_success_when_the_connection_dies_before_the_redraw(
    corpus, annotator, assigned, sentences
):
    """Issue 15: the label is committed, then the request's database connection is killed;
    the answer must still say "saved" (it did say 503, so people labelled twice)."""
    client = Client(raise_request_exception=False)
    client.force_login(annotator)
    opinion = choice(corpus, "opinion")
    killed = []

    def kill_connection(**kwargs: object) -> None:
        pid = connection.connection.get_backend_pid()
        _terminate(pid)
        killed.append(pid)

    label_saved.connect(kill_connection)
    try:
        response = client.post(
            url(sentences[1]), {"label": label_value(opinion)}, HTTP_HX_REQUEST="true"
        )
    finally:
        label_saved.disconnect(kill_connection)
        connection.close()

    assert killed
    assert response.status_code == 200
    assert f'id="s-{sentences[1].pk}"' in response.content.decode()
    assert 'aria-pressed="true"' in response.content.decode()
    stored = Annotation.objects.get()
    assert (stored.sentence_id, stored.choice) == (sentences[1].pk, opinion)
    assert list(AnnotationHistory.objects.values_list("old_value", "new_value")) == [
        ("", "opinion")
    ]
