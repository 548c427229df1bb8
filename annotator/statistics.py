"""Agreement statistics of stored annotations: database rows in, JSON-ready dictionaries out.

Reads each layer (claim type; stance per target) as integer triples (sentence id, annotator id,
choice id) in chunks of sentences through a server-side cursor, hands the chunks to the pure
`agreement.summarize_chunks`, and only then maps ids to usernames and choice values. What a
layer holds is one chunk, 16 bytes per sentence of the corpus (`SentenceIndex`, for the
rankings) and a few numbers per article, however many ratings there are.

`corpus_statistics` is the statistics page, its JSON endpoint, the API and `manage.py agreement
--corpus`; `corpus_agreement` gives the corpus-wide figures alone (no rankings, no sentence
index), which the dataset cards of exports and releases record.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, cast

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from annotator.agreement import (
    LEVELS,
    NUMERIC_LEVELS,
    Chunk,
    CodedRatings,
    Level,
    summarize_chunks,
)
from annotator.curating import Unit
from annotator.models import (
    Annotation,
    Corpus,
    GoldLabel,
    LabelChoice,
    Layer,
    Sentence,
)

# How many of the least agreed sentences and articles the page lists.
RANKED_SENTENCES = 50
RANKED_ARTICLES = 20
# Ratings per chunk when a layer is read in chunks of sentences (about 2 MB of NumPy columns).
RATINGS_CHUNK = 50_000
# What a dataset card (an export's, a release's) says about each layer's agreement.
CARD_KEYS = (
    "layer",
    "target",
    "label",
    "level",
    "n_units",
    "n_ratings",
    "n_annotators",
    "krippendorff_alpha",
    "krippendorff_alpha_ci",
    "percent_agreement",
    "fleiss_kappa",
    "mean_pairwise_kappa",
)


def units_of(corpus: Corpus) -> list[Unit]:
    """Every layer the statistics cover: claim type, then stance for each target in order."""
    return [Unit(layer=Layer.CLAIM_TYPE, target=None)] + [
        Unit(layer=Layer.STANCE, target=target) for target in corpus.stance_targets.all()
    ]


def default_level(unit: Unit, choices: list[LabelChoice]) -> Level:
    """Stance is a scale (against < neutral < favor) when every choice has a numeric code."""
    if unit.layer == Layer.STANCE and all(c.numeric_code is not None for c in choices):
        return "interval"
    return "nominal"


def read_rating_chunks(
    unit: Unit,
    choices: list[LabelChoice],
    *,
    left_out: Collection[int] = frozenset(),
    chunk_size: int | None = None,
) -> Iterator[CodedRatings]:
    """A layer's ratings (sentence id, annotator id, choice id) in chunks of about `chunk_size`,
    each sentence's ratings in one chunk, without the sentences in `left_out` (those that do
    not count: `Sentence.objects.not_counted()`).

    Read in sentence order through a server-side cursor (the layer's index is in that order),
    so only one chunk is ever in memory. Filtering on the corpus's own choice ids (and the
    target, which belongs to one corpus) scopes the rows without joining sentences and
    articles; the few sentences left out are dropped here, not by a join.
    """
    chunk_size = chunk_size or RATINGS_CHUNK
    rows = (
        Annotation.objects.filter(
            layer=unit.layer, target=unit.target, choice_id__in=[c.pk for c in choices]
        )
        .order_by("sentence_id")
        .values_list("sentence_id", "annotator_id", "choice_id")
        .iterator(chunk_size=chunk_size)
    )
    skipped = np.fromiter(left_out, dtype=np.int64, count=len(left_out))
    carried = np.zeros((0, 3), dtype=np.int64)
    while batch := list(islice(rows, chunk_size)):
        block = np.concatenate([carried, np.array(batch, dtype=np.int64)])
        # The last sentence of the batch may go on in the next one: carry it over.
        cut = int(np.searchsorted(block[:, 0], block[-1, 0]))
        block, carried = block[:cut], block[cut:]
        yield from _coded(block, skipped)
    yield from _coded(carried, skipped)


def _coded(block: np.ndarray, skipped: np.ndarray) -> Iterator[CodedRatings]:
    block = block[~np.isin(block[:, 0], skipped)]
    if block.size:
        yield CodedRatings.from_arrays(block[:, 0], block[:, 1], block[:, 2])


def with_gold(
    chunks: Iterable[CodedRatings],
    unit: Unit,
    choices: list[LabelChoice],
    *,
    chunk_size: int | None = None,
) -> Iterator[Chunk]:
    """Each chunk of `read_rating_chunks` with the confirmed gold labels of its sentences
    ({sentence id: choice id}; unconfirmed pre-fills are not gold yet), read beside it in
    sentence order through a second server-side cursor."""
    rows = (
        GoldLabel.objects.filter(
            layer=unit.layer,
            target=unit.target,
            choice_id__in=[c.pk for c in choices],
            confirmed=True,
        )
        .order_by("sentence_id")
        .values_list("sentence_id", "choice_id")
        .iterator(chunk_size=chunk_size or RATINGS_CHUNK)
    )
    pending = next(rows, None)
    for chunk in chunks:
        last = cast(int, chunk.units[-1])  # chunks hold sentence ids in increasing order
        gold: dict[Hashable, Hashable] = {}
        while pending is not None and pending[0] <= last:
            gold[pending[0]] = pending[1]
            pending = next(rows, None)
        yield Chunk(ratings=chunk, gold=gold)


def read_alpha(value: float | None, reason: str | None) -> str:
    """Krippendorff's own guideline (2004): 0.8 reliable, 0.667 the floor for tentative use."""
    if value is None:
        return f"not defined: {reason}"
    if value >= 0.8:
        return "reliable: conclusions can be drawn from these labels"
    if value >= 0.667:
        return "tentative: good enough for tentative conclusions only"
    if value > 0:
        return "unreliable: annotators agree little beyond chance"
    return "no agreement beyond chance"


