"""The article page: sentences in order, own labels only, escaping, constant query count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.annotating import save_label, save_note
from annotator.models import Assignment, Layer, Sentence
from tests.views.conftest import choice


def url(article) -> str:
    return reverse("annotator:article-detail", kwargs={"pk": article.pk})


def label(sentence, user, value, target=None) -> None:
    sentence = Sentence.objects.select_related("article").get(pk=sentence.pk)
    corpus = sentence.article.corpus
    layer = Layer.STANCE if target else Layer.CLAIM_TYPE
    save_label(
        sentence=sentence,
        annotator=user,
        layer=layer,
        target=target,
        choice=choice(corpus, value),
    )


def test_shows_every_sentence_in_order_with_paragraph_breaks(
    client, annotator, assigned, sentences
):
    client.force_login(annotator)
    response = client.get(url(assigned.article))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(s.text) for s in sentences]
    assert positions == sorted(positions)
    assert html.count("new-paragraph") == 1  # one break between the two paragraphs
    assert "Exports rise" in html
    # Every claim-type and stance choice is a button showing its key.
    assert html.count('data-key="1"') == len(sentences)
    assert html.count('data-key="f"') == len(sentences)


def test_annotator_sees_only_own_labels(client, annotator, other_annotator, assigned, sentences):
    Assignment.objects.create(article=assigned.article, annotator=other_annotator)
    label(sentences[0], annotator, "opinion")
    label(sentences[1], other_annotator, "user_comment")
    client.force_login(annotator)
    html = client.get(url(assigned.article)).content.decode()
    assert html.count('class="choice selected"') == 1
    assert "other-annotator" not in html
    # 1 of 4 sentences complete for me; the other's label does not count.
    assert "1 / 4 sentences" in html


def test_curator_sees_everyones_labels(client, curator, annotator, assigned, sentences):
    label(sentences[1], annotator, "user_comment")
    client.force_login(curator)
    html = client.get(url(assigned.article)).content.decode()
    assert "annotator: User comment" in html
    assert "not assigned to you" in html  # read-only for the curator
    assert 'name="label"' not in html


def test_unassigned_member_reads_but_cannot_label(client, other_annotator, article):
    client.force_login(other_annotator)
    html = client.get(url(article)).content.decode()
    assert "not assigned to you" in html
    assert 'name="label"' not in html


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_non_members_get_404_or_login(client, who, outsider, article):
    if who == "outsider":
        client.force_login(outsider)
        assert client.get(url(article)).status_code == 404
    else:
        response = client.get(url(article))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_article_text_and_notes_are_escaped(client, corpus, annotator, make_article):
    text = (
        "<script>alert(1)</script> is text.\n\n<img src=x onerror=alert(1)> too. "
        '<div hx-get="/x" hx-trigger="load">Load</div> also.'
    )
    article = make_article(corpus=corpus, text=text, title="<b>Bold</b> title")
    Assignment.objects.create(article=article, annotator=annotator)
    sentence = article.sentences.select_related("article").first()
    save_note(sentence=sentence, annotator=annotator, unsure=True, note="<script>x()</script>")
    client.force_login(annotator)
    html = client.get(url(article)).content.decode()
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert 'hx-get="/x"' not in html
    assert "<b>Bold" not in html
    assert "<script>x()" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;div hx-get=&quot;/x&quot;" in html


def test_guidelines_are_rendered_and_sanitised(client, corpus, annotator, assigned):
    corpus.guidelines = (
        "# Claims\n\nA **factual claim** can be checked.\n\n"
        "<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))"
    )
    corpus.save()
    client.force_login(annotator)
    html = client.get(url(assigned.article)).content.decode()
    assert "<strong>factual claim</strong>" in html
    assert "alert(1)" not in html
    assert "onerror" not in html
    assert "javascript:" not in html


def test_missing_sentences_are_pointed_out(client, annotator, assigned, sentences):
    label(sentences[0], annotator, "opinion")
    client.force_login(annotator)
    html = client.get(url(assigned.article) + "?missing=1").content.decode()
    assert "3 sentences still need labels" in html
    assert html.count("is-missing") == 3


@pytest.mark.parametrize("sentence_count", [3, 30])
def test_query_count_does_not_grow_with_sentences(
    client,
    corpus,
    annotator,
    other_annotator,
    curator,
    make_article,
    sentence_count,
    django_assert_num_queries,
):
    text = " ".join(f"Sentence number {n} is here." for n in range(sentence_count))
    article = make_article(corpus=corpus, text=text)
    assert article.sentences.count() == sentence_count
    for user in (annotator, other_annotator):
        Assignment.objects.create(article=article, annotator=user)
        for sentence in article.sentences.all()[:3]:
            label(sentence, user, "opinion")
            label(sentence, user, "favor", target=corpus.stance_targets.get())
    sentence = article.sentences.select_related("article").first()
    save_note(sentence=sentence, annotator=annotator, unsure=True, note="hm")
    client.force_login(annotator)
    # session, user, article (+ role and assignment), choices, targets (the first page of a
    # schema version in this process), sentences, my annotations, my notes, corpus progress
    with django_assert_num_queries(9):
        assert client.get(url(article)).status_code == 200
    client.force_login(curator)
    # the same but the schema (now cached), plus everyone else's annotations (curators see all)
    with django_assert_num_queries(8):
        assert client.get(url(article)).status_code == 200
