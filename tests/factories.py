"""Plain factory functions shared by fixtures and by tests that build data outside a fixture."""

from __future__ import annotations

import itertools

from annotator.models import Article, Corpus, Sentence, content_hash
from annotator.segmentation import SEGMENTER_VERSION, split_sentences

_sequence = itertools.count(1)


def create_article(
    *,
    corpus: Corpus,
    text: str = "First sentence here. Second one follows.\n\nA new paragraph.",
    external_id: str | None = None,
    title: str = "",
) -> Article:
    """An article segmented with the real segmenter, as an import would store it, except
    zones: every sentence reads as body with no rule (as before zones existed; imports store
    `sources.article_sentences`' suggestions)."""
    article = Article.objects.create(
        corpus=corpus,
        external_id=external_id or f"article-{next(_sequence)}.txt",
        title=title,
        text=text,
        content_hash=content_hash(text),
        segmenter_version=SEGMENTER_VERSION,
    )
    Sentence.objects.bulk_create(
        Sentence(
            article=article,
            ordinal=ordinal,
            paragraph=span.paragraph,
            start=span.start,
            end=span.end,
            text=text[span.start : span.end],
        )
        for ordinal, span in enumerate(split_sentences(text))
    )
    return article


def sentence_ids(article: Article, *ordinals: int) -> list[int]:
    """The ids of the article's sentences at these ordinals, in the order given (0 for none)."""
    found = dict(article.sentences.filter(ordinal__in=ordinals).values_list("ordinal", "pk"))
    return [found.get(ordinal, 0) for ordinal in ordinals]


def prediction_record(**fields: object) -> dict:
    """One external prediction as the API, the JSONL import and the command take it."""
    return {
        "layer": "claim_type",
        "label": "opinion",
        "score": 0.8,
        "model": "roberta-claims",
        "model_version": "3",
        **fields,
    }
