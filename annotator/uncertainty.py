"""How unsure the models are about each article, stored for uncertainty-first assignment.

`refresh_article_uncertainty(corpus)` reads, for every sentence of the corpus and every layer
(and stance target) with predictions, the newest finished model version's prediction (the same
one the workspace suggests, `suggesting.newest_predictions`), turns each into a probability row
over the layer's labels, and stores per article the mean normalised entropy and the mean dispute
score of those rows (`modelling.entropy`, `modelling.dispute`) in `ArticleUncertainty`. It runs
whenever predictions are stored (after training, for the whole corpus; after an import of
predictions, for the articles it touched), so `assigning.next_assignment` only reads one
number per article in its ORDER BY.

A prediction without a probability distribution (an external model that sent only its label and
score) counts as the score on its label and the rest spread evenly over the other labels: the
least committal distribution that agrees with what the model said.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import cast

import numpy as np
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotator import modelling
from annotator.models import (
    Article,
    ArticleUncertainty,
    Corpus,
    LabelChoice,
    ModelStatus,
    Prediction,
    Sentence,
)

NEWEST_FIRST = (
    "sentence_id",
    "layer",
    "target_id",
    "-model_version__created_at",
    "-model_version_id",
)
UNIT = ("sentence_id", "layer", "target_id")


def newest_per_unit(
    predictions: QuerySet[Prediction], *fields: str, chunk_size: int | None = None
) -> Iterator[tuple]:
    """(sentence id, layer, target id, *fields) of the newest finished model version's
    prediction per sentence, layer and target among `predictions` (newest by the version's
    creation, then id): the prediction the workspace suggests.

    On PostgreSQL one DISTINCT ON query (served by the `prediction_sentence_layer` index);
    elsewhere (SQLite for `make run`) the same rows in the same order, the first of each unit
    kept here. `chunk_size` streams the rows (a whole corpus) instead of reading them at once.
    """
    rows = (
        predictions.filter(model_version__status=ModelStatus.DONE)
        .order_by(*NEWEST_FIRST)
        .values_list(*UNIT, *fields)
    )
    if connection.vendor == "postgresql":
        rows = rows.distinct(*UNIT)
    found = rows.iterator(chunk_size=chunk_size) if chunk_size else iter(rows)
    if connection.vendor == "postgresql":
        yield from found
        return
    seen = None
    for row in found:
        if row[:3] != seen:
            seen = row[:3]
            yield row


def _distribution(
    values: list[str], probabilities: dict[str, float] | None, label: str, score: float
) -> list[float]:
    k = len(values)
    if probabilities:
        row = [max(float(probabilities.get(value, 0.0)), 0.0) for value in values]
        total = sum(row)
        if total > 0:
            return [p / total for p in row]
    rest = (1.0 - score) / (k - 1)
    return [score if value == label else rest for value in values]


def refresh_article_uncertainty(
    *, corpus: Corpus, sentence_ids: Iterable[int] | None = None
) -> int:
    """Recompute the stored uncertainty of every article of the corpus, or only of the articles
    of `sentence_ids` (an import of a few predictions), from the newest predictions; returns
    how many of those articles have one. Articles without any prediction get no row (they come
    after the scored ones in uncertainty-first assignment)."""
    articles_of_corpus = Article.objects.filter(corpus=corpus)
    if sentence_ids is not None:
        articles_of_corpus = articles_of_corpus.filter(
            pk__in=Sentence.objects.filter(pk__in=list(sentence_ids)).values("article_id")
        )
    chosen = articles_of_corpus.values("pk")
    values_of: dict[str, list[str]] = defaultdict(list)
    value_of_choice: dict[int, str] = {}
    for pk, layer, value in (
        LabelChoice.objects.filter(corpus=corpus).order_by("layer", "order", "pk")
    ).values_list("pk", "layer", "value"):
        values_of[layer].append(value)
        value_of_choice[pk] = value

    # The newest finished version's prediction per sentence, layer and target: the one the
    # workspace suggests.
    newest = newest_per_unit(
        Prediction.objects.filter(sentence__article__in=chosen),
        "sentence__article_id",
        "choice_id",
        "score",
        "probabilities",
        chunk_size=10_000,
    )
    rows: dict[str, list[list[float]]] = defaultdict(list)
    articles: dict[str, list[int]] = defaultdict(list)
    for _, layer, _, article_id, choice_id, score, probabilities in newest:
        values = values_of.get(layer)
        if not values or len(values) < 2 or choice_id not in value_of_choice:
            continue
        rows[layer].append(_distribution(values, probabilities, value_of_choice[choice_id], score))
        articles[layer].append(article_id)

    entropy_sum: dict[int, float] = defaultdict(float)
    dispute_sum: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for layer, layer_rows in rows.items():
        # Per article within the layer (modelling's own figures), then added up over layers.
        figures = modelling.article_uncertainty(np.asarray(layer_rows), articles[layer])
        for article_id, n, h, d in zip(
            cast(tuple[int, ...], figures.groups),  # the article ids given
            figures.n_sentences.tolist(),
            figures.mean_entropy.tolist(),
            figures.mean_dispute.tolist(),
            strict=True,
        ):
            entropy_sum[article_id] += h * n
            dispute_sum[article_id] += d * n
            count[article_id] += n

    now = timezone.now()
    scored = [
        ArticleUncertainty(
            article_id=article_id,
            corpus=corpus,
            mean_entropy=min(max(entropy_sum[article_id] / n, 0.0), 1.0),
            mean_dispute=min(max(dispute_sum[article_id] / n, 0.0), 1.0),
            predictions=n,
            computed_at=now,
        )
        for article_id, n in count.items()
    ]
    with transaction.atomic():
        # Replaced whole: an article whose predictions are gone loses its score.
        ArticleUncertainty.objects.filter(article__in=chosen).delete()
        ArticleUncertainty.objects.bulk_create(
            scored,
            batch_size=5_000,
            update_conflicts=True,
            unique_fields=["article"],
            update_fields=["mean_entropy", "mean_dispute", "predictions", "computed_at"],
        )
    return len(scored)