def read_kappa(value: float | None, reason: str | None) -> str:
    """Landis & Koch's (1977) bands."""
    if value is None:
        return f"not defined: {reason}"
    for floor, words in (
        (0.8, "almost perfect"),
        (0.6, "substantial"),
        (0.4, "moderate"),
        (0.2, "fair"),
        (0.0, "slight"),
    ):
        if value > floor:
            return f"{words} agreement beyond chance"
    return "no agreement beyond chance"


def read_percent(value: float | None, reason: str | None) -> str:
    if value is None:
        return f"not defined: {reason}"
    return (
        f"two annotators of the same sentence chose the same label {value:.0%} of the time"
        " (chance agreement included)"
    )


def _rename(summary: dict[str, Any], users: Mapping[int, str], values: Mapping[int, str]) -> None:
    """Swap ids for usernames and choice values, in place, once the numbers are done."""
    summary["categories"] = [values[c] for c in summary["categories"]]
    for pair in summary["pairwise"]:
        pair["annotators"] = [users[a] for a in pair["annotators"]]
        pair["categories"] = [values[c] for c in pair["categories"]]
    for category in summary["per_category"]:
        category["category"] = values[category["category"]]
    for annotator in summary["per_annotator"]:
        annotator["annotator"] = users[annotator["annotator"]]
    for annotator in summary["accuracy"] or ():
        annotator["annotator"] = users[annotator["annotator"]]


