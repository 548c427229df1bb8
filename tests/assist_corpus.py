"""Load a generated labelled corpus (tests/claim_corpus.py) into the database, for the
model-assistance tests and bench: articles whose text is their sentences one a line, and each
sentence's generated claim type as every given annotator's label (and as gold, if asked)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from annotator.models import (
    Annotation,
    Article,
    Corpus,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    Sentence,
    content_hash,
)
from tests.claim_corpus import GeneratedCorpus


def load_generated(
    corpus: Corpus,
    generated: GeneratedCorpus,
    *,
    annotators: Sequence[AbstractBaseUser] = (),
    gold_by: AbstractBaseUser | None = None,
    batch: int = 5000,
) -> list[int]:
    """Store the corpus; the sentence ids, in the generated order."""
    choice_of = dict(
        LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE).values_list("value", "pk")
    )
    by_article: dict[str, list[int]] = {}
    for index, group in enumerate(generated.groups):
        by_article.setdefault(group, []).append(index)
    articles = Article.objects.bulk_create(
        Article(
            corpus=corpus,
            external_id=group,
            title=group,
            text="\n".join(generated.texts[i] for i in indices),
            content_hash=content_hash("\n".join(generated.texts[i] for i in indices)),
        )
        for group, indices in by_article.items()
    )
    sentences = []
    order = []
    for article, indices in zip(articles, by_article.values(), strict=True):
        start = 0
        for ordinal, i in enumerate(indices):
            text = generated.texts[i]
            sentences.append(
                Sentence(
                    article=article,
                    ordinal=ordinal,
                    paragraph=ordinal,
                    start=start,
                    end=start + len(text),
                    text=text,
                )
            )
            order.append(i)
            start += len(text) + 1
    Sentence.objects.bulk_create(sentences, batch_size=batch)
    ids = [0] * len(generated.texts)
    for sentence, i in zip(sentences, order, strict=True):
        ids[i] = sentence.pk
    now = timezone.now()
    for annotator in annotators:
        Annotation.objects.bulk_create(
            (
                Annotation(
                    sentence_id=ids[i],
                    annotator=annotator,
                    layer=Layer.CLAIM_TYPE,
                    choice_id=choice_of[generated.class_names[label]],
                    created_at=now,
                    updated_at=now,
                )
                for i, label in enumerate(generated.labels)
            ),
            batch_size=batch,
        )
    if gold_by is not None:
        GoldLabel.objects.bulk_create(
            (
                GoldLabel(
                    sentence_id=ids[i],
                    layer=Layer.CLAIM_TYPE,
                    choice_id=choice_of[generated.class_names[label]],
                    method=GoldMethod.ADJUDICATED,
                    decided_by=gold_by,
                )
                for i, label in enumerate(generated.labels)
            ),
            batch_size=batch,
        )
    return ids
