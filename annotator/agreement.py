"""Inter-annotator agreement: (unit, annotator, label) ratings in, plain statistics out.

Pure computation, no Django: callers turn rows into triples with `values_list` and get frozen
dataclasses back whose `to_dict()` is JSON-ready. Everything here is NumPy over one integer encoding
of the ratings, so 600,000 ratings with a 1,000-replicate bootstrap take well under a second.

Data model and conventions
--------------------------
A rating is `(unit, annotator, label)`. A missing rating is simply absent; there is no "missing"
label, and a `None` or NaN label is an error. One annotator rates a unit at most once (a duplicate
raises `ValueError` naming the unit and annotator). Units with a single rating cannot show agreement
or disagreement, so every coefficient drops them first and reports how many it dropped; only
`accuracy_against_gold` uses them, because comparing with gold needs no second rating.

A coefficient that cannot be computed is `Coefficient(value=None, reason="...")`, never 0 or 1:
no pairable unit, a single category used (no expected disagreement), annotators who share no unit.

Definitions
-----------
Pair: two ratings of the same unit by two different annotators; a unit with m ratings has
m(m-1)/2 pairs.

Per-unit agreement: the share of the unit's pairs that agree, sum_k n_uk(n_uk-1) / (m_u(m_u-1)).

Percent agreement: the mean of per-unit agreement over units with two or more ratings, so every
unit weighs the same whatever its number of ratings (with equal numbers it is Fleiss' P-bar).

Cohen's kappa (Cohen 1960), per annotator pair over the units both rated:
(p_o - p_e) / (1 - p_e) with p_e from each annotator's own label distribution on those units.
Confusion rows are the first annotator of the pair, columns the second.

Fleiss' kappa (Fleiss 1971): (P-bar - P_e) / (1 - P_e), P_e = sum_k p_k^2 over pooled label
shares. Defined only when every kept unit has the same number of ratings.

Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
1 - (n - 1) * sum_ck o_ck delta_ck / sum_ck n_c n_k delta_ck, from the coincidence matrix
o_ck = sum_u (n_uc n_uk - [c == k] n_uc) / (m_u - 1) and its marginals n_c (n = sum n_c). Metrics:
nominal delta = [c != k]; ordinal delta = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 in the given
category order; interval delta = (v_c - v_k)^2 with numeric codes v; ratio delta =
((v_c - v_k) / (v_c + v_k))^2 with codes of at least 0 (and 0 between two zeros), the metric of a
scale with a true zero, where 1 and 2 lie further apart than 101 and 102.

Bootstrap interval for alpha: resample units with replacement (seeded `default_rng`), recompute
alpha, take the percentile interval. Alpha depends on a unit only through its vector of category
counts, so units are grouped by that vector once; resampling U units uniformly is then exactly a
multinomial draw of how many units of each group are picked, and a replicate is one matrix
product. Replicates whose alpha is undefined (all resampled units in one category) are left out.

Chunks: every corpus-wide figure (alpha and its interval, percent agreement, Fleiss' kappa,
per-category and per-annotator figures, pairwise kappas) depends on the units only through the
distinct count vectors and how many units have each, and on each annotator pair's confusion
matrix. Both add up over disjoint sets of units, so `summarize_chunks` reads ratings one chunk of
units at a time and gives the same figures as `summarize` over all of them, holding one chunk.

Specific agreement (Uebersax 1982; Cicchetti & Feinstein 1990) for category k: agreeing pairs on k
over all pairs involving k, sum_u n_uk(n_uk-1) / sum_u n_uk(m_u-1); for two raters 2a / (2a+b+c).

Category-versus-rest alpha: nominal alpha after recoding every label to "k" or "not k".

Per-annotator agreement: for each annotator, the share of agreeing pairs over the pairs they are
in, plus the mean of their defined Cohen's kappas with the others.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal, TypeVar

import numpy as np

Rating = tuple[Hashable, Hashable, Hashable]
# A unit of the caller's own type, for mappings keyed by unit (a Mapping is invariant in its
# key: a dict[int, int] is no Mapping[Hashable, Hashable]).
_Unit = TypeVar("_Unit", bound=Hashable)
Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
# Levels that measure distances between numeric codes.
NUMERIC_LEVELS: tuple[Level, ...] = ("interval", "ratio")

NO_PAIRABLE_UNIT = "no unit has two or more ratings"

# Bootstrap weights drawn at once (replicates x groups): 32 MB of float64.
_BOOTSTRAP_BATCH_ITEMS = 4_000_000


@dataclass(frozen=True)
class Coefficient:
    """A statistic's value, or None with the reason it is undefined."""

    value: float | None
    reason: str | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.reason is None):
            raise ValueError("a Coefficient has either a value or a reason, not both or neither")

    @classmethod
    def undefined(cls, reason: str) -> Coefficient:
        return cls(value=None, reason=reason)

    @classmethod
    def of(cls, value: float) -> Coefficient:
        return cls(value=float(value))

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class PairAgreement:
    """Two annotators compared on the units both rated."""

    annotators: tuple[Hashable, Hashable]
    n_units: int
    percent_agreement: Coefficient
    cohen_kappa: Coefficient
    categories: tuple[Hashable, ...]
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "annotators": list(self.annotators),
            "n_units": self.n_units,
            **_flatten("percent_agreement", self.percent_agreement),
            **_flatten("cohen_kappa", self.cohen_kappa),
            "categories": list(self.categories),
            "confusion": [list(row) for row in self.confusion],
        }


@dataclass(frozen=True)
class CategoryAgreement:
    """How reliably one category is used, over units with two or more ratings."""

    category: Hashable
    n_ratings: int
    specific_agreement: Coefficient
    alpha_vs_rest: Coefficient

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "n_ratings": self.n_ratings,
            **_flatten("specific_agreement", self.specific_agreement),
            **_flatten("alpha_vs_rest", self.alpha_vs_rest),
        }


