"""Blind annotation: an annotator never learns another annotator's labels, notes or counts.

Two annotators work on the same article; `other_annotator` labels and notes everything with
values `annotator` never chose. Every page, fragment, API list, detail, filter, export and
statistic that `annotator` can ask for must show none of it. Reviewers (curator) do see it, which
proves the victim's data is really there to leak.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.annotating import save_label, save_note
from annotator.models import Article, Assignment, AssignmentStatus, Corpus, LabelChoice, Layer
from annotator.tokens import create_token

SECRET_NOTE = "SECRET-NOTE-of-the-other-annotator"


@pytest.fixture
def shared_article(
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> Article:
    article = make_article(
        corpus=corpus, text="Both annotators read this. Only one labels it.\n\nA third one."
    )
    Assignment.objects.create(article=article, annotator=annotator)
    Assignment.objects.create(
        article=article, annotator=other_annotator, status=AssignmentStatus.DONE
    )
    user_comment = LabelChoice.objects.get(corpus=corpus, value="user_comment")
    favor = LabelChoice.objects.get(corpus=corpus, value="favor")
    target = corpus.stance_targets.get()
    for sentence in article.sentences.select_related("article"):
        save_label(
            sentence=sentence,
            annotator=other_annotator,
            layer=Layer.CLAIM_TYPE,
            target=None,
            choice=user_comment,
        )
        save_label(
            sentence=sentence,
            annotator=other_annotator,
            layer=Layer.STANCE,
            target=target,
            choice=favor,
        )
        save_note(sentence=sentence, annotator=other_annotator, unsure=True, note=SECRET_NOTE)
    return article


def leaks(content: bytes, other: AbstractUser) -> list[str]:
    """What of the other annotator's work shows in a response."""
    text = content.decode()
    found = []
    if other.get_username() in text:
        found.append("username")
    if SECRET_NOTE in text:
        found.append("note")
    # A pressed button or a read-only badge for a label only the other annotator chose.
    if re.search(r'class="choice selected"[^>]*>(?:(?!</button>).)*(User comment|Favor)', text):
        found.append("selected label")
    if re.search(r'class="badge">(User comment|[^<]*: Favor)<', text):
        found.append("label badge")
    if "user_comment" in text or '"favor"' in text:
        found.append("label value")
    if "? Unsure" in text:
        found.append("unsure flag")
    return found


def test_the_leak_detector_finds_the_work_where_it_may_be_shown(
    client: Client, curator: AbstractUser, other_annotator: AbstractUser, shared_article: Article
) -> None:
    """The curator sees everyone's labels; the other annotator sees their own labels and notes:
    so the checks below would notice the same things reaching the wrong person."""
    client.force_login(curator)
    as_curator = client.get(shared_article.get_absolute_url())
    client.force_login(other_annotator)
    as_owner = client.get(shared_article.get_absolute_url())

    assert "username" in leaks(as_curator.content, other_annotator)
    assert {"note", "selected label", "unsure flag"} <= set(
        leaks(as_owner.content, other_annotator)
    )


def test_pages_and_fragments_show_an_annotator_only_their_own_work(
    client: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    shared_article: Article,
) -> None:
    client.force_login(annotator)
    first = shared_article.sentences.order_by("ordinal").first()
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    label_url = reverse("annotator:sentence-label", kwargs={"pk": first.pk})
    note_url = reverse("annotator:sentence-note", kwargs={"pk": first.pk})
    htmx = {"HX-Request": "true"}
    responses = {
        "home": client.get("/"),
        "corpus": client.get(corpus.get_absolute_url()),
        "article": client.get(shared_article.get_absolute_url()),
        "article missing": client.get(f"{shared_article.get_absolute_url()}?missing=1"),
        "label fragment": client.post(label_url, {"label": str(opinion.pk)}, headers=htmx),
        "bad label fragment": client.post(label_url, {"label": "nonsense"}, headers=htmx),
        "note fragment": client.post(note_url, {"note": "mine"}, headers=htmx),
        "undo fragment": client.post(
            reverse("annotator:article-undo", kwargs={"pk": shared_article.pk}), headers=htmx
        ),
        "tokens": client.get(reverse("annotator:token-list")),
    }

    for name, response in responses.items():
        assert response.status_code == (400 if name == "bad label fragment" else 200), name
        assert leaks(response.content, other_annotator) == [], name
    # Progress on the article counts this annotator's sentences only (all are the other's).
    assert 'id="article-progress"' in responses["article"].content.decode()
    assert re.search(r"0\s*/\s*3", responses["article"].content.decode())


@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_lists_details_and_filters_show_an_annotator_only_their_own_labels(
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    shared_article: Article,
    auth: str,
) -> None:
    client = Client()
    if auth == "token":
        client = Client(
            headers={"Authorization": f"Bearer {create_token(user=annotator, name='t')[1]}"}
        )
    else:
        client.force_login(annotator)
    sentence = shared_article.sentences.order_by("ordinal").first()
    theirs = other_annotator.annotations.values_list("pk", flat=True)
    target = corpus.stance_targets.get()
    queries = [
        "",
        f"?annotator={other_annotator.get_username()}",
        f"?sentence={sentence.pk}",
        f"?article={shared_article.pk}",
        f"?corpus={corpus.slug}",
        "?label=user_comment",
        "?label=favor",
        f"?layer=stance&target={target.pk}",
        "?updated_since=2000-01-01T00:00:00Z",
        "?page_size=1000",
    ]

    for query in queries:
        response = client.get(f"/api/v1/annotations/{query}")
        assert response.status_code == 200, query
        assert response.json()["results"] == [], query
    for pk in theirs:
        assert client.get(f"/api/v1/annotations/{pk}/").status_code == 404
    # Articles and sentences are shared reading; they carry no labels.
    for url in (f"/api/v1/articles/{shared_article.pk}/", f"/api/v1/sentences/{sentence.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert leaks(response.content, other_annotator) == []


def test_reviewer_only_views_answer_404_or_403_to_an_annotator(
    client: Client, corpus: Corpus, annotator: AbstractUser, shared_article: Article
) -> None:
    client.force_login(annotator)
    slug = corpus.slug
    sentence = shared_article.sentences.order_by("ordinal").first()
    not_found = [
        reverse("annotator:corpus-statistics", kwargs={"slug": slug}),
        reverse("annotator:corpus-statistics-json", kwargs={"slug": slug}),
        f"{reverse('annotator:corpus-statistics-json', kwargs={'slug': slug})}?level=interval",
        reverse("annotator:curation-queue", kwargs={"slug": slug}),
        f"{reverse('annotator:curation-queue', kwargs={'slug': slug})}?status=all",
        reverse("annotator:curation-sentence", kwargs={"slug": slug, "pk": sentence.pk}),
        reverse("annotator:corpus-assign", kwargs={"slug": slug}),
    ]
    forbidden = [
        f"/api/v1/corpora/{slug}/export/",
        f"/api/v1/corpora/{slug}/export/?format=csv&shape=long",
        f"/api/v1/corpora/{slug}/export/card/",
        f"/api/v1/corpora/{slug}/agreement/",
    ]

    for url in not_found:
        assert client.get(url).status_code == 404, url
    for url in forbidden:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"user_comment" not in response.content
    gold = client.get("/api/v1/gold-labels/")
    assert (gold.status_code, gold.json()["results"]) == (200, [])
    members = client.get("/api/v1/memberships/")
    assert (members.status_code, members.json()["results"]) == (200, [])
