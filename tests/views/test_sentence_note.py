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