@dataclass(frozen=True)
class SentenceIndex:
    """A corpus's sentences as the rankings need them, 16 bytes a sentence: the ids of those
    that count (sorted) with each one's article, and the few that do not (`left_out`)."""

    ids: np.ndarray
    article: np.ndarray  # each counted sentence's position in `articles`
    articles: np.ndarray  # article ids, sorted
    left_out: frozenset[int]

    @classmethod
    def of(cls, corpus: Corpus) -> SentenceIndex:
        ids, articles = array("q"), array("q")
        left_out = set()
        for pk, article_id, counts in (
            Sentence.objects.filter(article__corpus=corpus)
            .with_counts_flag()
            .order_by()
            # mypy misses annotations made by a QuerySet method (django-stubs#2917).
            .values_list("id", "article_id", "counts")  # type: ignore[misc]
            .iterator(chunk_size=RATINGS_CHUNK)
        ):
            if counts:
                ids.append(pk)
                articles.append(article_id)
            else:
                left_out.add(pk)
        sentence_ids = np.frombuffer(ids, dtype=np.int64)
        order = np.argsort(sentence_ids, kind="stable")
        article_ids, article = np.unique(
            np.frombuffer(articles, dtype=np.int64)[order], return_inverse=True
        )
        return cls(sentence_ids[order], article.reshape(-1), article_ids, frozenset(left_out))


class _Tally:
    """What the page lists beside the coefficients, added up chunk by chunk: the distribution
    of labels per annotator, the least agreed sentences and, per article, how much its
    sentences are disputed."""

    def __init__(self, sentences: SentenceIndex) -> None:
        self.sentences = sentences
        self.n_ratings = 0
        self.distribution: Counter[tuple[int, int]] = Counter()
        self.lowest_ids = np.zeros(0, dtype=np.int64)
        self.lowest_shares = np.zeros(0, dtype=np.float64)
        n_articles = sentences.articles.size
        self.disagreement = np.zeros(n_articles)
        self.units = np.zeros(n_articles, dtype=np.int64)
        self.disputed = np.zeros(n_articles, dtype=np.int64)

    def ratings(self, chunks: Iterable[CodedRatings]) -> Iterator[CodedRatings]:
        for chunk in chunks:
            self.n_ratings += len(chunk)
            pairs, n = np.unique(
                np.stack([chunk.annotator, chunk.label], axis=1), axis=0, return_counts=True
            )
            for (annotator, label), count in zip(pairs.tolist(), n.tolist(), strict=True):
                self.distribution[chunk.annotators[annotator], chunk.labels[label]] += count
            yield chunk

    def shares(self, units: Sequence[Hashable], shares: np.ndarray) -> None:
        sentence_ids = np.asarray(units, dtype=np.int64)
        # Least agreed first; ties by sentence id.
        ids = np.concatenate([self.lowest_ids, sentence_ids])
        all_shares = np.concatenate([self.lowest_shares, shares])
        keep = np.lexsort((ids, all_shares))[:RANKED_SENTENCES]
        self.lowest_ids, self.lowest_shares = ids[keep], all_shares[keep]
        index = self.sentences.ids
        position = np.minimum(np.searchsorted(index, sentence_ids), max(index.size - 1, 0))
        # A sentence imported after the index was read (the page reads without a snapshot)
        # has no article here: it counts everywhere but in the articles' ranking.
        known = index[position] == sentence_ids if index.size else position < 0
        article = self.sentences.article[position[known]]
        shares = shares[known]
        size = self.sentences.articles.size
        self.disagreement += np.bincount(article, weights=1 - shares, minlength=size)
        self.units += np.bincount(article, minlength=size)
        self.disputed += np.bincount(article, weights=shares < 1, minlength=size).astype(np.int64)

    def least_agreed_sentences(self) -> list[dict[str, Any]]:
        return [
            {"sentence_id": s, "agreement": share}
            for s, share in zip(self.lowest_ids.tolist(), self.lowest_shares.tolist(), strict=True)
            if share < 1
        ]

    def least_agreed_articles(self) -> list[dict[str, Any]]:
        candidates = np.flatnonzero(self.disputed)
        mean = self.disagreement[candidates] / self.units[candidates]
        articles = self.sentences.articles[candidates]
        ranked = np.lexsort((articles, -mean))[:RANKED_ARTICLES]
        return [
            {
                "article_id": int(articles[i]),
                "n_units": int(self.units[candidates[i]]),
                "n_disputed": int(self.disputed[candidates[i]]),
                "mean_disagreement": float(mean[i]),
            }
            for i in ranked.tolist()
        ]