@dataclass(frozen=True)
class AnnotatorAgreement:
    """One annotator against everyone they share units with."""

    annotator: Hashable
    n_ratings: int
    n_pairs: int
    agreement: Coefficient
    mean_cohen_kappa: Coefficient

    def to_dict(self) -> dict[str, Any]:
        return {
            "annotator": self.annotator,
            "n_ratings": self.n_ratings,
            "n_pairs": self.n_pairs,
            **_flatten("agreement", self.agreement),
            **_flatten("mean_cohen_kappa", self.mean_cohen_kappa),
        }


@dataclass(frozen=True)
class AnnotatorAccuracy:
    """One annotator's ratings against gold labels; accuracy is None when nothing was compared."""

    annotator: Hashable
    n_compared: int
    n_correct: int
    accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "annotator": self.annotator,
            "n_compared": self.n_compared,
            "n_correct": self.n_correct,
            "accuracy": self.accuracy,
        }


@dataclass(frozen=True)
class Summary:
    """Every statistic of this module from one encoding of the ratings.

    Counts: `n_units` units with two or more ratings (the units every coefficient describes),
    `n_units_dropped` units with a single rating, `n_ratings` ratings on the `n_units` units,
    `n_annotators` annotators with any rating. `per_unit` runs from the least agreed unit up
    (None when the caller did not ask for it).
    """

    level: Level
    categories: tuple[Hashable, ...]
    n_units: int
    n_units_dropped: int
    n_ratings: int
    n_annotators: int
    percent_agreement: Coefficient
    krippendorff_alpha: Coefficient
    krippendorff_alpha_ci: tuple[float, float] | None
    krippendorff_alpha_ci_reason: str | None
    confidence: float
    fleiss_kappa: Coefficient
    mean_pairwise_kappa: Coefficient
    pairwise: tuple[PairAgreement, ...]
    per_category: tuple[CategoryAgreement, ...]
    per_annotator: tuple[AnnotatorAgreement, ...]
    per_unit: dict[Hashable, float] | None
    accuracy: tuple[AnnotatorAccuracy, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: undefined figures are None next to a `<name>_reason` key."""
        ci = self.krippendorff_alpha_ci
        return {
            "level": self.level,
            "categories": list(self.categories),
            "n_units": self.n_units,
            "n_units_dropped": self.n_units_dropped,
            "n_ratings": self.n_ratings,
            "n_annotators": self.n_annotators,
            **_flatten("percent_agreement", self.percent_agreement),
            **_flatten("krippendorff_alpha", self.krippendorff_alpha),
            "krippendorff_alpha_ci": None if ci is None else [ci[0], ci[1]],
            "krippendorff_alpha_ci_reason": self.krippendorff_alpha_ci_reason,
            "confidence": self.confidence,
            **_flatten("fleiss_kappa", self.fleiss_kappa),
            **_flatten("mean_pairwise_kappa", self.mean_pairwise_kappa),
            "pairwise": [pair.to_dict() for pair in self.pairwise],
            "per_category": [category.to_dict() for category in self.per_category],
            "per_annotator": [annotator.to_dict() for annotator in self.per_annotator],
            "per_unit": None
            if self.per_unit is None
            else [{"unit": unit, "agreement": share} for unit, share in self.per_unit.items()],
            "accuracy": None if self.accuracy is None else [a.to_dict() for a in self.accuracy],
        }


def _flatten(name: str, coefficient: Coefficient) -> dict[str, Any]:
    return {name: coefficient.value, f"{name}_reason": coefficient.reason}


# --- Encoding -----------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    # bool is an int subclass, but True/False are category names, not positions on a scale.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_nan(value: object) -> bool:
    return _is_number(value) and math.isnan(value)  # type: ignore[arg-type]


def _length(rating: object) -> int:
    return len(rating) if isinstance(rating, tuple | list) else -1


def _check_triples(ratings: list[Any]) -> None:
    # Two passes in C for the common case; the slow scan only runs to name a bad rating.
    if set(map(type, ratings)) <= {tuple, list} and set(map(len, ratings)) <= {3}:
        return
    position = next((i for i, rating in enumerate(ratings) if _length(rating) != 3), None)
    if position is not None:
        raise ValueError(
            f"rating #{position} is {ratings[position]!r}; expected (unit, annotator, label)"
        )


def _sorted_if_possible(values: Iterable[Hashable]) -> tuple[Hashable, ...]:
    # Stable output regardless of input order when the values compare; mixed types keep
    # first-seen order rather than failing.
    values = tuple(values)
    try:
        return tuple(sorted(values))  # type: ignore[type-var]
    except TypeError:
        return values


def _factorize(column: Sequence[Hashable]) -> tuple[tuple[Hashable, ...], np.ndarray]:
    """Distinct values in first-seen order, and each item's position among them."""
    index = dict.fromkeys(column)
    keys = tuple(index)
    index.update(zip(keys, range(len(keys)), strict=True))
    codes = np.fromiter(map(index.__getitem__, column), dtype=np.int64, count=len(column))
    return keys, codes


@dataclass(frozen=True)
class CodedRatings:
    """Ratings as integer codes: rating i is (units[unit[i]], annotators[annotator[i]],
    labels[label[i]]), each tuple listing distinct values.

    Every function here accepts this in place of (unit, annotator, label) triples. A reader
    of a big file builds it column by column (`from_columns`), so a million ratings are never
    turned into a million tuples and back.
    """

    units: tuple[Hashable, ...]
    annotators: tuple[Hashable, ...]
    labels: tuple[Hashable, ...]
    unit: np.ndarray
    annotator: np.ndarray
    label: np.ndarray

    @classmethod
    def from_columns(
        cls,
        units: Sequence[Hashable],
        annotators: Sequence[Hashable],
        labels: Sequence[Hashable],
    ) -> CodedRatings:
        if not len(units) == len(annotators) == len(labels):
            raise ValueError("units, annotators and labels must be equally long")
        unit_values, unit = _factorize(units)
        annotator_values, annotator = _factorize(annotators)
        label_values, label = _factorize(labels)
        return cls(unit_values, annotator_values, label_values, unit, annotator, label)

    @classmethod
    def from_arrays(
        cls, units: np.ndarray, annotators: np.ndarray, labels: np.ndarray
    ) -> CodedRatings:
        """From NumPy columns of plain values (database ids), factorised by NumPy."""
        if not units.shape == annotators.shape == labels.shape:
            raise ValueError("units, annotators and labels must be equally long")
        columns = [np.unique(column, return_inverse=True) for column in (units, annotators, labels)]
        (unit_values, unit), (annotator_values, annotator), (label_values, label) = columns
        return cls(
            tuple(unit_values.tolist()),
            tuple(annotator_values.tolist()),
            tuple(label_values.tolist()),
            unit.reshape(-1),
            annotator.reshape(-1),
            label.reshape(-1),
        )

    @classmethod
    def from_triples(cls, ratings: Iterable[Rating]) -> CodedRatings:
        ratings = ratings if isinstance(ratings, list) else list(ratings)
        _check_triples(ratings)
        return cls.from_columns(
            [rating[0] for rating in ratings],
            [rating[1] for rating in ratings],
            [rating[2] for rating in ratings],
        )

    def __len__(self) -> int:
        return int(self.unit.size)

    def relabel(self, labels: Sequence[Hashable]) -> CodedRatings:
        """The same ratings with `labels[i]` in place of `self.labels[i]`; labels that become
        equal (the strings "1" and "1.0" both read as 1) merge into one."""
        merged, position = _factorize(labels)
        return CodedRatings(
            self.units, self.annotators, merged, self.unit, self.annotator, position[self.label]
        )

    def rating(self, index: int) -> Rating:
        return (
            self.units[self.unit[index]],
            self.annotators[self.annotator[index]],
            self.labels[self.label[index]],
        )


def _resolve_categories(
    labels: tuple[Hashable, ...],
    *,
    level: Level,
    order: Sequence[Hashable] | None,
    codes: Mapping[Hashable, float] | None,
) -> tuple[tuple[Hashable, ...], np.ndarray | None]:
    """The category order and, at interval or ratio level, each category's numeric value."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if order is not None:
        categories = tuple(order)
        if len(set(categories)) != len(categories):
            raise ValueError(f"order lists a category twice: {categories!r}")
        known = set(categories)
        missing = [label for label in labels if label not in known]
        if missing:
            raise ValueError(
                f"labels {missing!r} are not among the given categories {categories!r}"
            )
    elif level == "ordinal":
        if all(_is_number(label) for label in labels):
            categories = tuple(sorted(labels))  # type: ignore[type-var]
        elif codes is not None and all(label in codes for label in labels):
            categories = tuple(sorted(labels, key=lambda label: codes[label]))
        else:
            raise ValueError(
                "ordinal level needs order=[...] (lowest first) when labels are not numbers"
            )
    else:
        categories = _sorted_if_possible(labels)

    if level not in NUMERIC_LEVELS:
        return categories, None
    values = []
    for category in categories:
        value: Hashable
        if codes is not None:
            if category not in codes:
                raise ValueError(f"{level} level: category {category!r} has no numeric code")
            value = codes[category]
        else:
            value = category
        if not _is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
            raise ValueError(
                f"{level} level needs a finite number for category {category!r}, got {value!r};"
                " pass codes={label: number}"
            )
        if level == "ratio" and value < 0:  # type: ignore[operator]
            raise ValueError(
                f"ratio level needs numbers of at least 0 (a scale with a true zero); "
                f"category {category!r} is {value!r}"
            )
        values.append(float(value))  # type: ignore[arg-type]
    return categories, np.asarray(values, dtype=np.float64)


class _Table:
    """Ratings validated once and encoded as integer arrays shared by every statistic."""

    def __init__(
        self,
        ratings: Iterable[Rating] | CodedRatings,
        *,
        level: Level = "nominal",
        order: Sequence[Hashable] | None = None,
        codes: Mapping[Hashable, float] | None = None,
    ) -> None:
        coded = ratings if isinstance(ratings, CodedRatings) else CodedRatings.from_triples(ratings)
        self.units, self.unit = coded.units, coded.unit
        seen_annotators, annotator = coded.annotators, coded.annotator
        labels, label = coded.labels, coded.label

        for code, bad in enumerate(labels):
            if bad is None or _is_nan(bad):
                unit, annotator_name, _ = coded.rating(int(np.flatnonzero(label == code)[0]))
                raise ValueError(
                    f"unit {unit!r}, annotator {annotator_name!r}: "
                    f"label {bad!r} is not a label; leave a missing rating out instead"
                )

        # Annotators in sorted order so that pairs come out as (lower, higher) and the output
        # does not depend on input order.
        self.annotators = _sorted_if_possible(seen_annotators)
        annotator_rank = {name: i for i, name in enumerate(self.annotators)}
        rank_of_seen = np.array([annotator_rank[a] for a in seen_annotators], dtype=np.int64)
        self.annotator = rank_of_seen[annotator]

        self.level: Level = level
        self.categories, self.values = _resolve_categories(
            labels, level=level, order=order, codes=codes
        )
        category_index = {category: i for i, category in enumerate(self.categories)}
        category_of_seen = np.array([category_index[lab] for lab in labels], dtype=np.int64)
        self.label = category_of_seen[label]

        n_annotators = len(self.annotators)
        # One sort by (unit, annotator) finds duplicates and lays out each unit's ratings
        # contiguously for pair building.
        key = self.unit * n_annotators + self.annotator
        self._order = np.argsort(key, kind="stable")
        sorted_key = key[self._order]
        duplicate = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
        if duplicate.size:
            first = self._order[duplicate[0]]
            raise ValueError(
                f"unit {self.units[self.unit[first]]!r} has more than one rating by annotator "
                f"{self.annotators[self.annotator[first]]!r}"
            )

        self.ratings_per_unit = np.bincount(self.unit, minlength=len(self.units))
        kept = self.ratings_per_unit >= 2
        self.kept_units = np.flatnonzero(kept)
        self.n_units_dropped = int(len(self.units) - self.kept_units.size)
        kept_position = np.cumsum(kept) - 1
        on_kept = kept[self.unit]
        n_categories = len(self.categories)
        self.counts = np.bincount(
            kept_position[self.unit[on_kept]] * n_categories + self.label[on_kept],
            minlength=self.kept_units.size * n_categories,
        ).reshape(self.kept_units.size, n_categories)
        self.n_ratings_kept = int(on_kept.sum())
        self.ratings_on_kept = on_kept

    @property
    def n_kept(self) -> int:
        return int(self.kept_units.size)

    @cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every within-unit pair as arrays (unit, annotator a < b, label of a, label of b)."""
        unit = self.unit[self._order]
        annotator = self.annotator[self._order]
        label = self.label[self._order]
        max_ratings = int(self.ratings_per_unit.max(initial=0))
        parts = []
        # The ratings of a unit are contiguous and sorted by annotator, so the pairs are
        # the positions d apart within the same unit, for d = 1 .. largest unit size - 1.
        for d in range(1, max_ratings):
            same = np.flatnonzero(unit[d:] == unit[:-d])
            parts.append(
                (unit[same], annotator[same], annotator[same + d], label[same], label[same + d])
            )
        if not parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, empty, empty
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]

    @cached_property
    def pool(self) -> _Pool:
        rows, size = _distinct_rows(self.counts)
        pairs, confusion = _pair_confusions(
            self.pairs, n_annotators=len(self.annotators), n_categories=len(self.categories)
        )
        return _Pool(
            level=self.level,
            categories=self.categories,
            values=self.values,
            annotators=self.annotators,
            rows=rows,
            size=size,
            pairs=pairs,
            confusion=confusion,
            n_ratings_by_annotator=np.bincount(
                self.annotator[self.ratings_on_kept], minlength=len(self.annotators)
            ),
            n_units_dropped=self.n_units_dropped,
        )


