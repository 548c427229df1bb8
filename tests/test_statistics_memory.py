"""Agreement figures take memory that does not grow with the number of ratings (issue 14:
"memory flat"): a release card's corpus-wide figures take the same peak for eight times the
ratings; the statistics page, which also ranks sentences and articles, adds no more than its
index of sentences (16 bytes a sentence) and a few numbers per article. Measured with
tracemalloc, which counts NumPy's arrays as well as Python objects: peak allocations, not
seconds."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection

from annotator import statistics
from annotator.models import Corpus, LabelChoice, Layer
from annotator.statistics import corpus_agreement, corpus_statistics

SMALL, LARGE = 2_000, 16_000  # sentences; three claim-type ratings each


def fill(corpus: Corpus, annotators: list[AbstractUser], sentences: int) -> None:
    """`sentences` one-sentence articles, each rated by every annotator, written in SQL."""
    choices = list(
        LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE)
        .order_by("order")
        .values_list("id", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO annotator_article (corpus_id, external_id, title, url, text,
                content_hash, metadata, segmenter_version, imported_at)
            SELECT %s, 'a' || g, '', '', 'Sentence ' || g || '.', md5('a' || g), '{}', 't', now()
            FROM generate_series(1, %s) g
            """,
            [corpus.pk, sentences],
        )
        cursor.execute(
            """
            INSERT INTO annotator_sentence (article_id, ordinal, paragraph, start, "end", text,
                zone, zone_rule, zone_confirmed, excluded)
            SELECT id, 0, 0, 0, length(text), text, 'body', '', false, false
            FROM annotator_article WHERE corpus_id = %s
            """,
            [corpus.pk],
        )
        cursor.execute(
            """
            INSERT INTO annotator_annotation (sentence_id, annotator_id, layer, target_id,
                choice_id, seconds_spent, created_at, updated_at)
            SELECT s.id, u.id, 'claim_type', NULL,
                   (%s::bigint[])[1 + (s.id + u.n * (s.id %% 3)) %% 4], 1, now(), now()
            FROM annotator_sentence s
            JOIN annotator_article a ON a.id = s.article_id AND a.corpus_id = %s
            CROSS JOIN unnest(%s::bigint[]) WITH ORDINALITY AS u(id, n)
            """,
            [choices, corpus.pk, [a.pk for a in annotators]],
        )


def peak_bytes(compute: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        compute()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def small_and_large(
    make_corpus: Callable[..., Corpus], make_user: Callable[..., AbstractUser]
) -> tuple[Corpus, Corpus]:
    annotators = [make_user() for _ in range(3)]
    corpora = make_corpus(targets=()), make_corpus(targets=())
    for corpus, size in zip(corpora, (SMALL, LARGE), strict=True):
        fill(corpus, annotators, size)
    return corpora


def test_agreement_figures_take_memory_that_does_not_grow_with_the_ratings(
    small_and_large: tuple[Corpus, Corpus], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "RATINGS_CHUNK", 1_000)
    small, large = small_and_large
    figures = corpus_agreement(large, replicates=50)
    assert figures[0]["n_ratings"] == 3 * LARGE  # every rating was read

    card_small = peak_bytes(lambda: corpus_agreement(small, replicates=50))
    card_large = peak_bytes(lambda: corpus_agreement(large, replicates=50))
    page_small = peak_bytes(lambda: corpus_statistics(small, replicates=50))
    page_large = peak_bytes(lambda: corpus_statistics(large, replicates=50))

    assert card_large < 1.5 * card_small
    # Each added sentence is an article of its own here, so the page's per-article numbers
    # grow with it too. Holding the ratings as Python tuples took about 900 bytes a sentence.
    assert (page_large - page_small) / (LARGE - SMALL) < 100