def _left_out(corpus: Corpus) -> frozenset[int]:
    return frozenset(
        Sentence.objects.not_counted().filter(article__corpus=corpus).values_list("id", flat=True)
    )


def layer_statistics(
    corpus: Corpus,
    unit: Unit,
    *,
    choices: list[LabelChoice],
    sentences: SentenceIndex,
    level: Level | None = None,
    replicates: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """One layer's figures with ids still in place (see `corpus_statistics` for names).
    Sentences that do not count (excluded page furniture) are left out of every figure.

    The ratings are read in chunks of sentences (`read_rating_chunks`), so what the layer
    holds is one chunk, the corpus's `SentenceIndex` and a few numbers per article."""
    level, level_note = _layer_level(unit, choices, level)
    tally = _Tally(sentences)
    summary = summarize_chunks(
        with_gold(
            tally.ratings(read_rating_chunks(unit, choices, left_out=sentences.left_out)),
            unit,
            choices,
        ),
        level=level,
        order=[c.pk for c in choices],
        codes=_codes(level, choices),
        replicates=replicates,
        seed=seed,
        gold=True,
        on_unit_shares=tally.shares,
    ).to_dict()
    del summary["per_unit"]
    result = {
        **_layer_names(unit),
        "choices": [
            {"id": c.pk, "value": c.value, "name": c.name, "key": c.key, "code": c.numeric_code}
            for c in choices
        ],
        **summary,
        "level_note": level_note,
        "n_ratings_total": tally.n_ratings,
        "distribution": [
            {"annotator": a, "choice": c, "n": n}
            for (a, c), n in sorted(tally.distribution.items())
        ],
        "least_agreed_sentences": tally.least_agreed_sentences(),
        "least_agreed_articles": tally.least_agreed_articles(),
        "gold": GoldLabel.objects.for_layer(unit.layer, unit.target)
        .filter(sentence__in=Sentence.objects.counted().filter(article__corpus=corpus))
        .with_staleness()
        .aggregate(
            n_confirmed=Count("id", filter=Q(confirmed=True)),
            n_unconfirmed=Count("id", filter=Q(confirmed=False)),
            n_stale=Count("id", filter=Q(stale=True)),
        ),
    }
    for name, read in (
        ("krippendorff_alpha", read_alpha),
        ("fleiss_kappa", read_kappa),
        ("mean_pairwise_kappa", read_kappa),
        ("percent_agreement", read_percent),
    ):
        result[f"{name}_reading"] = read(result[name], result[f"{name}_reason"])
    return result


def _layer_level(unit: Unit, choices: list[LabelChoice], level: Level | None) -> tuple[Level, str]:
    """The level a layer is measured at, and why it is not the one asked for ("" when it is)."""
    level = level or default_level(unit, choices)
    if level in NUMERIC_LEVELS and any(c.numeric_code is None for c in choices):
        # Claim types (or stance choices without codes) have no distances between them: an
        # interval request for every layer falls back to the layer's own level, and says so.
        note = f"{level} level needs a numeric code on every choice of this layer"
        return default_level(unit, choices), note
    if level == "ratio" and any(c.numeric_code < 0 for c in choices):  # type: ignore[operator]
        note = "ratio level needs numeric codes of at least 0 (a scale with a true zero)"
        return default_level(unit, choices), note
    return level, ""


def _codes(level: Level, choices: list[LabelChoice]) -> dict[Hashable, float] | None:
    # A numeric level is left only when every choice has a code (see `_layer_level`).
    if level not in NUMERIC_LEVELS:
        return None
    return {c.pk: c.numeric_code for c in choices if c.numeric_code is not None}


def _layer_names(unit: Unit) -> dict[str, Any]:
    return {
        "layer": unit.layer,
        "target": None if unit.target is None else {"id": unit.target.pk, "name": unit.target.name},
        "label": unit.label,
    }


def _choices_by_layer(corpus: Corpus) -> defaultdict[str, list[LabelChoice]]:
    choices_of: defaultdict[str, list[LabelChoice]] = defaultdict(list)
    for choice in corpus.choices.order_by("order", "id"):
        choices_of[choice.layer].append(choice)
    return choices_of


def corpus_agreement(
    corpus: Corpus, *, level: Level | None = None, replicates: int = 1000, seed: int = 0
) -> list[dict[str, Any]]:
    """Each layer's corpus-wide figures, exactly as `corpus_statistics` gives them, without
    what needs every sentence (rankings, per-sentence agreement, accuracy against gold).

    Reads each layer in chunks of sentences (`read_rating_chunks`), so the memory it takes
    does not grow with the number of ratings. Annotators stay ids: the figures named here
    (alpha and its interval, kappas, percent agreement, counts) name nobody.
    """
    left_out = _left_out(corpus)
    choices_of = _choices_by_layer(corpus)
    layers = []
    for unit in units_of(corpus):
        choices = choices_of[unit.layer]
        layer_level, level_note = _layer_level(unit, choices, level)
        summary = summarize_chunks(
            read_rating_chunks(unit, choices, left_out=left_out),
            level=layer_level,
            order=[c.pk for c in choices],
            codes=_codes(layer_level, choices),
            replicates=replicates,
            seed=seed,
        ).to_dict()
        del summary["per_unit"], summary["accuracy"]
        layers.append({**_layer_names(unit), **summary, "level_note": level_note})
    return layers


def corpus_statistics(
    corpus: Corpus,
    *,
    level: Level | None = None,
    replicates: int = 1000,
    seed: int = 0,
    units: list[Unit] | None = None,
) -> dict[str, Any]:
    """Every layer's agreement figures for a corpus, JSON-ready, with usernames and values.

    `level` overrides each layer's default (nominal for claim type; interval for stance when
    every stance choice has a numeric code). Ordinal uses the choices' display order.
    """
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    units = units_of(corpus) if units is None else units
    choices_of = _choices_by_layer(corpus)
    index = SentenceIndex.of(corpus)
    layers = [
        layer_statistics(
            corpus,
            unit,
            choices=choices_of[unit.layer],
            sentences=index,
            level=level,
            replicates=replicates,
            seed=seed,
        )
        for unit in units
    ]

    user_ids = {row["annotator"] for layer in layers for row in layer["distribution"]}
    users = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    values = {c.pk: c.value for choices in choices_of.values() for c in choices}
    sentence_ids = {
        row["sentence_id"] for layer in layers for row in layer["least_agreed_sentences"]
    }
    sentences = {
        s.pk: s
        for s in Sentence.objects.filter(pk__in=sentence_ids)
        .select_related("article")
        .only("id", "text", "ordinal", "article__id", "article__title", "article__external_id")
    }
    article_ids = {row["article_id"] for layer in layers for row in layer["least_agreed_articles"]}
    titles = {
        pk: title or external_id
        for pk, title, external_id in corpus.articles.filter(pk__in=article_ids).values_list(
            "pk", "title", "external_id"
        )
    }
    for layer in layers:
        _rename(layer, users, values)
        for row in layer["distribution"]:
            row["annotator"] = users[row["annotator"]]
            row["choice"] = values[row["choice"]]
        for row in layer["least_agreed_sentences"]:
            sentence = sentences[row["sentence_id"]]
            row.update(
                article_id=sentence.article_id,
                article_title=str(sentence.article),
                ordinal=sentence.ordinal,
                text=sentence.text,
            )
        for row in layer["least_agreed_articles"]:
            row["title"] = titles[row["article_id"]]
    return {"corpus": corpus.slug, "name": corpus.name, "layers": layers}
