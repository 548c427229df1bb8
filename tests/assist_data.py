"""Model versions and predictions for tests of the workspace, assignment and curation sides of
model assistance, written as the predictions API or the training task would store them."""

from __future__ import annotations

import itertools

from django.utils import timezone

from annotator.models import (
    Corpus,
    LabelChoice,
    Layer,
    ModelKind,
    ModelStatus,
    ModelVersion,
    Prediction,
    Sentence,
    StanceTarget,
)

_versions = itertools.count(1)


def model_version(
    corpus: Corpus,
    *,
    layer: str = Layer.CLAIM_TYPE,
    target: StanceTarget | None = None,
    name: str = "roberta-claims",
    version: str | None = None,
    status: str = ModelStatus.DONE,
    kind: str = ModelKind.EXTERNAL,
    **fields: object,
) -> ModelVersion:
    number = next(_versions)
    return ModelVersion.objects.create(
        corpus=corpus,
        layer=layer,
        target=target,
        kind=kind,
        name=name,
        version=version or f"v{number}",
        number=number if kind == ModelKind.TRAINED else None,
        status=status,
        created_at=timezone.now(),
        **fields,
    )


def predict(
    version: ModelVersion,
    sentence: Sentence,
    value: str,
    score: float = 0.8,
    *,
    probabilities: dict[str, float] | None = None,
    held_out: dict[str, float] | None = None,
) -> Prediction:
    choice = LabelChoice.objects.get(corpus_id=version.corpus_id, layer=version.layer, value=value)
    return Prediction.objects.create(
        sentence=sentence,
        model_version=version,
        layer=version.layer,
        target=version.target,
        choice=choice,
        score=score,
        probabilities=probabilities,
        held_out_probabilities=held_out,
    )
