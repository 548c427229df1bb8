"""Curation views: the queue, settling (full page and htmx), confirming, bulk rules, access."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator import curating
from annotator.curating import Unit
from annotator.models import GoldLabel, GoldMethod, LabelChoice, Layer, Role, SentenceNote
from annotator.resegmenting import set_excluded

TEXT = (
    "The minister said the plan works. Critics disagree with him. "
    "Officials met on Monday. Talks ended late at night."
)
CLAIM = Unit(layer=Layer.CLAIM_TYPE, target=None)


@pytest.fixture
def sentences(corpus, make_article, annotator, other_annotator, make_annotation):
    """Sentence 1 disputed (opinion vs not a claim, with a note), the rest unanimous."""
    sentences = list(make_article(corpus=corpus, text=TEXT).sentences.order_by("ordinal"))
    for i, sentence in enumerate(sentences):
        make_annotation(sentence=sentence, annotator=annotator, value="opinion")
        make_annotation(
            sentence=sentence,
            annotator=other_annotator,
            value="not_a_claim" if i == 1 else "opinion",
        )
    SentenceNote.objects.create(
        sentence=sentences[1], annotator=other_annotator, note="Reads like <b>reported</b> speech"
    )
    return sentences


def queue_url(slug: str = "korea") -> str:
    return reverse("annotator:curation-queue", kwargs={"slug": slug})


def settle_url(sentence, slug: str = "korea") -> str:
    return reverse("annotator:curation-settle", kwargs={"slug": slug, "pk": sentence.pk})


def choice(corpus, value: str) -> LabelChoice:
    return LabelChoice.objects.get(corpus=corpus, value=value)


@pytest.mark.parametrize("role", ["manager", "curator"])
def test_queue_shows_disputed_sentence_with_labels_notes_and_context(
    client, request, sentences, role
):
    client.force_login(request.getfixturevalue(role))
    response = client.get(queue_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="curation-item') == 1
    assert "Critics disagree with him." in html
    assert "The minister said the plan works." in html  # context before
    assert "Officials met on Monday." in html  # context after
    assert "other-annotator" in html and "Not a claim" in html and "Opinion" in html
    assert "Reads like &lt;b&gt;reported&lt;/b&gt; speech" in html


@pytest.mark.parametrize("who", ["annotator", "outsider"])
def test_annotators_and_outsiders_get_404_everywhere(client, request, corpus, sentences, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(queue_url()).status_code == 404
    sentence_url = reverse("annotator:curation-sentence", args=["korea", sentences[1].pk])
    assert client.get(sentence_url).status_code == 404
    response = client.post(
        settle_url(sentences[1]), {"layer": "claim_type", "choice": choice(corpus, "opinion").pk}
    )
    assert response.status_code == 404
    accept = reverse("annotator:curation-accept-unanimous", args=["korea"])
    assert client.post(accept, {"layer": "claim_type"}).status_code == 404
    assert not GoldLabel.objects.exists()


def test_htmx_settle_answers_with_the_settled_fragment(client, curator, corpus, sentences):
    client.force_login(curator)
    response = client.post(
        settle_url(sentences[1]),
        {"layer": "claim_type", "choice": choice(corpus, "opinion").pk, "note": "speech act"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'class="curation-item settled"' in html
    assert "speech act" in html
    gold = GoldLabel.objects.get()
    assert (gold.sentence, gold.method, gold.decided_by, gold.note) == (
        sentences[1],
        GoldMethod.ADJUDICATED,
        curator,
        "speech act",
    )


def test_plain_settle_redirects_back_to_the_queue(client, curator, corpus, sentences):
    client.force_login(curator)
    response = client.post(
        settle_url(sentences[1]),
        {"layer": "claim_type", "choice": choice(corpus, "not_a_claim").pk},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(queue_url())
    assert GoldLabel.objects.get().choice.value == "not_a_claim"
    # Settled sentences leave the open queue.
    assert 'class="curation-item' not in client.get(queue_url()).content.decode()


def test_settle_refuses_a_stance_choice_for_claim_type(client, curator, corpus, sentences):
    client.force_login(curator)
    response = client.post(
        settle_url(sentences[1]), {"layer": "claim_type", "choice": choice(corpus, "favor").pk}
    )
    assert response.status_code == 400
    assert b"not a claim type choice" in response.content
    assert not GoldLabel.objects.exists()


def test_settle_refuses_an_excluded_sentence(client, curator, manager, corpus, sentences):
    set_excluded(
        article_id=sentences[1].article_id,
        sentence_ids=[sentences[1].pk],
        excluded=True,
        by=manager,
    )
    client.force_login(curator)
    response = client.post(
        settle_url(sentences[1]), {"layer": "claim_type", "choice": choice(corpus, "opinion").pk}
    )
    assert response.status_code == 400
    assert b"excluded" in response.content
    assert not GoldLabel.objects.exists()


def test_settle_needs_a_choice(client, curator, sentences):
    client.force_login(curator)
    response = client.post(settle_url(sentences[1]), {"layer": "claim_type"})
    assert response.status_code == 400
    assert not GoldLabel.objects.exists()


def test_sentence_of_another_corpus_is_404(client, curator, corpus, make_corpus, make_article):
    other = make_article(corpus=make_corpus(), text=TEXT).sentences.first()
    client.force_login(curator)
    response = client.post(
        settle_url(other), {"layer": "claim_type", "choice": choice(corpus, "opinion").pk}
    )
    assert response.status_code == 404


def test_accept_unanimous_from_the_queue(client, curator, sentences):
    client.force_login(curator)
    response = client.post(
        reverse("annotator:curation-accept-unanimous", args=["korea"]), {"layer": "claim_type"}
    )
    assert response.status_code == 302
    assert GoldLabel.objects.filter(method=GoldMethod.UNANIMOUS).count() == 3


def test_majority_prefill_then_confirm_by_htmx(
    client, curator, corpus, sentences, make_member, make_annotation
):
    third = make_member(corpus=corpus, role=Role.ANNOTATOR)
    make_annotation(sentence=sentences[1], annotator=third, value="opinion")
    client.force_login(curator)
    response = client.post(
        reverse("annotator:curation-prefill-majority", args=["korea"]),
        {"layer": "claim_type", "threshold": "0.66"},
    )
    assert response.status_code == 302
    gold = GoldLabel.objects.get()
    assert (gold.confirmed, gold.choice.value) == (False, "opinion")
    html = client.get(queue_url()).content.decode()
    assert "awaiting confirmation" in html and "data-confirm" in html

    response = client.post(
        reverse("annotator:curation-confirm", args=["korea", sentences[1].pk]),
        {"layer": "claim_type"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    gold.refresh_from_db()
    assert gold.confirmed and gold.method == GoldMethod.MAJORITY


def test_bad_threshold_is_a_400(client, curator, sentences):
    client.force_login(curator)
    url = reverse("annotator:curation-prefill-majority", args=["korea"])
    assert client.post(url, {"layer": "claim_type", "threshold": "0.4"}).status_code == 400
    assert client.post(url, {"layer": "claim_type", "threshold": "most"}).status_code == 400


def test_stale_gold_is_flagged_in_the_queue(client, curator, corpus, sentences, other_annotator):
    from datetime import timedelta

    from annotator.models import Annotation

    gold = curating.settle(
        sentence=sentences[1], unit=CLAIM, choice=choice(corpus, "opinion"), curator=curator
    )
    changed = Annotation.objects.get(sentence=sentences[1], annotator=other_annotator)
    changed.choice = choice(corpus, "user_comment")
    changed.updated_at = gold.decided_at + timedelta(seconds=1)
    changed.save()
    client.force_login(curator)
    html = client.get(queue_url()).content.decode()
    assert "changed after this decision" in html


def test_curation_sentence_page_and_fragment(client, curator, sentences):
    client.force_login(curator)
    url = reverse("annotator:curation-sentence", args=["korea", sentences[1].pk])
    page = client.get(url, {"layer": "claim_type"})
    fragment = client.get(url, {"layer": "claim_type"}, HTTP_HX_REQUEST="true")
    assert page.status_code == fragment.status_code == 200
    assert b"<html" in page.content and b"<html" not in fragment.content
    assert b"Critics disagree with him." in fragment.content


def test_unknown_layer_is_a_400(client, curator, sentences):
    client.force_login(curator)
    assert client.get(queue_url(), {"layer": "topic"}).status_code == 400


def test_filter_by_annotator(client, curator, corpus, sentences, make_member, make_annotation):
    third = make_member(corpus=corpus)
    client.force_login(curator)
    html = client.get(queue_url(), {"annotator": third.pk}).content.decode()
    assert 'class="curation-item' not in html
    assert "Nothing left to settle" in html


def add_disputes(corpus, make_article, make_member, make_annotation, *, articles: int) -> None:
    annotators = [make_member(corpus=corpus) for _ in range(3)]
    for number in range(articles):
        article = make_article(corpus=corpus, text=f"Article {number} begins. {TEXT}")
        for sentence in article.sentences.all():
            for annotator, value in zip(
                annotators, ["opinion", "opinion", "user_comment"], strict=True
            ):
                make_annotation(sentence=sentence, annotator=annotator, value=value)
                SentenceNote.objects.create(sentence=sentence, annotator=annotator, note="hm")


@pytest.mark.parametrize("articles", [1, 3])
def test_queue_query_count_does_not_grow_with_rows(
    client,
    curator,
    corpus,
    make_article,
    make_member,
    make_annotation,
    django_assert_num_queries,
    articles,
):
    add_disputes(corpus, make_article, make_member, make_annotation, articles=articles)
    client.force_login(curator)
    # 2 session and user; 1 corpus with role; 1 page count; 1 page of sentences with articles;
    # items: 1 annotations with annotators and choices, 1 notes, 1 gold with staleness,
    # 1 neighbouring sentences; then the filter bar: 1 annotators, 1 targets, 1 choices.
    with django_assert_num_queries(12):
        response = client.get(queue_url())
    assert response.status_code == 200
    assert response.content.decode().count('class="curation-item') == 5 * articles


@pytest.mark.parametrize("htmx", [True, False])
def test_resettling_names_the_gold_label_it_replaced(client, curator, corpus, sentences, htmx):
    client.force_login(curator)
    # The fragment (htmx), or the page the plain POST redirects to with its message.
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {"follow": True}
    data = {"layer": "claim_type", "choice": choice(corpus, "opinion").pk}
    first = client.post(settle_url(sentences[1]), data, **headers)
    again = client.post(settle_url(sentences[1]), data, **headers)  # same label: nothing to name
    data["choice"] = choice(corpus, "not_a_claim").pk
    changed = client.post(settle_url(sentences[1]), data, **headers)

    assert "(was:" not in first.content.decode() + again.content.decode()
    assert "(was: Opinion)" in changed.content.decode()
    assert GoldLabel.objects.get().choice.value == "not_a_claim"
