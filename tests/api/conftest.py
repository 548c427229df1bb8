"""API fixtures: a client that sends a real token, and a small labelled corpus."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from annotator.annotating import save_label
from annotator.models import Article, Assignment, Corpus, LabelChoice, Layer, Sentence
from annotator.tokens import create_token


@pytest.fixture
def token_client() -> Callable[[AbstractUser], APIClient]:
    """An APIClient authenticating as `user` with a freshly created bearer token."""

    def make(user: AbstractUser) -> APIClient:
        _, raw = create_token(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def label(db: None) -> Callable[..., None]:
    """Store `annotator`'s label through the same function the workspace uses."""

    def make(
        *, sentence: Sentence, annotator: AbstractUser, value: str, target: object = None
    ) -> None:
        layer = Layer.STANCE if target is not None else Layer.CLAIM_TYPE
        corpus_id = Article.objects.values_list("corpus_id", flat=True).get(pk=sentence.article_id)
        choice = LabelChoice.objects.get(corpus_id=corpus_id, layer=layer, value=value)
        sentence = Sentence.objects.select_related("article").get(pk=sentence.pk)
        # Labelling needs the article held; the assignment made for it goes again, so the
        # tests' assignments are the ones they make themselves.
        held, made = Assignment.objects.get_or_create(
            article_id=sentence.article_id, annotator=annotator
        )
        save_label(
            sentence=sentence,
            annotator=annotator,
            layer=layer,
            target=target,
            choice=choice,
            seconds=2,
        )
        if made:
            held.delete()

    return make


@pytest.fixture
def labelled_article(
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
    label: Callable[..., None],
) -> Article:
    """Three sentences; both annotators label the first two, agreeing on the first only."""
    article = make_article(
        corpus=corpus,
        text="Pyongyang fired a missile. That was reckless.\n\n=SUM(A1) says a reader.",
        external_id="korea-1.txt",
        title="Missile test",
    )
    first, second, _ = article.sentences.order_by("ordinal")
    label(sentence=first, annotator=annotator, value="factual_claim")
    label(sentence=first, annotator=other_annotator, value="factual_claim")
    label(sentence=second, annotator=annotator, value="opinion")
    label(sentence=second, annotator=other_annotator, value="factual_claim")
    target = corpus.stance_targets.get()
    label(sentence=second, annotator=annotator, value="against", target=target)
    return article
