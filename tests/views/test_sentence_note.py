"""Flagging a sentence as unsure and leaving a note."""

from __future__ import annotations

from django.urls import reverse

from annotator.models import SentenceNote


def url(sentence) -> str:
    return reverse("annotator:sentence-note", kwargs={"pk": sentence.pk})


def test_note_and_flag_saved_via_htmx(client, annotator, assigned, sentences):
    client.force_login(annotator)
    response = client.post(
        url(sentences[0]), {"unsure": "on", "note": "Irony?"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "? Unsure" in response.content.decode()
    note = SentenceNote.objects.get()
    assert (note.annotator, note.unsure, note.note) == (annotator, True, "Irony?")


def test_note_plain_post_redirects_and_replaces(client, annotator, assigned, sentences):
    client.force_login(annotator)
    client.post(url(sentences[0]), {"unsure": "on", "note": "first"})
    response = client.post(url(sentences[0]), {"note": "second"})
    assert response.status_code == 302
    note = SentenceNote.objects.get()
    assert (note.unsure, note.note) == (False, "second")


def test_too_long_note_is_refused(client, annotator, assigned, sentences):
    client.force_login(annotator)
    response = client.post(url(sentences[0]), {"note": "x" * 1001}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert not SentenceNote.objects.exists()


def test_notes_of_others_are_not_shown(client, annotator, other_annotator, assigned, sentences):
    from annotator.models import Assignment

    Assignment.objects.create(article=assigned.article, annotator=other_annotator)
    client.force_login(other_annotator)
    client.post(url(sentences[0]), {"unsure": "on", "note": "secret worry"})
    client.force_login(annotator)
    html = client.get(assigned.article.get_absolute_url()).content.decode()
    assert "secret worry" not in html
    assert "? Unsure" not in html


def test_outsider_gets_404(client, outsider, sentences):
    client.force_login(outsider)
    assert client.post(url(sentences[0]), {"note": "x"}).status_code == 404


def test_note_on_an_article_not_assigned_is_refused(client, other_annotator, article, sentences):
    client.force_login(other_annotator)
    htmx = client.post(url(sentences[0]), {"note": "mine?"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403
    assert "not assigned to you" in htmx.content.decode()
    page = client.post(url(sentences[0]), {"note": "mine?"}, follow=True)
    assert "not assigned to you" in page.content.decode()
    assert not SentenceNote.objects.exists()


def test_note_save_keeps_the_labels_on_the_row(client, corpus, annotator, assigned, sentences):
    from annotator.forms import label_value
    from tests.views.conftest import choice

    client.force_login(annotator)
    client.post(
        reverse("annotator:sentence-label", kwargs={"pk": sentences[0].pk}),
        {"label": label_value(choice(corpus, "opinion"))},
    )
    html = client.post(
        url(sentences[0]), {"note": "sure?"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'aria-pressed="true"' in html and "sure?" in html


def test_a_refused_note_without_htmx_goes_back_to_the_page_saying_why(
    client, annotator, assigned, sentences
):
    client.force_login(annotator)
    response = client.post(url(sentences[0]), {"note": "x" * 1001}, follow=True)
    assert "Note not saved:" in response.content.decode()
    assert not SentenceNote.objects.exists()
