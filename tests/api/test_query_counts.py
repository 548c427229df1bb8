"""API lists cost a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from annotator.models import Article, Corpus

pytestmark = pytest.mark.django_db

# Every token-authenticated request: 1 query finds the token with its user (the token's
# last-use stamp is written at most every few minutes, and already was by the warm-up request).
AUTH = 1


@pytest.fixture
def busy_corpus(
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
    label: Callable[..., None],
) -> Corpus:
    for number in range(4):
        article = make_article(
            corpus=corpus, text=f"Story {number} begins. It goes on.\n\nIt ends here {number}."
        )
        for sentence in article.sentences.all():
            label(sentence=sentence, annotator=annotator, value="opinion")
            label(sentence=sentence, annotator=other_annotator, value="factual_claim")
    return corpus


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # the corpora with the caller's role (subquery)
        ("/api/v1/corpora/", AUTH + 1),
        # articles with sentence and finished-assignment counts (subqueries) and their corpus
        ("/api/v1/articles/", AUTH + 1),
        ("/api/v1/sentences/", AUTH + 1),
        # annotations with sentence, annotator and choice joined in
        ("/api/v1/annotations/", AUTH + 1),
        ("/api/v1/gold-labels/", AUTH + 1),
        # memberships with user and corpus
        ("/api/v1/memberships/", AUTH + 1),
    ],
)
def test_list_query_count_does_not_grow_with_rows(
    url: str,
    queries: int,
    busy_corpus: Corpus,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
    django_assert_num_queries: Callable,
) -> None:
    client = token_client(manager)
    warm = client.get(url)
    assert warm.status_code == 200

    with django_assert_num_queries(queries):
        response = client.get(url)

    assert response.status_code == 200


def test_annotation_list_has_many_rows_in_the_pinned_count(
    busy_corpus: Corpus,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
    django_assert_num_queries: Callable,
) -> None:
    client = token_client(manager)
    client.get("/api/v1/annotations/")

    with django_assert_num_queries(AUTH + 1):
        response = client.get("/api/v1/annotations/?page_size=100")

    assert len(response.json()["results"]) == 24


def test_export_queries_are_constant_per_chunk(
    busy_corpus: Corpus,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
    django_assert_num_queries: Callable,
    settings: object,
) -> None:
    # One article per chunk: 4 chunks.
    settings.EXPORT_CHUNK_SIZE = 3
    client = token_client(manager)
    client.get("/api/v1/corpora/")

    # auth + corpus + role check; schema: choices + targets; up front: sentence totals, choice
    # values, member names; per chunk: articles, sentences, annotations, notes, gold (5 x 4);
    # the empty last page of articles.
    with django_assert_num_queries(AUTH + 2 + 2 + 3 + 5 * 4 + 1):
        response = client.get(f"/api/v1/corpora/{busy_corpus.slug}/export/")
        lines = b"".join(response.streaming_content).splitlines()

    assert len(lines) == 12
