"""Agreement statistics against published worked examples, independent libraries and properties.

Pure computation: no database. Each published value sits next to its source; the independent
checks use `krippendorff` (GPL-3.0-or-later), scikit-learn and statsmodels (both BSD-3-Clause),
which are test-only dependencies.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from collections.abc import Hashable, Sequence
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotator import agreement
from annotator.agreement import (
    LEVELS,
    NO_PAIRABLE_UNIT,
    CodedRatings,
    Coefficient,
    Rating,
    accuracy_against_gold,
    cohen_kappa_pairs,
    fleiss_kappa,
    krippendorff_alpha,
    krippendorff_alpha_interval,
    mean_unit_agreement,
    per_annotator_agreement,
    per_category,
    per_unit_agreement,
    percent_agreement,
    summarize,
    summarize_chunks,
    unit_agreement,
)

MODULE_PATH = Path(agreement.__file__)


# --- Helpers ------------------------------------------------------------------------------------


def from_matrix(rows: Sequence[Sequence[object]], names: Sequence[Hashable]) -> list[Rating]:
    """Coder-by-unit reliability matrix (None = missing) to (unit, annotator, label) triples."""
    return [
        (unit, name, label)
        for name, row in zip(names, rows, strict=True)
        for unit, label in enumerate(row)
        if label is not None
    ]


def from_counts(table: Sequence[Sequence[int]], categories: Sequence[Hashable]) -> list[Rating]:
    """Unit-by-category count table (Fleiss form) to triples; raters are numbered per unit."""
    ratings = []
    for unit, row in enumerate(table):
        labels = [c for c, n in zip(categories, row, strict=True) for _ in range(n)]
        ratings += [(unit, f"r{i}", label) for i, label in enumerate(labels)]
    return ratings


def from_two_by_two(table: Sequence[Sequence[int]], categories: Sequence[str]) -> list[Rating]:
    """Cohen-style contingency table: rows annotator A's label, columns B's."""
    ratings = []
    unit = itertools.count()
    for (i, a), (j, b) in itertools.product(enumerate(categories), repeat=2):
        for _ in range(table[i][j]):
            u = next(unit)
            ratings += [(u, "A", a), (u, "B", b)]
    return ratings


def value(coefficient: Coefficient) -> float:
    assert coefficient.value is not None, coefficient.reason
    return coefficient.value


def random_ratings(
    rng: np.random.Generator,
    *,
    n_units: int,
    n_annotators: int,
    n_categories: int,
    missing: float,
    agreement_rate: float = 0.7,
) -> list[Rating]:
    """Noisy ratings with missing values; most units keep at least two ratings."""
    truth = rng.integers(0, n_categories, n_units)
    ratings = []
    for unit in range(n_units):
        for annotator in range(n_annotators):
            if rng.random() < missing:
                continue
            agrees = rng.random() < agreement_rate
            label = truth[unit] if agrees else rng.integers(0, n_categories)
            ratings.append((unit, f"a{annotator}", int(label)))
    return ratings


def reliability_matrix(ratings: Sequence[Rating]) -> tuple[np.ndarray, list[Hashable]]:
    """Annotator-by-unit float matrix with NaN for missing, as the krippendorff package wants."""
    annotators = sorted({a for _, a, _ in ratings})
    units = sorted({u for u, _, _ in ratings})
    matrix = np.full((len(annotators), len(units)), np.nan)
    for unit, annotator, label in ratings:
        matrix[annotators.index(annotator), units.index(unit)] = label
    return matrix, annotators


# --- Published worked examples ------------------------------------------------------------------

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, University of Pennsylvania. Section C: 4 observers x 12 units, values 1-5,
# missing data. Published: nominal .743, ordinal .815, interval .849.
KRIPPENDORFF_2011_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_matches_krippendorff_2011_four_observers(level: str, published: float) -> None:
    ratings = from_matrix(KRIPPENDORFF_2011_C, "ABCD")
    assert round(value(krippendorff_alpha(ratings, level=level)), 3) == published


def test_ordinal_alpha_on_named_categories_follows_given_order() -> None:
    # Same data as Krippendorff (2011) section C with the values named; published ordinal .815.
    names = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    rows = [[None if v is None else names[v] for v in row] for row in KRIPPENDORFF_2011_C]
    ratings = from_matrix(rows, "ABCD")
    order = ["very low", "low", "mid", "high", "very high"]
    assert round(value(krippendorff_alpha(ratings, level="ordinal", order=order)), 3) == 0.815
    codes = {name: number for number, name in names.items()}
    interval = krippendorff_alpha(ratings, level="interval", codes=codes)
    assert round(value(interval), 3) == 0.849


def test_alpha_drops_the_single_rated_unit_of_krippendorff_2011() -> None:
    # Unit 12 has one value (observer B: 3); Krippendorff (2011) excludes it as unpairable.
    summary = summarize(from_matrix(KRIPPENDORFF_2011_C, "ABCD"), replicates=10)
    assert summary.n_units == 11
    assert summary.n_units_dropped == 1
    assert summary.n_ratings == 40


def test_alpha_matches_krippendorff_2011_binary_two_coders() -> None:
    # Krippendorff (2011), section A: 2 coders, 10 units, binary data; published alpha = 0.095.
    rows = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert round(value(krippendorff_alpha(from_matrix(rows, "AB"))), 3) == 0.095


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.691), ("interval", 0.811)])
def test_alpha_matches_wikipedia_three_coders_fifteen_units(level: str, published: float) -> None:
    # Wikipedia, "Krippendorff's alpha", computational example (3 coders x 15 units, values 1-4,
    # missing data): alpha_nominal = 0.691, alpha_interval = 0.811. The same figures are the
    # documented example of the krippendorff package (0.691358, 0.810845).
    rows = [
        [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
        [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
        [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
    ]
    assert round(value(krippendorff_alpha(from_matrix(rows, "ABC"), level=level)), 3) == published


# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin 76(5), 378-382, Table 1: 30 patients, 6 psychiatrists each (not the same six), 5
# diagnoses (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other).
# Published: P-bar = .556, P_e = .220, kappa = .430; per-category kappas .248 .248 .517 .470 .565.
# Transcribed as in DKPro Agreement's AgreementTestExamples.createFleiss1972.
FLEISS_1971 = [
    (4, 4, 4, 4, 4, 4), (2, 2, 2, 5, 5, 5), (2, 3, 3, 3, 3, 5), (5, 5, 5, 5, 5, 5),
    (2, 2, 2, 4, 4, 4), (1, 1, 3, 3, 3, 3), (3, 3, 3, 3, 5, 5), (1, 1, 3, 3, 3, 4),
    (1, 1, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5), (1, 4, 4, 4, 4, 4), (1, 2, 4, 4, 4, 4),
    (2, 2, 2, 3, 3, 3), (1, 4, 4, 4, 4, 4), (2, 2, 4, 4, 4, 5), (3, 3, 3, 3, 3, 5),
    (1, 1, 1, 4, 5, 5), (1, 1, 1, 1, 1, 2), (2, 2, 4, 4, 4, 4), (1, 3, 3, 5, 5, 5),
    (5, 5, 5, 5, 5, 5), (2, 4, 4, 4, 4, 4), (2, 2, 4, 5, 5, 5), (1, 1, 4, 4, 4, 4),
    (1, 4, 4, 4, 4, 5), (2, 2, 2, 2, 2, 4), (1, 1, 1, 1, 5, 5), (2, 2, 4, 4, 4, 4),
    (1, 3, 3, 3, 3, 3), (5, 5, 5, 5, 5, 5),
]  # fmt: skip


def fleiss_1971_ratings() -> list[Rating]:
    return [
        (unit, f"psychiatrist{i}", diagnosis)
        for unit, row in enumerate(FLEISS_1971)
        for i, diagnosis in enumerate(row)
    ]


def test_fleiss_kappa_matches_fleiss_1971() -> None:
    ratings = fleiss_1971_ratings()
    assert round(value(fleiss_kappa(ratings)), 3) == 0.430
    # Fleiss' P-bar is our percent agreement when every unit has the same number of ratings.
    assert round(value(percent_agreement(ratings)), 3) == 0.556


def test_category_alpha_vs_rest_matches_fleiss_1971_category_kappas() -> None:
    # With m ratings on every unit and n = N*m values, alpha = 1 - (n-1)/n * (1 - kappa) exactly
    # (alpha corrects for the sample size, kappa does not), so Fleiss' published category kappas
    # check our category-versus-rest alpha. Exact arithmetic gives .245 .245 .520 .471 .566; the
    # published third decimals differ by up to .003 (rounded intermediate shares in the paper),
    # which is why DKPro Agreement's tests of the same table also allow +-.005.
    n = 30 * 6
    published = {1: 0.248, 2: 0.248, 3: 0.517, 4: 0.470, 5: 0.565}
    for category in per_category(fleiss_1971_ratings()):
        kappa = 1 - n / (n - 1) * (1 - value(category.alpha_vs_rest))
        assert kappa == pytest.approx(published[category.category], abs=0.005)


def test_fleiss_kappa_matches_wikipedia_fourteen_raters() -> None:
    # Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
    # Published: P-bar = 0.378, P_e = 0.213, kappa = 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    ratings = from_counts(table, [1, 2, 3, 4, 5])
    assert round(value(fleiss_kappa(ratings)), 3) == 0.210
    assert round(value(percent_agreement(ratings)), 3) == 0.378


def test_mean_unit_agreement_is_fleiss_p_bar_of_published_examples() -> None:
    # Wikipedia's fourteen raters (P-bar = 0.378) and Fleiss (1971), P-bar 0.556.
    wikipedia = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert round(mean_unit_agreement(wikipedia), 3) == 0.378
    fleiss = [[row.count(k) for k in range(1, 6)] for row in FLEISS_1971]
    assert round(mean_unit_agreement(fleiss), 3) == 0.556


def test_mean_unit_agreement_skips_units_without_a_pair() -> None:
    assert mean_unit_agreement([]) is None
    assert mean_unit_agreement([[1], [0, 1]]) is None
    assert mean_unit_agreement([[1], [2, 1], [1, 1]]) == pytest.approx((1 / 3 + 0) / 2)


@pytest.mark.parametrize(
    ("table", "published"),
    [
        # Wikipedia, "Cohen's kappa", simple example: 50 grant proposals, p_o = 0.7, kappa = 0.4.
        ([[20, 5], [10, 15]], 0.4),
        # Wikipedia, "Cohen's kappa", same percentages but different numbers: both p_o = 0.60,
        # kappa = 0.1304 and 0.2593.
        ([[45, 15], [25, 15]], 0.1304),
        ([[25, 35], [5, 35]], 0.2593),
    ],
)
def test_cohen_kappa_matches_wikipedia_examples(table: list[list[int]], published: float) -> None:
    (pair,) = cohen_kappa_pairs(from_two_by_two(table, ["yes", "no"]), categories=["yes", "no"])
    assert pair.annotators == ("A", "B")
    assert round(value(pair.cohen_kappa), 4) == published
    assert pair.confusion == tuple(tuple(row) for row in table)
    assert pair.n_units == sum(map(sum, table))


def test_specific_agreement_matches_two_rater_example() -> None:
    # Data: Artstein & Poesio (2008), Inter-coder agreement for computational linguistics,
    # STAT/IReq table (20 both STAT, 50 both IReq, 30 split). Specific agreement 2a/(2a+b+c)
    # (Cicchetti & Feinstein 1990): STAT .571, IReq .769, as DKPro Agreement's tests assert.
    ratings = from_two_by_two([[20, 10], [20, 50]], ["STAT", "IReq"])
    figures = {c.category: c for c in per_category(ratings, categories=["STAT", "IReq"])}
    assert round(value(figures["STAT"].specific_agreement), 3) == 0.571
    assert round(value(figures["IReq"].specific_agreement), 3) == 0.769
    assert figures["STAT"].n_ratings == 70
    assert figures["IReq"].n_ratings == 130


# --- Independent libraries on random data with missing values -----------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_agrees_with_krippendorff_package(seed: int, level: str) -> None:
    rng = np.random.default_rng(seed)
    ratings = random_ratings(rng, n_units=60, n_annotators=5, n_categories=4, missing=0.4)
    matrix, _ = reliability_matrix(ratings)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert value(krippendorff_alpha(ratings, level=level)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_pairwise_kappa_agrees_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ratings = random_ratings(rng, n_units=80, n_annotators=4, n_categories=3, missing=0.3)
    by_annotator: dict[Hashable, dict[Hashable, Hashable]] = {}
    for unit, annotator, label in ratings:
        by_annotator.setdefault(annotator, {})[unit] = label
    pairs = cohen_kappa_pairs(ratings)
    assert len(pairs) == 6
    for pair in pairs:
        a, b = pair.annotators
        shared = sorted(by_annotator[a].keys() & by_annotator[b].keys())
        assert pair.n_units == len(shared)
        first = [by_annotator[a][u] for u in shared]
        second = [by_annotator[b][u] for u in shared]
        expected = cohen_kappa_score(first, second)
        assert value(pair.cohen_kappa) == pytest.approx(expected, abs=1e-12)
        assert value(pair.percent_agreement) == pytest.approx(
            np.mean(np.equal(first, second)), abs=1e-12
        )


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_agrees_with_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Four of six annotators on each unit, so every unit has the same number of ratings.
    ratings = []
    table = np.zeros((50, 3), dtype=int)
    for unit in range(50):
        for annotator in rng.permutation(6)[:4]:
            label = int(rng.integers(0, 3)) if rng.random() < 0.5 else unit % 3
            table[unit, label] += 1
            ratings.append((unit, int(annotator), label))
    expected = statsmodels_fleiss_kappa(table, method="fleiss")
    assert value(fleiss_kappa(ratings)) == pytest.approx(expected, abs=1e-12)


# --- Bootstrap ----------------------------------------------------------------------------------


def medium_ratings(n_units: int = 400, seed: int = 7) -> list[Rating]:
    rng = np.random.default_rng(seed)
    return random_ratings(rng, n_units=n_units, n_annotators=5, n_categories=3, missing=0.4)


def test_bootstrap_interval_is_reproducible_with_a_seed() -> None:
    ratings = medium_ratings()
    first = krippendorff_alpha_interval(ratings, seed=3)
    assert first == krippendorff_alpha_interval(ratings, seed=3)
    assert first != krippendorff_alpha_interval(ratings, seed=4)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_bootstrap_interval_contains_point_estimate(level: str) -> None:
    ratings = medium_ratings()
    interval = krippendorff_alpha_interval(ratings, level=level, seed=0)
    assert interval is not None
    low, high = interval
    assert low < value(krippendorff_alpha(ratings, level=level)) < high


def test_bootstrap_interval_shrinks_with_more_data() -> None:
    small = medium_ratings(n_units=200)
    # Ten copies of every unit: same alpha up to the (n-1) correction, ten times the units.
    large = [((copy, unit), a, label) for copy in range(10) for unit, a, label in small]
    low_small, high_small = krippendorff_alpha_interval(small, seed=0) or (0, 0)
    low_large, high_large = krippendorff_alpha_interval(large, seed=0) or (0, 0)
    assert high_large - low_large < (high_small - low_small) / 2


def test_bootstrap_by_group_counts_matches_resampling_unit_indices() -> None:
    # The interval draws how many units of each count-vector group are picked (multinomial).
    # The textbook bootstrap draws unit indices with replacement and recomputes alpha; both
    # are the same distribution, so their intervals agree up to Monte Carlo noise.
    ratings = medium_ratings(n_units=400)
    units = sorted({unit for unit, _, _ in ratings})
    by_unit: dict[Hashable, list[Rating]] = {unit: [] for unit in units}
    for rating in ratings:
        by_unit[rating[0]].append(rating)
    rng = np.random.default_rng(7)
    alphas = []
    for _ in range(400):
        picked = rng.integers(0, len(units), len(units))
        resampled = [
            ((copy, unit), annotator, label)
            for copy, index in enumerate(picked)
            for unit, annotator, label in by_unit[units[index]]
        ]
        alphas.append(value(krippendorff_alpha(resampled)))
    textbook = np.quantile(alphas, [0.025, 0.975])
    by_groups = krippendorff_alpha_interval(ratings, replicates=2000, seed=1)
    assert by_groups is not None
    assert by_groups == pytest.approx(tuple(textbook), abs=0.02)


def test_bootstrap_interval_does_not_depend_on_the_order_of_the_ratings() -> None:
    ratings = medium_ratings()
    shuffled = list(ratings)
    np.random.default_rng(0).shuffle(shuffled)
    assert krippendorff_alpha_interval(shuffled, seed=2) == krippendorff_alpha_interval(
        ratings, seed=2
    )


def test_bootstrap_skips_replicates_where_alpha_is_undefined() -> None:
    # One disagreeing unit among many unanimous ones: many resamples miss it and use a single
    # category; the interval comes from the others.
    ratings = [(u, a, "favor") for u in range(30) for a in "AB"] + [
        (30, "A", "favor"),
        (30, "B", "against"),
    ]
    interval = krippendorff_alpha_interval(ratings, replicates=200, seed=0)
    assert interval is not None
    assert -1 <= interval[0] <= interval[1] <= 1


def test_bootstrap_rejects_bad_confidence() -> None:
    with pytest.raises(ValueError, match="confidence"):
        krippendorff_alpha_interval(medium_ratings(), confidence=95)


# --- Per unit, per annotator, per category, gold ------------------------------------------------


SMALL = [
    ("s1", "ana", "favor"),
    ("s1", "ben", "favor"),
    ("s1", "cat", "against"),
    ("s2", "ana", "neutral"),
    ("s2", "ben", "neutral"),
    ("s3", "ana", "favor"),
    ("s3", "cat", "against"),
    ("s4", "ben", "favor"),  # single rating: dropped from agreement, used against gold
]


def test_per_unit_agreement_is_share_of_agreeing_pairs() -> None:
    assert per_unit_agreement(SMALL) == {"s1": pytest.approx(1 / 3), "s2": 1.0, "s3": 0.0}


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([], None),
        ([1], None),
        ([2], 1.0),
        ([1, 1], 0.0),
        # Three raters, 2 vs 1: one agreeing pair of three.
        ([2, 1], 1 / 3),
        ([3, 1], 0.5),
        ([2, 0, 1], 1 / 3),
    ],
)
def test_unit_agreement_from_label_counts(counts: list[int], expected: float | None) -> None:
    assert unit_agreement(counts) == expected


def test_one_unit_and_the_table_agree_on_per_unit_agreement() -> None:
    """Exports (one sentence at a time) and statistics (all units at once) use one formula."""
    by_unit: dict[str, dict[str, int]] = {}
    for unit, _, label in SMALL:
        by_unit.setdefault(unit, {}).setdefault(label, 0)
        by_unit[unit][label] += 1
    one_at_a_time = {
        unit: unit_agreement(counts.values())
        for unit, counts in by_unit.items()
        if sum(counts.values()) > 1
    }

    assert one_at_a_time == pytest.approx(per_unit_agreement(SMALL))


def test_summary_ranks_hardest_units_first() -> None:
    assert list(summarize(SMALL, replicates=10).per_unit) == ["s3", "s1", "s2"]


def test_percent_agreement_averages_units_not_pairs() -> None:
    # Units weigh equally: (1/3 + 1 + 0) / 3, not 2 agreeing pairs of 5.
    assert value(percent_agreement(SMALL)) == pytest.approx(4 / 9)


def test_per_annotator_agreement_counts_pairs_each_is_in() -> None:
    result = {a.annotator: a for a in per_annotator_agreement(SMALL)}
    # ana: s1 with ben (agree) and cat (disagree), s2 with ben (agree), s3 with cat (disagree).
    assert (result["ana"].n_pairs, value(result["ana"].agreement)) == (4, 0.5)
    # ben: s1 with ana (agree) and cat (disagree), s2 with ana (agree); s4 is single-rated.
    assert (result["ben"].n_pairs, value(result["ben"].agreement)) == (3, pytest.approx(2 / 3))
    assert (result["cat"].n_pairs, value(result["cat"].agreement)) == (3, 0.0)
    assert result["ben"].n_ratings == 2
    kappas = {p.annotators: p.cohen_kappa.value for p in cohen_kappa_pairs(SMALL)}
    defined = [k for names, k in kappas.items() if "ana" in names and k is not None]
    assert value(result["ana"].mean_cohen_kappa) == pytest.approx(sum(defined) / len(defined))


def test_per_category_specific_agreement_and_counts() -> None:
    figures = {c.category: c for c in per_category(SMALL)}
    assert list(figures) == ["against", "favor", "neutral"]  # sorted labels by default
    # favor: s1 has 2 (one agreeing ordered pair each way: 2*1), possible 2*(3-1); s3 has 1,
    # possible 1*(2-1). So 2 / (4 + 1).
    assert value(figures["favor"].specific_agreement) == pytest.approx(2 / 5)
    assert value(figures["against"].specific_agreement) == 0.0
    assert value(figures["neutral"].specific_agreement) == 1.0
    assert figures["favor"].n_ratings == 3  # s4's favor is on a single-rated unit


def test_category_alpha_vs_rest_equals_alpha_of_recoded_data() -> None:
    ratings = medium_ratings()
    for category in per_category(ratings):
        recoded = [(u, a, label == category.category) for u, a, label in ratings]
        assert value(category.alpha_vs_rest) == pytest.approx(value(krippendorff_alpha(recoded)))


def test_accuracy_against_gold_uses_every_rating() -> None:
    gold = {"s1": "favor", "s3": "against", "s4": "favor", "s9": "favor", "s2": "unclear"}
    result = {a.annotator: a for a in accuracy_against_gold(SMALL, gold)}
    assert (result["ana"].n_compared, result["ana"].n_correct) == (3, 1)
    assert result["ana"].accuracy == pytest.approx(1 / 3)
    # ben's s4 counts although nobody else rated it; "unclear" is a gold label nobody chose.
    assert (result["ben"].n_compared, result["ben"].n_correct) == (3, 2)
    assert (result["cat"].n_compared, result["cat"].n_correct, result["cat"].accuracy) == (
        2,
        1,
        0.5,
    )


def test_accuracy_is_none_for_an_annotator_without_gold_units() -> None:
    (result,) = [a for a in accuracy_against_gold(SMALL, {"s2": "neutral"}) if a.annotator == "cat"]
    assert (result.n_compared, result.accuracy) == (0, None)


def test_gold_label_none_is_rejected() -> None:
    with pytest.raises(ValueError, match="'s1'"):
        accuracy_against_gold(SMALL, {"s1": None})


# --- Edge cases ---------------------------------------------------------------------------------


def test_single_rated_units_are_dropped_and_counted() -> None:
    base = from_matrix(KRIPPENDORFF_2011_C, "ABCD")
    extra = [(100 + i, "A", i % 5 + 1) for i in range(7)]
    summary = summarize(base + extra, replicates=10)
    assert summary.n_units_dropped == 1 + 7
    assert summary.krippendorff_alpha == summarize(base, replicates=10).krippendorff_alpha


def test_duplicate_rating_names_unit_and_annotator() -> None:
    ratings = [("s1", "ana", "favor"), ("s1", "ben", "favor"), ("s1", "ana", "against")]
    with pytest.raises(ValueError, match=r"unit 's1'.*annotator 'ana'"):
        krippendorff_alpha(ratings)


@pytest.mark.parametrize("bad", [None, float("nan")])
def test_missing_label_value_is_rejected(bad: object) -> None:
    ratings = [("s1", "ana", "favor"), ("s1", "ben", bad)]
    with pytest.raises(ValueError, match=r"unit 's1', annotator 'ben'"):
        summarize(ratings)


def test_malformed_rating_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected \\(unit, annotator, label\\)"):
        percent_agreement([("s1", "ana", "favor"), ("s1", "ben")])


def test_ordinal_label_missing_from_order_is_rejected() -> None:
    with pytest.raises(ValueError, match="'unclear'"):
        krippendorff_alpha(
            [("s1", "ana", "favor"), ("s1", "ben", "unclear")],
            level="ordinal",
            order=["against", "neutral", "favor"],
        )


def test_ordinal_text_labels_need_an_order() -> None:
    with pytest.raises(ValueError, match="order"):
        krippendorff_alpha([("s1", "ana", "favor"), ("s1", "ben", "against")], level="ordinal")


def test_interval_text_labels_need_codes() -> None:
    ratings = [("s1", "ana", "favor"), ("s1", "ben", "against")]
    with pytest.raises(ValueError, match="codes"):
        krippendorff_alpha(ratings, level="interval")
    with pytest.raises(ValueError, match="'against'"):
        krippendorff_alpha(ratings, level="interval", codes={"favor": 1})


def test_interval_alpha_with_stance_codes() -> None:
    codes = {"against": -1, "neutral": 0, "favor": 1}
    ratings = [
        ("s1", "ana", "favor"),
        ("s1", "ben", "neutral"),
        ("s2", "ana", "against"),
        ("s2", "ben", "against"),
        ("s3", "ana", "favor"),
        ("s3", "ben", "favor"),
    ]
    numeric = [(u, a, codes[label]) for u, a, label in ratings]
    assert krippendorff_alpha(ratings, level="interval", codes=codes) == krippendorff_alpha(
        numeric, level="interval"
    )


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(SMALL, level="ratio")  # type: ignore[arg-type]


def test_one_category_used_makes_coefficients_undefined_not_one() -> None:
    ratings = [(u, a, "favor") for u in range(5) for a in ("ana", "ben", "cat")]
    summary = summarize(ratings, replicates=10)
    assert summary.krippendorff_alpha.value is None
    assert "only one category" in (summary.krippendorff_alpha.reason or "")
    assert summary.krippendorff_alpha_ci is None
    assert summary.krippendorff_alpha_ci_reason == summary.krippendorff_alpha.reason
    assert summary.fleiss_kappa.value is None and summary.fleiss_kappa.reason
    assert all(p.cohen_kappa.value is None and p.cohen_kappa.reason for p in summary.pairwise)
    assert summary.mean_pairwise_kappa.value is None
    (favor,) = summary.per_category
    assert favor.alpha_vs_rest.value is None and "every rating" in (
        favor.alpha_vs_rest.reason or ""
    )
    # Raw agreement is defined: everybody agreed.
    assert summary.percent_agreement.value == 1.0


def test_equal_interval_codes_leave_no_expected_disagreement() -> None:
    ratings = [("s1", "ana", "favor"), ("s1", "ben", "neutral")]
    result = krippendorff_alpha(ratings, level="interval", codes={"favor": 0, "neutral": 0})
    assert result.value is None and "expected disagreement" in (result.reason or "")


@pytest.mark.parametrize("ratings", [[], [("s1", "ana", "favor"), ("s2", "ben", "favor")]])
def test_nothing_pairable_makes_everything_undefined(ratings: list[Rating]) -> None:
    summary = summarize(ratings)
    for coefficient in (
        summary.percent_agreement,
        summary.krippendorff_alpha,
        summary.fleiss_kappa,
        summary.mean_pairwise_kappa,
    ):
        assert coefficient.value is None and coefficient.reason
    assert summary.krippendorff_alpha.reason == NO_PAIRABLE_UNIT
    assert summary.krippendorff_alpha_ci is None
    assert summary.n_units == 0
    assert summary.n_units_dropped == len(ratings)
    assert summary.per_unit == {}
    json.dumps(summary.to_dict())


def test_fleiss_kappa_needs_equal_numbers_of_ratings() -> None:
    result = fleiss_kappa(from_matrix(KRIPPENDORFF_2011_C, "ABCD"))
    assert result.value is None
    assert "between 2 and 4 ratings" in (result.reason or "")


def test_pair_without_shared_units_is_listed_with_a_reason() -> None:
    ratings = [
        ("s1", "ana", "favor"),
        ("s1", "ben", "favor"),
        ("s2", "cat", "x"),
        ("s2", "ben", "x"),
    ]
    pairs = {p.annotators: p for p in cohen_kappa_pairs(ratings)}
    assert set(pairs) == {("ana", "ben"), ("ana", "cat"), ("ben", "cat")}
    lonely = pairs[("ana", "cat")]
    assert lonely.n_units == 0
    assert lonely.cohen_kappa.value is None and "no unit in common" in (
        lonely.cohen_kappa.reason or ""
    )
    assert lonely.percent_agreement.value is None
    assert lonely.confusion == ((0, 0), (0, 0))


def test_coefficient_has_a_value_or_a_reason() -> None:
    with pytest.raises(ValueError):
        Coefficient(value=None)
    with pytest.raises(ValueError):
        Coefficient(value=0.5, reason="both")


def test_generator_input_is_accepted() -> None:
    assert percent_agreement(r for r in SMALL) == percent_agreement(SMALL)


# --- Summary ------------------------------------------------------------------------------------


def test_summary_to_dict_is_json_with_documented_keys() -> None:
    gold = {"s1": "favor"}
    data = json.loads(json.dumps(summarize(SMALL, replicates=50, gold=gold).to_dict()))
    for key in (
        "n_units",
        "n_annotators",
        "n_ratings",
        "n_units_dropped",
        "percent_agreement",
        "krippendorff_alpha",
        "krippendorff_alpha_ci",
        "fleiss_kappa",
        "fleiss_kappa_reason",
        "mean_pairwise_kappa",
        "pairwise",
        "per_category",
        "per_annotator",
        "per_unit",
        "accuracy",
    ):
        assert key in data
    assert (data["n_units"], data["n_units_dropped"], data["n_ratings"]) == (3, 1, 7)
    assert data["n_annotators"] == 3
    assert data["fleiss_kappa"] is None and data["fleiss_kappa_reason"]
    assert data["pairwise"][0]["annotators"] == ["ana", "ben"]
    assert set(data["pairwise"][0]) >= {"n_units", "percent_agreement", "cohen_kappa", "confusion"}
    assert data["per_unit"][0] == {"unit": "s3", "agreement": 0.0}


def test_summary_matches_the_single_functions() -> None:
    ratings = medium_ratings()
    summary = summarize(ratings, level="ordinal", replicates=200, seed=5)
    assert summary.krippendorff_alpha == krippendorff_alpha(ratings, level="ordinal")
    assert summary.krippendorff_alpha_ci == krippendorff_alpha_interval(
        ratings, level="ordinal", replicates=200, seed=5
    )
    assert summary.percent_agreement == percent_agreement(ratings)
    assert list(summary.pairwise) == cohen_kappa_pairs(ratings)
    assert list(summary.per_category) == per_category(ratings)
    assert list(summary.per_annotator) == per_annotator_agreement(ratings)
    assert summary.per_unit == per_unit_agreement(ratings)


def chunks_by_unit(ratings: Sequence[Rating], n_chunks: int) -> list[list[Rating]]:
    """The ratings cut into chunks at unit boundaries, each chunk in its own order, as a
    reader of a big table hands them over."""
    units = sorted({unit for unit, _, _ in ratings}, key=repr)
    chunk_of = {unit: i * n_chunks // len(units) for i, unit in enumerate(units)}
    chunks: list[list[Rating]] = [[] for _ in range(n_chunks)]
    for rating in ratings:
        chunks[chunk_of[rating[0]]].append(rating)
    rng = np.random.default_rng(n_chunks)
    for chunk in chunks:
        rng.shuffle(chunk)  # type: ignore[arg-type]
    return chunks


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize("n_chunks", [1, 7, 100])
def test_summary_of_chunks_is_the_summary_of_all_ratings(level: str, n_chunks: int) -> None:
    ratings = medium_ratings(n_units=300)
    order = [0, 1, 2]
    whole = summarize(ratings, level=level, order=order, replicates=300, seed=4, per_unit=False)
    chunked = summarize_chunks(
        chunks_by_unit(ratings, n_chunks), level=level, order=order, replicates=300, seed=4
    )
    # Every figure, the interval included, exactly; what needs each unit is left out.
    expected = whole.to_dict() | {"per_unit": None, "accuracy": None}
    assert _close(chunked.to_dict(), expected)


def _close(actual: object, expected: object) -> bool:
    """Equal, with floats equal to 12 digits (sums over chunks add in another order)."""
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, dict) and isinstance(actual, dict):
        assert actual.keys() == expected.keys()
        return all(_close(actual[key], expected[key]) for key in expected)
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return len(actual) == len(expected) and all(
            _close(a, e) for a, e in zip(actual, expected, strict=True)
        )
    return actual == expected


def test_summary_of_chunks_lines_up_annotators_met_in_another_order() -> None:
    # Names that do not sort keep the order first met; a later chunk meeting a pair the other
    # way round adds its confusion matrix transposed.
    names = {"a0": 1, "a1": "one", "a2": (1,), "a3": 1.5, "a4": "two"}
    ratings = [(unit, names[str(a)], label) for unit, a, label in medium_ratings(n_units=200)]
    chunks = chunks_by_unit(ratings, 9)
    whole = summarize(
        [rating for chunk in chunks for rating in chunk], order=[0, 1, 2], per_unit=False
    )
    chunked = summarize_chunks(chunks, order=[0, 1, 2])
    assert _close(chunked.to_dict(), whole.to_dict() | {"accuracy": None})


def test_summary_of_chunks_matches_the_published_examples() -> None:
    # Krippendorff (2011), section C (alpha 0.743 nominal) and Fleiss (1971, kappa .430),
    # each read in chunks of a few units.
    chunked = summarize_chunks(
        chunks_by_unit(from_matrix(KRIPPENDORFF_2011_C, "ABCD"), 4),
        order=[1, 2, 3, 4, 5],
        replicates=10,
    )
    assert round(value(chunked.krippendorff_alpha), 3) == 0.743
    fleiss = summarize_chunks(
        chunks_by_unit(fleiss_1971_ratings(), 6), order=[1, 2, 3, 4, 5], replicates=10
    )
    assert round(value(fleiss.fleiss_kappa), 3) == 0.430


def test_summary_of_no_chunks_says_nothing_is_pairable() -> None:
    summary = summarize_chunks([], order=["favor", "against"])
    assert summary.n_units == summary.n_ratings == summary.n_annotators == 0
    assert summary.krippendorff_alpha.reason == NO_PAIRABLE_UNIT
    assert summary.krippendorff_alpha_ci is None


def test_summary_of_chunks_names_the_duplicate_within_a_chunk() -> None:
    with pytest.raises(ValueError, match="more than one rating"):
        summarize_chunks([[("u", "A", "x"), ("u", "A", "y")]], order=["x", "y"])


def test_ratio_level_measures_relative_distance() -> None:
    # On a ratio scale only proportions count: scaling every value keeps alpha, shifting them
    # (which interval alpha ignores) changes it.
    ratings = random_ratings(
        np.random.default_rng(3), n_units=40, n_annotators=3, n_categories=5, missing=0.2
    )
    scaled = [(u, a, label * 10) for u, a, label in ratings]
    shifted = [(u, a, label + 100) for u, a, label in ratings]
    ratio = value(krippendorff_alpha(ratings, level="ratio"))
    assert value(krippendorff_alpha(scaled, level="ratio")) == pytest.approx(ratio, abs=1e-12)
    assert value(krippendorff_alpha(shifted, level="ratio")) != pytest.approx(ratio, abs=1e-3)
    interval = value(krippendorff_alpha(ratings, level="interval"))
    assert value(krippendorff_alpha(shifted, level="interval")) == pytest.approx(interval)
    # Two zeros agree; zero against anything else is the largest distance there is.
    zeros = [("u1", "a", 0), ("u1", "b", 0), ("u2", "a", 0), ("u2", "b", 5)]
    assert value(krippendorff_alpha(zeros, level="ratio")) == pytest.approx(
        krippendorff.alpha(reliability_matrix(zeros)[0], level_of_measurement="ratio")
    )


def test_ratio_level_refuses_negative_codes_and_text() -> None:
    with pytest.raises(ValueError, match="ratio level needs numbers of at least 0"):
        krippendorff_alpha([("u", "a", -1), ("u", "b", 1)], level="ratio")
    with pytest.raises(ValueError, match="ratio level needs a finite number"):
        krippendorff_alpha([("u", "a", "low"), ("u", "b", "high")], level="ratio")
    codes = {"low": 1, "high": 3}
    ratings = [("u1", "a", "low"), ("u1", "b", "high"), ("u2", "a", "high"), ("u2", "b", "high")]
    assert krippendorff_alpha(ratings, level="ratio", codes=codes) == krippendorff_alpha(
        [(u, a, codes[label]) for u, a, label in ratings], level="ratio"
    )


def test_coded_ratings_give_the_same_summary_as_triples() -> None:
    ratings = medium_ratings()
    coded = CodedRatings.from_columns(*(list(column) for column in zip(*ratings, strict=True)))
    assert len(coded) == len(ratings)
    assert [coded.rating(i) for i in range(len(coded))] == ratings
    for level in ("nominal", "ordinal"):
        from_triples = summarize(ratings, level=level, replicates=50)
        assert summarize(coded, level=level, replicates=50) == from_triples


def test_relabelling_merges_labels_that_become_equal() -> None:
    coded = CodedRatings.from_columns(["u1", "u1", "u2"], ["a", "b", "a"], ["1", "1.0", "2"])
    relabelled = coded.relabel([1, 1.0, 2])
    assert relabelled.labels == (1, 2)
    assert [relabelled.rating(i) for i in range(3)] == [
        ("u1", "a", 1),
        ("u1", "b", 1),
        ("u2", "a", 2),
    ]
    assert value(percent_agreement(relabelled)) == 1.0


def test_summary_can_leave_out_the_per_unit_ranking() -> None:
    summary = summarize(medium_ratings(), replicates=20, per_unit=False)
    assert summary.per_unit is None
    assert summary.to_dict()["per_unit"] is None
    assert summary.krippendorff_alpha == krippendorff_alpha(medium_ratings())


# --- Properties ---------------------------------------------------------------------------------

rating_sets = st.dictionaries(
    keys=st.tuples(st.integers(0, 9), st.integers(0, 4)),
    values=st.integers(0, 3),
    max_size=40,
).map(lambda cells: [(unit, annotator, label) for (unit, annotator), label in cells.items()])


@settings(max_examples=200, deadline=None)
@given(ratings=rating_sets, level=st.sampled_from(LEVELS))
def test_alpha_lies_between_minus_one_and_one(ratings: list[Rating], level: str) -> None:
    alpha = krippendorff_alpha(ratings, level=level).value
    assert alpha is None or -1 <= alpha <= 1


@settings(max_examples=200, deadline=None)
@given(ratings=rating_sets)
def test_agreement_shares_lie_between_zero_and_one(ratings: list[Rating]) -> None:
    share = percent_agreement(ratings).value
    assert share is None or 0 <= share <= 1
    assert all(0 <= s <= 1 for s in per_unit_agreement(ratings).values())
    for annotator in per_annotator_agreement(ratings):
        assert annotator.agreement.value is None or 0 <= annotator.agreement.value <= 1


@settings(max_examples=200, deadline=None)
@given(ratings=rating_sets, permutation=st.permutations(range(4)))
def test_nominal_alpha_ignores_category_names(
    ratings: list[Rating], permutation: list[int]
) -> None:
    relabelled = [(u, a, f"c{permutation[label]}") for u, a, label in ratings]
    before, after = krippendorff_alpha(ratings), krippendorff_alpha(relabelled)
    assert (before.value is None) == (after.value is None)
    if before.value is not None:
        assert after.value == pytest.approx(before.value, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(ratings=rating_sets, permutation=st.permutations(range(5)), shuffle=st.randoms())
def test_annotator_names_and_input_order_do_not_matter(
    ratings: list[Rating], permutation: list[int], shuffle: object
) -> None:
    renamed = [(u, f"n{permutation[a]}", label) for u, a, label in ratings]
    shuffle.shuffle(renamed)  # type: ignore[attr-defined]
    for level in LEVELS:
        before = krippendorff_alpha(ratings, level=level).value
        after = krippendorff_alpha(renamed, level=level).value
        assert (before is None) == (after is None)
        if before is not None:
            assert after == pytest.approx(before, abs=1e-12)
    assert fleiss_kappa(renamed).reason == fleiss_kappa(ratings).reason

    def kappas(data: list[Rating]) -> list[tuple[int, float]]:
        pairs = cohen_kappa_pairs(data)
        return sorted((p.n_units, round(p.cohen_kappa.value or math.inf, 9)) for p in pairs)

    assert kappas(renamed) == kappas(ratings)


@settings(max_examples=100, deadline=None)
@given(ratings=rating_sets, level=st.sampled_from(LEVELS))
def test_alpha_agrees_with_krippendorff_package_on_any_data(
    ratings: list[Rating], level: str
) -> None:
    ours = krippendorff_alpha(ratings, level=level).value
    if ours is None:
        return
    matrix, _ = reliability_matrix(ratings)
    assert ours == pytest.approx(krippendorff.alpha(matrix, level_of_measurement=level), abs=1e-9)


# --- Purity -------------------------------------------------------------------------------------


def test_agreement_module_does_not_import_django() -> None:
    tree = ast.parse(MODULE_PATH.read_text())
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported, "the parse found no imports at all"
    assert not [name for name in imported if name.split(".")[0] == "django"]
