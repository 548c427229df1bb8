"""Model versions and predictions for tests of the workspace, assignment and curation sides of
model assistance, written as the predictions API or the training task would store them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.utils import timezone

from annotator.models import (
    Annotation,
    Corpus,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    ModelKind,
    ModelStatus,
    ModelVersion,
    Prediction,
    Role,
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


CLAIM_VALUES = ("factual_claim", "opinion", "user_comment", "not_a_claim")


@dataclass
class FlippedGold:
    """A generated corpus whose trained model agrees with every label but two: one gold label
    deliberately flipped, and one annotator's slip."""

    corpus: Corpus
    version: ModelVersion
    flipped: Sentence  # gold says "not_a_claim"; annotators and model say "opinion"
    slipped: Sentence  # gold and the model say "factual_claim"; `sloppy` said "user_comment"
    curator: object
    sloppy: object


def flipped_gold_corpus(make_corpus, make_article, make_member, *, articles=6, **fields):
    """Articles of four sentences; each sentence's true class cycles through the claim types;
    two annotators label every sentence as true; confirmed gold says the same; the trained
    version's held-out probabilities put 0.85 on the true class."""
    corpus = make_corpus(**fields)
    careful = make_member(corpus=corpus, username=f"careful{next(_versions)}")
    sloppy = make_member(corpus=corpus, username=f"sloppy{next(_versions)}")
    curator = make_member(corpus=corpus, role=Role.CURATOR, username=f"curator{next(_versions)}")
    version = model_version(corpus, kind=ModelKind.TRAINED, name="baseline", label_source="gold")
    choices = {
        c.value: c for c in LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE)
    }
    sentences = []
    for n in range(articles):
        article = make_article(
            corpus=corpus, text=f"Claim {n} one here. Claim {n} two here. Three {n}. Four {n}."
        )
        sentences.extend(article.sentences.order_by("ordinal"))
    flipped, slipped = sentences[5], sentences[10]
    for i, sentence in enumerate(sentences):
        true = CLAIM_VALUES[i % len(CLAIM_VALUES)]
        if sentence == flipped:
            true = "opinion"
        if sentence == slipped:
            true = "factual_claim"
        held_out = dict.fromkeys(CLAIM_VALUES, 0.05) | {true: 0.85}
        if sentence == slipped:
            # The sloppy annotator's label is the least plausible of all (0.02).
            held_out = {
                "factual_claim": 0.88,
                "opinion": 0.05,
                "user_comment": 0.02,
                "not_a_claim": 0.05,
            }
        predict(version, sentence, true, held_out[true], probabilities=held_out, held_out=held_out)
        # Annotations before gold, so the gold is not stale (changed underneath).
        for annotator in (careful, sloppy):
            value = "user_comment" if (sentence == slipped and annotator == sloppy) else true
            Annotation.objects.create(
                sentence=sentence,
                annotator=annotator,
                layer=Layer.CLAIM_TYPE,
                choice=choices[value],
            )
        gold = "not_a_claim" if sentence == flipped else true
        GoldLabel.objects.create(
            sentence=sentence,
            layer=Layer.CLAIM_TYPE,
            choice=choices[gold],
            method=GoldMethod.ADJUDICATED,
            confirmed=True,
            decided_by=curator,
        )
    return FlippedGold(corpus, version, flipped, slipped, curator, sloppy)
