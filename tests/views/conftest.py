"""Fixtures for the workspace views: an article assigned to the `annotator` fixture."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser

from annotator.models import Article, Assignment, Corpus, LabelChoice, Sentence

TEXT = (
    "The ministry said exports rose 4% in May. Critics called the figure misleading.\n\n"
    "I think this is a disaster for farmers. Readers wrote in to complain."
)


@pytest.fixture
def article(corpus: Corpus, make_article: Callable[..., Article]) -> Article:
    return make_article(corpus=corpus, text=TEXT, title="Exports rise")


@pytest.fixture
def assigned(article: Article, annotator: AbstractUser) -> Assignment:
    return Assignment.objects.create(article=article, annotator=annotator)


@pytest.fixture
def sentences(article: Article) -> list[Sentence]:
    return list(article.sentences.order_by("ordinal"))


def choice(corpus: Corpus, value: str) -> LabelChoice:
    return LabelChoice.objects.get(corpus=corpus, value=value)
