"""Agreement statistics of stored annotations: database rows in, JSON-ready dictionaries out.

Reads each layer (claim type; stance per target) as integer triples (sentence id, annotator id,
choice id) with one `values_list` query, hands them to the pure `agreement.summarize`, and only
then maps ids to usernames and choice values. Used by the statistics page, its JSON endpoint,
the API and `manage.py agreement --corpus`.

`corpus_agreement` gives the corpus-wide figures alone (no rankings of sentences and articles),
reading each layer in chunks of sentences so that its memory does not grow with the number of
ratings; a release's card records those.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterator, Mapping
from itertools import islice
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from annotator.agreement import (
    LEVELS,
    NUMERIC_LEVELS,
    CodedRatings,
    Level,
    summarize,
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


def read_ratings(
    unit: Unit, choices: list[LabelChoice], *, left_out: Collection[int] = frozenset()
) -> list[tuple[int, int, int]]:
    """(sentence id, annotator id, choice id) for one layer of a corpus, without the sentences
    in `left_out` (those that do not count: `Sentence.objects.not_counted()`).

    Filtering on the corpus's own choice ids (and the target, which belongs to one corpus)
    scopes the rows without joining sentences and articles; the few sentences left out are
    dropped here, not by a join.
    """
    rows = Annotation.objects.filter(
        layer=unit.layer, target=unit.target, choice_id__in=[c.pk for c in choices]
    ).values_list("sentence_id", "annotator_id", "choice_id")
    # order_by(): the model's default ordering would make PostgreSQL sort a million rows that
    # summarize() does not need in any order.
    if not left_out:
        return list(rows.order_by())
    return [row for row in rows.order_by() if row[0] not in left_out]


def read_rating_chunks(
    unit: Unit,
    choices: list[LabelChoice],
    *,
    left_out: Collection[int] = frozenset(),
    chunk_size: int | None = None,
) -> Iterator[CodedRatings]:
    """The ratings of `read_ratings` in chunks of about `chunk_size`, each sentence's ratings
    in one chunk: read in sentence order through a server-side cursor (the layer's index
    is in that order), so only one chunk is ever in memory."""
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
        if block.size:
            yield _coded(block, skipped)
    if carried.size:
        yield _coded(carried, skipped)


def _coded(block: np.ndarray, skipped: np.ndarray) -> CodedRatings:
    block = block[~np.isin(block[:, 0], skipped)]
    return CodedRatings.from_arrays(block[:, 0], block[:, 1], block[:, 2])


def read_gold(
    unit: Unit, choices: list[LabelChoice], *, left_out: Collection[int] = frozenset()
) -> dict[int, int]:
    """Confirmed gold as {sentence id: choice id}, without the sentences in `left_out`;
    unconfirmed pre-fills are not gold yet."""
    rows = GoldLabel.objects.filter(
        layer=unit.layer,
        target=unit.target,
        choice_id__in=[c.pk for c in choices],
        confirmed=True,
    ).values_list("sentence_id", "choice_id")
    return {s: c for s, c in rows.order_by() if s not in left_out}


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


def _rank_articles(
    per_unit: Mapping[int, float], article_of: Mapping[int, int]
) -> list[dict[str, Any]]:
    disagreement: defaultdict[int, float] = defaultdict(float)
    units: Counter[int] = Counter()
    disputed: Counter[int] = Counter()
    for sentence_id, share in per_unit.items():
        article_id = article_of[sentence_id]
        disagreement[article_id] += 1 - share
        units[article_id] += 1
        disputed[article_id] += share < 1
    ranked = sorted(
        (a for a in units if disputed[a]),
        key=lambda a: (-disagreement[a] / units[a], a),
    )[:RANKED_ARTICLES]
    return [
        {
            "article_id": a,
            "n_units": units[a],
            "n_disputed": disputed[a],
            "mean_disagreement": disagreement[a] / units[a],
        }
        for a in ranked
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
    level: Level | None = None,
    replicates: int = 1000,
    seed: int = 0,
    article_of: Mapping[int, int] | None = None,
    left_out: Collection[int] | None = None,
) -> dict[str, Any]:
    """One layer's figures with ids still in place (see `corpus_statistics` for names).
    Sentences that do not count (excluded page furniture) are left out of every figure."""
    if left_out is None:
        left_out = _left_out(corpus)
    level, level_note = _layer_level(unit, choices, level)
    ratings = read_ratings(unit, choices, left_out=left_out)
    summary = summarize(
        ratings,
        level=level,
        order=[c.pk for c in choices],
        codes=_codes(level, choices),
        replicates=replicates,
        seed=seed,
        gold=read_gold(unit, choices, left_out=left_out),
    ).to_dict()
    per_unit = {row["unit"]: row["agreement"] for row in summary.pop("per_unit")}
    distribution: Counter[tuple[int, int]] = Counter((a, c) for _, a, c in ratings)
    result = {
        **_layer_names(unit),
        "choices": [
            {"id": c.pk, "value": c.value, "name": c.name, "key": c.key, "code": c.numeric_code}
            for c in choices
        ],
        **summary,
        "level_note": level_note,
        "n_ratings_total": len(ratings),
        "distribution": [
            {"annotator": a, "choice": c, "n": n} for (a, c), n in sorted(distribution.items())
        ],
        "least_agreed_sentences": [
            {"sentence_id": s, "agreement": share}
            for s, share in list(per_unit.items())[:RANKED_SENTENCES]
            if share < 1
        ],
        "least_agreed_articles": [] if article_of is None else _rank_articles(per_unit, article_of),
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
    # One read of the corpus's sentences gives both the articles of those that count and the
    # few that do not (excluded page furniture).
    article_of: dict[int, int] = {}
    left_out: set[int] = set()
    for pk, article_id, counts in (
        Sentence.objects.filter(article__corpus=corpus)
        .with_counts_flag()
        .order_by()
        # mypy misses annotations made by a QuerySet method (django-stubs#2917).
        .values_list("id", "article_id", "counts")  # type: ignore[misc]
    ):
        if counts:
            article_of[pk] = article_id
        else:
            left_out.add(pk)
    layers = [
        layer_statistics(
            corpus,
            unit,
            choices=choices_of[unit.layer],
            level=level,
            replicates=replicates,
            seed=seed,
            article_of=article_of,
            left_out=left_out,
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