def _distinct_rows(
    counts: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of `counts` (per-unit count vectors) in one fixed order, which depends
    on the rows' values only, not on their order, and how many rows (or how much weight) each
    has. The bootstrap draws over them in that order, so the same units give the same interval
    however they were read."""
    if counts.shape[0] == 0:
        return counts, np.zeros(0, np.int64)
    base = int(counts.max()) + 1
    n_categories = counts.shape[1]
    if n_categories * math.log2(base) < 62:
        key = counts @ (base ** np.arange(n_categories, dtype=np.int64))
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        rows = counts[first]
    else:
        rows, inverse = np.unique(counts, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if weights is None:
        return rows, np.bincount(inverse, minlength=rows.shape[0])
    return rows, np.bincount(inverse, weights=weights, minlength=rows.shape[0]).astype(np.int64)


@dataclass(frozen=True)
class _Pool:
    """What every corpus-wide figure needs, and nothing per rating or per unit: the distinct
    count vectors of the units with two or more ratings (`rows`, with `size` units each), each
    annotator pair's confusion matrix, and each annotator's ratings on those units.

    A `_Table` makes one; `summarize_chunks` adds up one per chunk of units, which is how a
    corpus of millions of ratings is summarised in the memory of one chunk.
    """

    level: Level
    categories: tuple[Hashable, ...]
    values: np.ndarray | None
    annotators: tuple[Hashable, ...]
    rows: np.ndarray
    size: np.ndarray
    pairs: list[tuple[int, int]]
    confusion: np.ndarray
    n_ratings_by_annotator: np.ndarray
    n_units_dropped: int

    @property
    def n_kept(self) -> int:
        return int(self.size.sum())

    @property
    def n_ratings_kept(self) -> int:
        return int(self.rows.sum(axis=1) @ self.size)

    @property
    def category_totals(self) -> np.ndarray:
        return self.size @ self.rows


def _encode(
    ratings: Iterable[Rating] | CodedRatings | _Table,
    *,
    level: Level = "nominal",
    order: Sequence[Hashable] | None = None,
    codes: Mapping[Hashable, float] | None = None,
) -> _Table:
    if isinstance(ratings, _Table):
        return ratings
    return _Table(ratings, level=level, order=order, codes=codes)


# --- Krippendorff's alpha -----------------------------------------------------------------------


def _coincidences(counts: np.ndarray) -> np.ndarray:
    """Per-row coincidence matrices, shape (rows, K, K), for rows with two or more ratings."""
    m = counts.sum(axis=1).astype(np.float64)
    outer = counts[:, :, None] * counts[:, None, :]
    diagonal = np.arange(counts.shape[1])
    outer[:, diagonal, diagonal] -= counts
    return outer / (m - 1)[:, None, None]


def _alpha_from_coincidences(
    o: np.ndarray, *, level: Level, values: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Alpha for a stack of coincidence matrices (R, K, K); also the expected disagreement.

    Alpha is NaN where expected disagreement is zero.
    """
    marginals = o.sum(axis=2)
    n = marginals.sum(axis=1)
    n_categories = o.shape[1]
    if level == "nominal":
        delta = 1.0 - np.eye(n_categories)
    elif level == "interval":
        assert values is not None
        delta = (values[:, None] - values[None, :]) ** 2
    elif level == "ratio":
        assert values is not None
        total = values[:, None] + values[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Two zeros are the same value: no distance (0 / 0 otherwise).
            delta = np.where(total > 0, ((values[:, None] - values[None, :]) / total) ** 2, 0.0)
    else:
        # Ordinal distance depends on the marginals, so each replicate gets its own.
        cumulative = np.cumsum(marginals, axis=1)
        position = cumulative - marginals / 2
        delta = (position[:, None, :] - position[:, :, None]) ** 2
    delta = np.broadcast_to(delta, o.shape)
    observed = (o * delta).sum(axis=(1, 2))
    expected = np.einsum("rc,rk,rck->r", marginals, marginals, delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(expected > 0, 1.0 - (n - 1) * observed / expected, np.nan)
    return alpha, expected


def _group_coincidences(pool: _Pool) -> np.ndarray:
    """Each group's coincidence matrix, flattened: (groups, K * K)."""
    return _coincidences(pool.rows).reshape(pool.rows.shape[0], -1)


def _alpha(pool: _Pool) -> Coefficient:
    if pool.n_kept == 0:
        return Coefficient.undefined(NO_PAIRABLE_UNIT)
    flat = _group_coincidences(pool)
    k = len(pool.categories)
    o = (pool.size.astype(np.float64) @ flat).reshape(1, k, k)
    alpha, _ = _alpha_from_coincidences(o, level=pool.level, values=pool.values)
    if np.isnan(alpha[0]):
        used = [pool.categories[i] for i in np.flatnonzero(pool.category_totals)]
        if len(used) == 1:
            return Coefficient.undefined(
                f"only one category ({used[0]!r}) is used, so no disagreement is expected"
            )
        return Coefficient.undefined(
            "the categories used have equal codes; expected disagreement is 0"
        )
    return Coefficient.of(alpha[0])


def _alpha_interval(
    pool: _Pool, *, replicates: int, seed: int, confidence: float
) -> tuple[tuple[float, float] | None, str | None]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    if replicates < 1:
        raise ValueError(f"replicates must be positive, not {replicates!r}")
    point = _alpha(pool)
    if point.value is None:
        return None, point.reason
    flat = _group_coincidences(pool)
    n_units, n_groups = pool.n_kept, pool.size.size
    rng = np.random.default_rng(seed)
    # Resampling units is a multinomial draw over the groups (see the module's docstring), so
    # the interval depends on the groups alone, not on the units' order or on how the ratings
    # were read; the draws go in batches so that the weights stay small with many groups.
    batch = max(1, _BOOTSTRAP_BATCH_ITEMS // n_groups)
    o = np.empty((replicates, flat.shape[1]))
    for start in range(0, replicates, batch):
        stop = min(start + batch, replicates)
        weights = rng.multinomial(n_units, pool.size / n_units, size=stop - start)
        o[start:stop] = weights.astype(np.float64) @ flat
    k = len(pool.categories)
    alphas, _ = _alpha_from_coincidences(o.reshape(-1, k, k), level=pool.level, values=pool.values)
    alphas = alphas[~np.isnan(alphas)]
    if alphas.size == 0:
        return None, "alpha is undefined in every bootstrap replicate"
    tail = (1 - confidence) / 2
    low, high = np.quantile(alphas, [tail, 1 - tail])
    return (float(low), float(high)), None


def krippendorff_alpha(
    ratings: Iterable[Rating] | CodedRatings,
    *,
    level: Level = "nominal",
    order: Sequence[Hashable] | None = None,
    codes: Mapping[Hashable, float] | None = None,
) -> Coefficient:
    """Krippendorff's alpha over units with two or more ratings.

    `order` is the category order (lowest first), needed at ordinal level unless labels are
    numbers. `codes` maps labels to numbers for interval and ratio level (e.g. against -1,
    neutral 0, favor 1; ratio needs codes of at least 0); numeric labels are their own codes.
    Undefined (None with a reason) when no unit has two ratings or no disagreement is expected
    (one category used, or equal codes).
    """
    return _alpha(_encode(ratings, level=level, order=order, codes=codes).pool)


def krippendorff_alpha_interval(
    ratings: Iterable[Rating] | CodedRatings,
    *,
    level: Level = "nominal",
    order: Sequence[Hashable] | None = None,
    codes: Mapping[Hashable, float] | None = None,
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval for alpha, resampling units; None when alpha is undefined.

    The same seed gives the same interval. Replicates with undefined alpha are left out.
    """
    pool = _encode(ratings, level=level, order=order, codes=codes).pool
    interval, _ = _alpha_interval(pool, replicates=replicates, seed=seed, confidence=confidence)
    return interval


# --- Agreement shares and kappas ----------------------------------------------------------------


def _agreeing_share(sum_of_squares: Any, m: Any) -> Any:
    """Per-unit agreement from a unit's label counts n_k: sum_k n_k(n_k - 1) / (m(m - 1)), as
    (sum_k n_k^2 - m) / (m(m - 1)). Numbers or NumPy arrays of units alike, so the table and a
    single unit (`unit_agreement`) share the one formula."""
    return (sum_of_squares - m) / (m * (m - 1))


def _per_unit_shares(counts: np.ndarray) -> np.ndarray:
    """Per-unit agreement of each row of per-unit (or per-group) label counts."""
    return _agreeing_share(np.square(counts).sum(axis=1), counts.sum(axis=1))


def _mean_share(pool: _Pool) -> float:
    """Mean per-unit agreement: each group's share weighted by its number of units."""
    return float(_per_unit_shares(pool.rows) @ pool.size / pool.n_kept)


def unit_agreement(counts: Collection[int]) -> float | None:
    """Per-unit agreement of one unit from how many ratings each label got; None when the unit
    has fewer than two ratings (no pair to agree or disagree)."""
    m = sum(counts)
    if m < 2:
        return None
    return float(_agreeing_share(sum(n * n for n in counts), m))


def mean_unit_agreement(units: Iterable[Collection[int]]) -> float | None:
    """The mean of `unit_agreement` over the units with two or more ratings, each unit given
    as how many ratings each label got; None when no unit has two ratings.

    Observed agreement, chance included: Fleiss' P-bar when every unit has the same number of
    ratings, and `percent_agreement` of the same units.
    """
    shares = [share for counts in units if (share := unit_agreement(counts)) is not None]
    return sum(shares) / len(shares) if shares else None


def _percent_agreement(pool: _Pool) -> Coefficient:
    if pool.n_kept == 0:
        return Coefficient.undefined(NO_PAIRABLE_UNIT)
    return Coefficient.of(_mean_share(pool))


def percent_agreement(ratings: Iterable[Rating] | CodedRatings) -> Coefficient:
    """Mean over units with two or more ratings of the share of agreeing annotator pairs.

    Each unit weighs the same; with m ratings per unit this is Fleiss' P-bar. Undefined when no
    unit has two ratings.
    """
    return _percent_agreement(_encode(ratings).pool)


def per_unit_agreement(ratings: Iterable[Rating] | CodedRatings) -> dict[Hashable, float]:
    """Share of agreeing pairs within each unit that has two or more ratings, in input order."""
    return _per_unit(_encode(ratings), ranked=False)


def _per_unit(table: _Table, *, ranked: bool) -> dict[Hashable, float]:
    shares = _per_unit_shares(table.counts)
    positions = np.argsort(shares, kind="stable") if ranked else np.arange(shares.size)
    units = table.units
    return dict(
        zip(
            [units[i] for i in table.kept_units[positions].tolist()],
            shares[positions].tolist(),
            strict=True,
        )
    )


def _fleiss(pool: _Pool) -> Coefficient:
    if pool.n_kept == 0:
        return Coefficient.undefined(NO_PAIRABLE_UNIT)
    m = pool.rows.sum(axis=1)
    if m.min() != m.max():
        return Coefficient.undefined(
            f"units have between {m.min()} and {m.max()} ratings; Fleiss' kappa needs the same"
            " number of ratings for every unit"
        )
    totals = pool.category_totals
    shares = totals / totals.sum()
    expected = float(np.square(shares).sum())
    if np.count_nonzero(shares) == 1:
        category = pool.categories[int(np.flatnonzero(shares)[0])]
        return Coefficient.undefined(
            f"only one category ({category!r}) is used, so chance agreement is 1"
        )
    observed = _mean_share(pool)
    return Coefficient.of((observed - expected) / (1 - expected))


def fleiss_kappa(ratings: Iterable[Rating] | CodedRatings) -> Coefficient:
    """Fleiss' kappa over units with two or more ratings.

    Undefined (None with a reason) unless every such unit has the same number of ratings, or when
    only one category is used. Single-rated units are dropped before the equal-count check.
    """
    return _fleiss(_encode(ratings).pool)


def _pair_confusions(
    pairs: tuple[np.ndarray, ...], *, n_annotators: int, n_categories: int
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """All annotator pairs (a < b) and their K x K confusion matrices, from a table's pairs."""
    k = n_categories
    first, second = np.triu_indices(n_annotators, 1)
    _, a, b, label_a, label_b = pairs
    # Row index of pair (a, b) in the triu_indices listing.
    pair = a * n_annotators - a * (a + 1) // 2 + (b - a - 1)
    confusion = np.bincount(
        (pair * k + label_a) * k + label_b, minlength=first.size * k * k
    ).reshape(first.size, k, k)
    return list(zip(first.tolist(), second.tolist(), strict=True)), confusion


def _kappas(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per confusion matrix: overlap n, agreeing count, and kappa (NaN when undefined)."""
    n = confusion.sum(axis=(1, 2))
    agree = np.trace(confusion, axis1=1, axis2=2)
    # Integer arithmetic keeps chance agreement of exactly 1 recognisable: n*agree - sum(r*c)
    # over n^2 - sum(r*c) is kappa with p_o = agree/n and p_e = sum(r*c)/n^2.
    chance = (confusion.sum(axis=2) * confusion.sum(axis=1)).sum(axis=1)
    denominator = n * n - chance
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(denominator > 0, (n * agree - chance) / denominator, np.nan)
    return n, agree, kappa


def _pairwise(pool: _Pool) -> list[PairAgreement]:
    pairs, confusion = pool.pairs, pool.confusion
    n, agree, kappa = _kappas(confusion)
    results = []
    for i, (a, b) in enumerate(pairs):
        names = (pool.annotators[a], pool.annotators[b])
        if n[i] == 0:
            share = kappa_value = Coefficient.undefined(
                f"annotators {names[0]!r} and {names[1]!r} rated no unit in common"
            )
        else:
            share = Coefficient.of(agree[i] / n[i])
            if np.isnan(kappa[i]):
                used = pool.categories[int(np.argmax(confusion[i].sum(axis=1)))]
                kappa_value = Coefficient.undefined(
                    f"both annotators used only {used!r} on their shared units,"
                    " so chance agreement is 1"
                )
            else:
                kappa_value = Coefficient.of(kappa[i])
        results.append(
            PairAgreement(
                annotators=names,
                n_units=int(n[i]),
                percent_agreement=share,
                cohen_kappa=kappa_value,
                categories=pool.categories,
                confusion=tuple(tuple(row) for row in confusion[i].tolist()),
            )
        )
    return results


def cohen_kappa_pairs(
    ratings: Iterable[Rating] | CodedRatings, *, categories: Sequence[Hashable] | None = None
) -> list[PairAgreement]:
    """Cohen's kappa for every pair of annotators, over the units both rated.

    Pairs are listed (a, b) with a before b in sorted annotator order; confusion rows are a's
    labels and columns b's, in `categories` order (sorted labels by default). A pair sharing no
    unit, or where both used one and the same category only, has kappa None with a reason.
    """
    return _pairwise(_encode(ratings, order=categories).pool)


def _mean_kappa(pairwise: Sequence[PairAgreement]) -> Coefficient:
    defined = [pair.cohen_kappa.value for pair in pairwise if pair.cohen_kappa.value is not None]
    if not defined:
        return Coefficient.undefined("no annotator pair has a defined Cohen's kappa")
    return Coefficient.of(sum(defined) / len(defined))


def _per_annotator(pool: _Pool, pairwise: Sequence[PairAgreement]) -> list[AnnotatorAgreement]:
    n_annotators = len(pool.annotators)
    a = np.array([pair[0] for pair in pool.pairs], dtype=np.int64)
    b = np.array([pair[1] for pair in pool.pairs], dtype=np.int64)
    n, agree, _ = _kappas(pool.confusion)
    n_pairs = np.bincount(a, n, minlength=n_annotators) + np.bincount(b, n, minlength=n_annotators)
    n_agree = np.bincount(a, agree, minlength=n_annotators) + np.bincount(
        b, agree, minlength=n_annotators
    )
    n_ratings = pool.n_ratings_by_annotator
    results = []
    for i, name in enumerate(pool.annotators):
        if n_pairs[i]:
            agreement = Coefficient.of(n_agree[i] / n_pairs[i])
        else:
            agreement = Coefficient.undefined(f"annotator {name!r} shares no unit with another")
        theirs = [pair for pair in pairwise if name in pair.annotators]
        results.append(
            AnnotatorAgreement(
                annotator=name,
                n_ratings=int(n_ratings[i]),
                n_pairs=int(n_pairs[i]),
                agreement=agreement,
                mean_cohen_kappa=_mean_kappa(theirs),
            )
        )
    return results


def per_annotator_agreement(ratings: Iterable[Rating] | CodedRatings) -> list[AnnotatorAgreement]:
    """For each annotator: agreeing share of the pairs they are in, and mean kappa with others.

    `n_ratings` counts their ratings on units with two or more ratings.
    """
    pool = _encode(ratings).pool
    return _per_annotator(pool, _pairwise(pool))


# --- Per category -------------------------------------------------------------------------------


def _per_category(pool: _Pool) -> list[CategoryAgreement]:
    # Sums over units are sums over groups weighted by each group's number of units.
    counts, size = pool.rows, pool.size
    m = counts.sum(axis=1, keepdims=True)
    n_ratings = size @ counts
    total = int(n_ratings.sum())
    agreeing = size @ (counts * (counts - 1))
    possible = size @ (counts * (m - 1))
    # Binary nominal alpha for k vs rest: 1 - (n-1) o_k,rest / (n_k n_rest), where
    # o_k,rest = sum_u n_uk (m_u - n_uk) / (m_u - 1).
    with np.errstate(divide="ignore", invalid="ignore"):
        disagreeing = size @ (counts * (m - counts) / (m - 1))
    results = []
    for i, category in enumerate(pool.categories):
        if pool.n_kept == 0:
            specific = vs_rest = Coefficient.undefined(NO_PAIRABLE_UNIT)
        elif n_ratings[i] == 0:
            specific = vs_rest = Coefficient.undefined(
                f"{category!r} is never chosen on a unit with two or more ratings"
            )
        else:
            specific = Coefficient.of(agreeing[i] / possible[i])
            rest = total - int(n_ratings[i])
            if rest == 0:
                vs_rest = Coefficient.undefined(
                    f"{category!r} is chosen for every rating, so no disagreement is expected"
                )
            else:
                vs_rest = Coefficient.of(
                    1 - (total - 1) * disagreeing[i] / (float(n_ratings[i]) * rest)
                )
        results.append(
            CategoryAgreement(
                category=category,
                n_ratings=int(n_ratings[i]),
                specific_agreement=specific,
                alpha_vs_rest=vs_rest,
            )
        )
    return results


def per_category(
    ratings: Iterable[Rating] | CodedRatings, *, categories: Sequence[Hashable] | None = None
) -> list[CategoryAgreement]:
    """Specific agreement and category-versus-rest nominal alpha for each category.

    Listed in `categories` order (sorted labels by default); `n_ratings` counts the category's
    ratings on units with two or more ratings. A category never chosen there is None with a reason.
    """
    return _per_category(_encode(ratings, order=categories).pool)


# --- Gold ---------------------------------------------------------------------------------------


def _accuracy(table: _Table, gold: Mapping[_Unit, Hashable]) -> list[AnnotatorAccuracy]:
    n_compared, n_correct = _accuracy_counts(table, gold)
    return _accuracy_list(table.annotators, n_compared, n_correct)


def _accuracy_list(
    annotators: Sequence[Hashable], n_compared: np.ndarray, n_correct: np.ndarray
) -> list[AnnotatorAccuracy]:
    return [
        AnnotatorAccuracy(
            annotator=name,
            n_compared=int(n_compared[i]),
            n_correct=int(n_correct[i]),
            accuracy=float(n_correct[i] / n_compared[i]) if n_compared[i] else None,
        )
        for i, name in enumerate(annotators)
    ]


def _accuracy_counts(
    table: _Table, gold: Mapping[_Unit, Hashable]
) -> tuple[np.ndarray, np.ndarray]:
    """Per annotator of the table: ratings of units with gold, and those matching it."""
    unit_index = {unit: i for i, unit in enumerate(table.units)}
    category_index = {category: i for i, category in enumerate(table.categories)}
    # -1: no gold for the unit; -2: a gold label nobody chose, so never matched.
    gold_label = np.full(len(table.units), -1, dtype=np.int64)
    for unit, label in gold.items():
        if label is None or _is_nan(label):
            raise ValueError(f"gold label for unit {unit!r} is {label!r}; leave the unit out")
        if unit in unit_index:
            gold_label[unit_index[unit]] = category_index.get(label, -2)
    expected = gold_label[table.unit]
    compared = expected != -1
    correct = compared & (expected == table.label)
    n_annotators = len(table.annotators)
    n_compared = np.bincount(table.annotator[compared], minlength=n_annotators)
    n_correct = np.bincount(table.annotator[correct], minlength=n_annotators)
    return n_compared, n_correct


def accuracy_against_gold(
    ratings: Iterable[Rating] | CodedRatings, gold: Mapping[_Unit, Hashable]
) -> list[AnnotatorAccuracy]:
    """Per annotator: ratings on gold units, how many match the gold label, and the share.

    Uses every rating, including units with a single rating. Gold for units nobody rated is
    ignored; an annotator with nothing to compare has accuracy None.
    """
    return _accuracy(_encode(ratings), gold)


# --- Everything at once -------------------------------------------------------------------------


def summarize(
    ratings: Iterable[Rating] | CodedRatings,
    *,
    level: Level = "nominal",
    order: Sequence[Hashable] | None = None,
    codes: Mapping[Hashable, float] | None = None,
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    gold: Mapping[_Unit, Hashable] | None = None,
    per_unit: bool = True,
) -> Summary:
    """Every statistic above from one validation and encoding of `ratings`.

    `order` also sets the category order of confusion matrices and per-category figures at every
    level; alpha is at `level`, with a `confidence` bootstrap interval from `replicates` unit
    resamples seeded by `seed`. With `gold`, per-annotator accuracy is included. `per_unit=False`
    skips the per-unit ranking (one entry per unit: a third of a second on a million ratings).
    """
    table = _encode(ratings, level=level, order=order, codes=codes)
    return _summary(
        table.pool,
        replicates=replicates,
        seed=seed,
        confidence=confidence,
        per_unit=_per_unit(table, ranked=True) if per_unit else None,
        accuracy=None if gold is None else tuple(_accuracy(table, gold)),
    )


@dataclass(frozen=True)
class Chunk:
    """Some units' ratings and the gold labels of those units (for `summarize_chunks`)."""

    ratings: Iterable[Rating] | CodedRatings
    gold: Mapping[Hashable, Hashable]


def summarize_chunks(
    chunks: Iterable[Iterable[Rating] | CodedRatings | Chunk],
    *,
    level: Level = "nominal",
    order: Sequence[Hashable],
    codes: Mapping[Hashable, float] | None = None,
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    gold: bool = False,
    on_unit_shares: Callable[[Sequence[Hashable], np.ndarray], None] | None = None,
) -> Summary:
    """`summarize` of ratings that arrive in chunks, holding one chunk at a time.

    Every unit's ratings must all be in one chunk (a reader cuts chunks where the unit changes);
    `order` names every category, so that each chunk's counts line up. The figures are those
    `summarize` gives for all the ratings at once, except what lists every unit: `per_unit` is
    None; `on_unit_shares(units, shares)` is called instead with each chunk's units of two or
    more ratings and their per-unit agreement, for a caller that ranks them its own way. With
    `gold`, every chunk is a `Chunk` carrying its units' gold labels, and `accuracy` is given.
    """
    compared: dict[Hashable, list[int]] = {}

    def tables_of_chunks() -> Iterator[_Pool]:
        for chunk in chunks:
            if gold and not isinstance(chunk, Chunk):
                raise ValueError("with gold=True, every chunk must be a Chunk with its gold")
            ratings = chunk.ratings if isinstance(chunk, Chunk) else chunk
            table = _Table(ratings, level=level, order=order, codes=codes)
            if on_unit_shares is not None:
                units = table.units
                kept = [units[i] for i in table.kept_units.tolist()]
                on_unit_shares(kept, _per_unit_shares(table.counts))
            if isinstance(chunk, Chunk) and gold:
                n_compared, n_correct = _accuracy_counts(table, chunk.gold)
                for i, name in enumerate(table.annotators):
                    counts = compared.setdefault(name, [0, 0])
                    counts[0] += int(n_compared[i])
                    counts[1] += int(n_correct[i])
            yield table.pool

    pool = _merge_pools(tables_of_chunks())
    if pool is None:
        pool = _Table([], level=level, order=order, codes=codes).pool
    accuracy = None
    if gold:
        names = pool.annotators
        accuracy = tuple(
            _accuracy_list(
                names,
                np.array([compared.get(name, [0, 0])[0] for name in names], dtype=np.int64),
                np.array([compared.get(name, [0, 0])[1] for name in names], dtype=np.int64),
            )
        )
    return _summary(
        pool,
        replicates=replicates,
        seed=seed,
        confidence=confidence,
        per_unit=None,
        accuracy=accuracy,
    )


def _merge_pools(pools: Iterable[_Pool]) -> _Pool | None:
    """One pool of the units of several, each pool's units distinct from the others'."""
    merged: _Pool | None = None
    rows: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    n_ratings: dict[Hashable, int] = {}
    confusions: dict[tuple[Hashable, Hashable], np.ndarray] = {}
    n_units_dropped = 0
    for pool in pools:
        merged = merged or pool
        rows.append(pool.rows)
        sizes.append(pool.size)
        if len(rows) > 64:
            # Keep the pending groups few: fold them into their distinct rows now and then.
            folded, size = _distinct_rows(np.concatenate(rows), np.concatenate(sizes))
            rows, sizes = [folded], [size]
        for name, n in zip(pool.annotators, pool.n_ratings_by_annotator.tolist(), strict=True):
            n_ratings[name] = n_ratings.get(name, 0) + n
        for (a, b), confusion in zip(pool.pairs, pool.confusion, strict=True):
            key = (pool.annotators[a], pool.annotators[b])
            if key in confusions:
                confusions[key] += confusion
            else:
                confusions[key] = confusion.copy()
        n_units_dropped += pool.n_units_dropped
    if merged is None:
        return None
    all_rows, size = _distinct_rows(np.concatenate(rows), np.concatenate(sizes))
    # The same annotator order as one table of all the ratings would have; a pair seen in
    # the other order in some chunk adds its matrix transposed.
    annotators = _sorted_if_possible(n_ratings)
    k = len(merged.categories)
    first, second = np.triu_indices(len(annotators), 1)
    pairs = list(zip(first.tolist(), second.tolist(), strict=True))
    confusion = np.zeros((len(pairs), k, k), dtype=np.int64)
    for i, (a, b) in enumerate(pairs):
        names = (annotators[a], annotators[b])
        if names in confusions:
            confusion[i] += confusions[names]
        if names[::-1] in confusions:
            confusion[i] += confusions[names[::-1]].T
    return replace(
        merged,
        annotators=annotators,
        rows=all_rows,
        size=size,
        pairs=pairs,
        confusion=confusion,
        n_ratings_by_annotator=np.array([n_ratings[name] for name in annotators], dtype=np.int64),
        n_units_dropped=n_units_dropped,
    )


def _summary(
    pool: _Pool,
    *,
    replicates: int,
    seed: int,
    confidence: float,
    per_unit: dict[Hashable, float] | None,
    accuracy: tuple[AnnotatorAccuracy, ...] | None,
) -> Summary:
    pairwise = _pairwise(pool)
    interval, interval_reason = _alpha_interval(
        pool, replicates=replicates, seed=seed, confidence=confidence
    )
    return Summary(
        level=pool.level,
        categories=pool.categories,
        n_units=pool.n_kept,
        n_units_dropped=pool.n_units_dropped,
        n_ratings=pool.n_ratings_kept,
        n_annotators=len(pool.annotators),
        percent_agreement=_percent_agreement(pool),
        krippendorff_alpha=_alpha(pool),
        krippendorff_alpha_ci=interval,
        krippendorff_alpha_ci_reason=interval_reason,
        confidence=confidence,
        fleiss_kappa=_fleiss(pool),
        mean_pairwise_kappa=_mean_kappa(pairwise),
        pairwise=tuple(pairwise),
        per_category=tuple(_per_category(pool)),
        per_annotator=tuple(_per_annotator(pool, pairwise)),
        per_unit=per_unit,
        accuracy=accuracy,
    )
