"""Model assistance, the pure half: a baseline classifier per layer, its article-grouped evaluation,
the minimum data to train, uncertainty per article, labels that look wrong, and the anchoring effect
of visible suggestions.

No Django here: callers turn rows into plain data (texts, article keys, label indices into the
layer's classes in schema order, zones, relative positions) and get frozen dataclasses and NumPy
arrays back. A trained model is plain arrays too, stored with `TrainedModel.to_bytes()`.

API::

    check_training_data(labels, groups, *, class_names, kind="labels", minimums=Minimums())
        -> Readiness                      # may training start? if not, what is missing, in words
    train(texts, labels, groups, *, class_names, zones=None, positions=None,
          settings=ModelSettings()) -> TrainingResult   # raises NotEnoughData below the minimums
        .model: TrainedModel              # fitted on every labelled sentence
        .evaluation: Evaluation           # macro-F1, per-class F1, intervals, confusion, baselines
        .out_of_fold: ndarray (n, K)      # each sentence as predicted without its article
        .folds: ndarray (n,)              # the fold that held each sentence out
    TrainedModel.predict_proba(texts, *, zones=None, positions=None) -> ndarray (n, K)
    TrainedModel.predict(...) -> ndarray (n,) of class indices
    TrainedModel.to_bytes() -> bytes;  TrainedModel.from_bytes(data) -> TrainedModel
    article_uncertainty(probabilities, groups) -> ArticleUncertainty  # .ranked("entropy")
    find_label_issues(labels, probabilities, *, thresholds=None) -> tuple[LabelIssue, ...]
    confident_thresholds(labels, probabilities) -> ndarray (K,)
    anchoring_effect(records, *, confidence=0.95) -> tuple[AnchoringEffect, ...]   # one per layer
    wilson_interval(successes, trials) / newcombe_interval(s1, n1, s2, n2)

K is always `len(class_names)` and columns follow the schema order, whatever classes the training
data happened to contain (a class never labelled gets probability 0).

The classifier, and why this one
--------------------------------
Text features: word unigrams and bigrams (lower-cased, `\\w+` tokens, so "u", "I" and numbers
count), hashed into 2^20 columns by scikit-learn's `HashingVectorizer` and scaled to unit length.
Where given, the sentence's zone (one column per `annotator.zones.ZONES`) and its relative position
in the article (five one-hot bins of [0, 1]) are appended. Classifier: `SGDClassifier` with log
loss (logistic regression fitted by stochastic gradient descent, one-vs-rest, probabilities
normalised across classes), L2 penalty `alpha`, a fixed number of passes, `n_jobs=1` because the
background worker shares two cores with the web server.

The budget decided it: fit plus grouped cross-validation on 200,000 sentences in at most 60 s and
prediction at 20,000 sentences/s or more, on two shared cores (`bench/bench_modelling.py`; figures
in `bench/README.md`, "Model assistance"). Measured on this machine:
- Hashing needs no vocabulary, so the whole corpus is vectorised once and every fold slices rows
  of the same matrix; this is exactly what per-fold pipelines would compute (the hasher has no
  fitted state, hence nothing leaks from test folds), at a sixth of the cost (one hashing pass
  instead of one per fold plus the final fit). A TF-IDF vocabulary would have to be refitted per
  fold and stored with the model.
- Character n-grams (scikit-learn's `char_wb`, 3-5) cost about six times the CPU of word n-grams
  (24 s against 4.2 s for 200,000 sentences) and six times the memory of the feature matrix (330
  non-zeros a sentence against 51), and would hold prediction below 8,000 sentences/s of CPU, so
  they are left out.
- `SGDClassifier` takes about 2.5 s of CPU per fit on 160,000 sentences for five passes (the
  number scikit-learn's guide suggests for this size, about 10^6 example updates);
  `LogisticRegression` with saga took 9 s for 20 iterations and lbfgs 88 s, for the same held-out
  macro-F1 on the generated corpus. Five folds keep each fold model close to the final one (80 %
  of the data), which matters for the out-of-fold probabilities that find suspect labels.
- Small corpora get more passes (up to `max_epochs`, until `min_updates` example updates), which
  gained 1-2 points of macro-F1 on a few thousand generated sentences for about a second.

Evaluation
----------
Folds are `StratifiedGroupKFold` over articles (shuffled with `settings.seed`): no article has
sentences in both the training and the test part of a fold, because sentences of one article share
topic, author, wording and often the annotator, and a model tested on sentences of articles it was
trained on scores higher than it will on a new article. Every sentence is predicted once, by the
model of the fold that held its article out; macro-F1, per-class F1 and the confusion matrix are
computed over those pooled out-of-fold predictions (macro-F1 as scikit-learn's `f1_score(...,
average="macro")`: the mean F1 over the classes labelled or predicted; a class neither labelled nor
predicted has no F1). Confusion rows are the given labels, columns the predictions.

Intervals are percentile bootstrap intervals that resample articles, not sentences (a cluster
bootstrap, Davison & Hinkley 1997, section 3.8; Field & Welsh 2007): sentences of one article are
not independent, so resampling sentences would treat 30 correlated sentences as 30 independent
pieces of evidence and give intervals that are too narrow; the article is also the unit the folds
held out. Each replicate draws as many articles as there are, with replacement, and recomputes the
statistics from the sum of the drawn articles' confusion matrices (a replicate is one matrix
product, so 1,000 replicates over 10,000 articles take well under a second).

Two baselines, computed fold by fold from the training part only: the majority class (predict the
training part's most frequent class for every sentence), and stratified chance (guess at random in
the training part's class shares, scored by its expected confusion matrix, like scikit-learn's
`DummyClassifier(strategy="stratified")`). Macro-F1 punishes the majority baseline (one class
scores, the others score 0), so a model that guesses at random in the right proportions beats it
without learning anything; a model has learnt something only when it beats both. `gain` is the
model's macro-F1 minus the better baseline's, with its interval from the same article replicates.

Uncertainty and disputes
------------------------
Entropy of a sentence's predicted distribution, divided by log K so that 1 means "uniform over the
classes" whatever K is; an article's uncertainty is the mean over its sentences. The dispute score
of a sentence is 1 - sum_k p_k^2: the chance that two annotators who each labelled as the model's
probabilities say would disagree, i.e. one minus the expected pairwise agreement, the quantity
percent agreement measures on real labels. It peaks when the mass is split between classes.

Labels that look wrong (confident learning)
-------------------------------------------
Northcutt, Jiang & Chuang (2021), "Confident Learning: Estimating Uncertainty in Dataset Labels",
JAIR 70, 1373-1411, section 3.1 and the method C_{y~,y*} (the confident joint's off-diagonal) of
section 3.2, on out-of-fold probabilities p (n x K) and given labels y~:

1. Per-class threshold t_j = mean of p[x, j] over the examples x labelled j: the class's average
   self-confidence. A class nobody labelled has no threshold and is never confident.
2. The confident classes of x are S(x) = {j : p[x, j] >= t_j}; its confident guess is
   y*(x) = argmax over j in S(x) of p[x, j] (Eq. 1, the confident joint counts x in the cell
   (y~(x), y*(x))). Examples with an empty S(x) are counted nowhere.
3. x is flagged when y*(x) exists and differs from y~(x) (x is off the diagonal) and the given
   label is not the class the model finds most probable. The last condition is cleanlab's final
   filter and ours too: without it a label could be flagged although the model's own prediction
   agrees with it (the given class just under its threshold, another class just over its lower
   one), which a curator would rightly find absurd.

Comparisons use a tolerance of 1e-6 (a probability equal to its class's mean must count as
reaching it despite rounding), and thresholds are at least 2e-6 so that the tolerance cannot make
a class confident for every example; both as cleanlab does. Flags are ranked by self-confidence
p[x, y~(x)], lowest first, then by normalised margin (p of the given label minus the largest other
p), then by position. `thresholds=` lets individual annotations be checked against thresholds
estimated from the gold labels.

cleanlab's `find_label_issues(labels, pred_probs, filter_by="confident_learning")` implements the
same rule except in one case, which `tests/test_modelling.py` checks on the same arrays: when two
or more classes are confident, cleanlab takes as the guess the class of highest probability over
all classes, even one that is not confident, where Eq. 1 takes the highest among the confident
classes. So cleanlab also flags an example whose given label is the most probable of its confident
classes while some unconfident class is more probable still; by Eq. 1 that example sits on the
diagonal, and we do not flag it. Our flags are therefore cleanlab's minus exactly those examples.
cleanlab is used by the tests only (see README, "Model assistance"), never at run time.

Anchoring
---------
For each layer: the share of annotations that agree with a visible suggestion, the share that
agree with a hidden one (a prediction computed but not shown: the control), each with Wilson's
score interval (Wilson 1927; method 3 of Newcombe 1998a), and their difference with Newcombe's
hybrid score interval (method 10 of Newcombe 1998b, "square-and-add" of the two Wilson intervals).
Both assume independent annotations; several annotations by one annotator are not, so with few
annotators the intervals are optimistic. The published worked examples are in the tests.

Stored models
-------------
`to_bytes()` writes a compressed `.npz` archive (NumPy arrays and JSON text, no pickle);
`from_bytes()` reads it with `allow_pickle=False` and checks every array's shape, so a corrupt or
foreign blob raises `ValueError` instead of running code. It is still only meant for bytes this
module wrote into our own database: the format is ours, versioned by `MODEL_FORMAT_VERSION`, and
nothing guarantees a model stays meaningful for a label schema that has changed since (the stored
`class_names` let the caller check).
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import warnings
import zipfile
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from annotator.zones import ZONES

# scikit-learn and SciPy's sparse matrices are imported where they are used: the web pages
# import this module (suggestions, uncertainty, Check these) and would otherwise pay about 2 s
# of imports at every process start.
if TYPE_CHECKING:
    import scipy.sparse as sp

MODEL_FORMAT_VERSION = 1

POSITION_BINS = 5
_TOLERANCE = 1e-6  # confident learning: probabilities equal up to rounding count as equal
_BOOTSTRAP_BATCH = 100  # replicates per matrix product; bounds memory at 100 x articles


# --- plain data out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSettings:
    """Everything that decides a trained model, stored with each model version."""

    hash_bits: int = 20  # 2^20 text columns
    ngram_max: int = 2  # word n-grams 1..ngram_max
    alpha: float = 1e-5  # L2 penalty of the SGD classifier
    epochs: int = 5  # passes over the data, raised for small corpora (see min_updates)
    min_updates: int = 50_000  # example updates per fit that small corpora are raised to ...
    max_epochs: int = 50  # ... within this many passes (each pass costs 2^hash_bits too)
    n_folds: int = 5
    bootstrap_replicates: int = 1000
    confidence: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if not 10 <= self.hash_bits <= 24:
            raise ValueError(f"hash_bits must be between 10 and 24, not {self.hash_bits}")
        if self.ngram_max < 1:
            raise ValueError(f"ngram_max must be at least 1, not {self.ngram_max}")
        if self.n_folds < 2:
            raise ValueError(f"n_folds must be at least 2, not {self.n_folds}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, not {self.confidence}")
        if self.epochs < 1 or self.bootstrap_replicates < 1 or self.alpha <= 0:
            raise ValueError("epochs, bootstrap_replicates and alpha must be positive")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Minimums:
    """The least labelled data `train` accepts.

    200 sentences: five test folds of about 40 sentences each, the least for a macro-F1 whose
    interval says anything. 10 articles: each of the five folds holds out at least two. 10
    examples of each of at least two classes: a class seen fewer times cannot be learnt or
    scored, and with fewer than two classes there is nothing to tell apart.
    """

    sentences: int = 200
    articles: int = 10
    per_class: int = 10
    classes: int = 2


@dataclass(frozen=True)
class Readiness:
    """Whether the labelled data meets the minimums, and what is missing, for people."""

    ready: bool
    n_labelled: int
    n_articles: int
    class_counts: tuple[int, ...]  # labelled sentences per class, schema order
    more_sentences: int  # labelled sentences still needed (0 when enough)
    more_articles: int  # articles with a labelled sentence still needed
    more_classes: int  # classes that still need `per_class` examples
    messages: tuple[str, ...]  # one sentence per shortfall, e.g. "Needs 37 more labelled ..."

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "class_counts": list(self.class_counts)}


class NotEnoughData(ValueError):
    """`train` was given less than the minimums; `readiness.messages` says what is missing."""

    def __init__(self, readiness: Readiness) -> None:
        super().__init__(" ".join(readiness.messages))
        self.readiness = readiness


@dataclass(frozen=True)
class ClassScore:
    """One class's out-of-fold F1, with its article-bootstrap interval."""

    name: str
    support: int  # sentences labelled with this class
    predicted: int  # sentences predicted as this class
    precision: float | None
    recall: float | None
    f1: float | None  # None when the class is neither labelled nor predicted
    f1_interval: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "f1_interval": _pair(self.f1_interval)}


@dataclass(frozen=True)
class Evaluation:
    """Article-grouped cross-validation of one layer's model."""

    n_sentences: int
    n_articles: int
    n_folds: int
    accuracy: float
    macro_f1: float
    macro_f1_interval: tuple[float, float]
    per_class: tuple[ClassScore, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: given label, columns: predicted, schema order
    majority_macro_f1: float
    stratified_macro_f1: float
    gain: float  # macro_f1 minus the better baseline's
    gain_interval: tuple[float, float]
    confidence: float
    replicates: int

    @property
    def beats_baselines(self) -> bool:
        """The gain's interval lies wholly above zero."""
        return self.gain_interval[0] > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k not in {"per_class", "confusion"}},
            "macro_f1_interval": _pair(self.macro_f1_interval),
            "gain_interval": _pair(self.gain_interval),
            "per_class": [score.to_dict() for score in self.per_class],
            "confusion": [list(row) for row in self.confusion],
            "beats_baselines": self.beats_baselines,
        }


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted classifier as plain arrays; see the module docstring for what it computes."""

    class_names: tuple[str, ...]
    settings: ModelSettings
    classes: np.ndarray  # (C,) schema indices of the classes seen in training, ascending
    columns: np.ndarray  # (M,) int32 feature columns with a non-zero weight, ascending
    weights: np.ndarray  # (R, M) float32; R = 1 when C == 2 (the weight of classes[1]), else C
    intercepts: np.ndarray  # (R,) float32
    uses_zones: bool
    uses_positions: bool
    n_trained: int

    def predict_proba(
        self,
        texts: Sequence[str],
        *,
        zones: Sequence[str | None] | None = None,
        positions: Sequence[float | None] | None = None,
    ) -> np.ndarray:
        """Probabilities (n, K), columns in schema order. Zones or positions the model was trained
        with but not given here count as unknown (their columns stay zero)."""
        features = _features(
            texts,
            zones if self.uses_zones else None,
            positions if self.uses_positions else None,
            self.settings,
        )
        return self._probabilities(features)

    def predict(
        self,
        texts: Sequence[str],
        *,
        zones: Sequence[str | None] | None = None,
        positions: Sequence[float | None] | None = None,
    ) -> np.ndarray:
        """The most probable class index per sentence (the lowest index on a tie)."""
        return self.predict_proba(texts, zones=zones, positions=positions).argmax(axis=1)

    def _probabilities(self, features: sp.csr_matrix) -> np.ndarray:
        n, k = features.shape[0], len(self.class_names)
        out = np.zeros((n, k))
        if len(self.classes) == 1:
            out[:, self.classes[0]] = 1.0
            return out
        scores = features[:, self.columns] @ self.weights.T.astype(np.float64)
        scores += self.intercepts.astype(np.float64)
        if len(self.classes) == 2:
            positive = _expit(scores[:, 0])
            out[:, self.classes[1]] = positive
            out[:, self.classes[0]] = 1.0 - positive
            return out
        # One-vs-rest: each class's logistic output, normalised to sum to one (as scikit-learn's
        # SGDClassifier.predict_proba); a row whose outputs all underflow to 0 becomes uniform.
        raw = _expit(scores)
        totals = raw.sum(axis=1, keepdims=True)
        uniform = totals[:, 0] == 0
        raw[uniform] = 1.0
        totals[uniform] = len(self.classes)
        out[:, self.classes] = raw / totals
        return out

    def to_bytes(self) -> bytes:
        """The model as an `.npz` archive of arrays and JSON text (no pickle); see module doc."""
        meta = {
            "format": MODEL_FORMAT_VERSION,
            "class_names": list(self.class_names),
            "settings": self.settings.to_dict(),
            "uses_zones": self.uses_zones,
            "uses_positions": self.uses_positions,
            "n_trained": self.n_trained,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
            classes=self.classes.astype(np.int32),
            columns=self.columns.astype(np.int32),
            weights=self.weights.astype(np.float32),
            intercepts=self.intercepts.astype(np.float32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainedModel:
        """Read what `to_bytes` wrote. Only for bytes from our own database (see module doc)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"not a stored model: {error}") from error
        if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT_VERSION:
            raise ValueError(f"not a stored model of format {MODEL_FORMAT_VERSION}")
        missing = {"classes", "columns", "weights", "intercepts"} - set(arrays)
        if missing:
            raise ValueError(f"not a stored model: no {', '.join(sorted(missing))}")
        try:
            model = cls(
                class_names=tuple(str(name) for name in meta["class_names"]),
                settings=ModelSettings(**meta["settings"]),
                classes=arrays["classes"].astype(np.int64),
                columns=arrays["columns"].astype(np.int64),
                weights=arrays["weights"],
                intercepts=arrays["intercepts"],
                uses_zones=bool(meta["uses_zones"]),
                uses_positions=bool(meta["uses_positions"]),
                n_trained=int(meta["n_trained"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a stored model: {error}") from error
        model._check()
        return model

    def _check(self) -> None:
        k, c = len(self.class_names), len(self.classes)
        rows = 1 if c == 2 else c
        width = _n_columns(self.settings)
        if not (
            1 <= c <= k
            and self.classes.ndim == 1
            and np.all(np.diff(self.classes) > 0)
            and self.classes.min() >= 0
            and self.classes.max() < k
            and self.columns.ndim == 1
            and np.all(np.diff(self.columns) > 0)
            and (len(self.columns) == 0 or 0 <= self.columns[0] <= self.columns[-1] < width)
            and self.weights.shape == ((rows, len(self.columns)) if c > 1 else (0, 0))
            and self.intercepts.shape == ((rows,) if c > 1 else (0,))
            and self.weights.dtype == np.float32
            and self.intercepts.dtype == np.float32
        ):
            raise ValueError("not a stored model: its arrays do not fit together")


@dataclass(frozen=True, eq=False)
class TrainingResult:
    model: TrainedModel  # fitted on all the labelled data
    evaluation: Evaluation
    out_of_fold: np.ndarray  # (n, K) probabilities from the fold model that held the article out
    folds: np.ndarray  # (n,) fold index of each sentence
    # With `train(also_predict=...)`: (n + m, K) probabilities from `model` of the training texts
    # followed by the m others, hashed once with the training texts.
    probabilities: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ArticleUncertainty:
    """Per article (in first-appearance order): sentences, mean entropy, mean dispute score."""

    groups: tuple[Hashable, ...]
    n_sentences: np.ndarray
    mean_entropy: np.ndarray
    mean_dispute: np.ndarray

    def ranked(self, by: Literal["entropy", "dispute"] = "entropy") -> list[Hashable]:
        """Article keys, the least certain (or most likely disputed) first; ties keep order."""
        values = {"entropy": self.mean_entropy, "dispute": self.mean_dispute}[by]
        order = np.argsort(-values, kind="stable")
        return [self.groups[i] for i in order]

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "n_sentences": self.n_sentences.tolist(),
            "mean_entropy": self.mean_entropy.tolist(),
            "mean_dispute": self.mean_dispute.tolist(),
        }


@dataclass(frozen=True)
class LabelIssue:
    """A label that looks wrong: the model confidently prefers `suggested` (see module doc)."""

    index: int  # position in the arrays given
    given: int
    suggested: int  # the confident guess y*(x)
    self_confidence: float  # p of the given label
    suggested_probability: float
    margin: float  # p of the given label minus the largest other p (negative)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Proportion:
    successes: int
    trials: int
    value: float | None  # None when there are no trials
    interval: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "interval": _pair(self.interval)}


@dataclass(frozen=True)
class AnchoringEffect:
    """How often annotators agreed with visible suggestions and with hidden ones, for one layer."""

    layer: Hashable
    visible: Proportion
    hidden: Proportion
    difference: float | None  # visible minus hidden agreement
    difference_interval: tuple[float, float] | None
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "visible": self.visible.to_dict(),
            "hidden": self.hidden.to_dict(),
            "difference": self.difference,
            "difference_interval": _pair(self.difference_interval),
            "confidence": self.confidence,
        }


# --- readiness ---------------------------------------------------------------------------------


def check_training_data(
    labels: Sequence[int] | np.ndarray,
    groups: Sequence[Hashable],
    *,
    class_names: Sequence[str],
    kind: str = "labels",
    minimums: Minimums = Minimums(),
) -> Readiness:
    """Whether `train` may start on these labels, and if not what is missing, in words a manager
    can act on. `class_names` are shown in the messages (pass the display names) and `kind` names
    the classes in the plural ("claim types", "stances")."""
    label_array = _labels(labels, len(class_names))
    if len(groups) != len(label_array):
        raise ValueError(f"{len(groups)} article keys for {len(label_array)} labels")
    counts = np.bincount(label_array, minlength=len(class_names))
    n_labelled, n_articles = len(label_array), len(set(groups))
    more_sentences = max(0, minimums.sentences - n_labelled)
    more_articles = max(0, minimums.articles - n_articles)
    enough = int((counts >= minimums.per_class).sum())
    more_classes = max(0, minimums.classes - enough)
    messages = []
    if more_sentences:
        messages.append(
            f"Needs {_count(more_sentences, 'more labelled sentence')} "
            f"(has {n_labelled} of the {minimums.sentences} needed)."
        )
    if more_articles:
        messages.append(
            f"Needs labelled sentences from {_count(more_articles, 'more article')} "
            f"(has {n_articles} of {minimums.articles}): the model is tested on articles it "
            "was not trained on."
        )
    if more_classes:
        present = [
            f"{count} {name}"
            for name, count in zip(class_names, counts.tolist(), strict=True)
            if count
        ]
        has = ", ".join(present) if present else "no labels yet"
        messages.append(
            f"Needs at least {minimums.per_class} examples of at least "
            f"{_number_word(minimums.classes)} {kind} (has {has})."
        )
    return Readiness(
        ready=not messages,
        n_labelled=n_labelled,
        n_articles=n_articles,
        class_counts=tuple(counts.tolist()),
        more_sentences=more_sentences,
        more_articles=more_articles,
        more_classes=more_classes,
        messages=tuple(messages),
    )


# --- training and evaluation -------------------------------------------------------------------


def train(
    texts: Sequence[str],
    labels: Sequence[int],
    groups: Sequence[Hashable],
    *,
    class_names: Sequence[str],
    zones: Sequence[str | None] | None = None,
    positions: Sequence[float | None] | None = None,
    settings: ModelSettings = ModelSettings(),
    minimums: Minimums = Minimums(),
    also_predict: Sequence[str] | None = None,
    also_predict_zones: Sequence[str | None] | None = None,
    also_predict_positions: Sequence[float | None] | None = None,
) -> TrainingResult:
    """Evaluate by article-grouped cross-validation, then fit on everything (see module doc).

    `labels[i]` is the index in `class_names` (schema order) of sentence i's label, `groups[i]`
    its article's key. Raises `NotEnoughData` below `minimums`, `ValueError` on malformed input.
    With `also_predict` (texts without labels, and their zones and positions if the training
    texts have them), `result.probabilities` holds the final model's probabilities of the
    training texts and then of these: the same as `model.predict_proba` on both, without
    hashing the training texts a second time (hashing is the largest cost of both).
    """
    names = _class_names(class_names)
    label_array = _labels(labels, len(names))
    n = len(label_array)
    if len(texts) != n or len(groups) != n:
        raise ValueError(f"{len(texts)} texts, {n} labels and {len(groups)} article keys differ")
    readiness = check_training_data(label_array, groups, class_names=names, minimums=minimums)
    if not readiness.ready:
        raise NotEnoughData(readiness)
    _check_lengths(n, zones, positions)
    if also_predict is None:
        features = everything = _features(texts, zones, positions, settings)
    else:
        m = len(also_predict)
        _check_lengths(m, also_predict_zones, also_predict_positions)

        def joined(given: Sequence | None, extra: Sequence | None) -> list | None:
            if given is None:
                return None
            return [*given, *(extra if extra is not None else [None] * m)]

        everything = _features(
            [*texts, *also_predict],
            joined(zones, also_predict_zones),
            joined(positions, also_predict_positions),
            settings,
        )
        features = everything[:n]
    uses = {"uses_zones": zones is not None, "uses_positions": positions is not None}
    group_ids, _ = _group_ids(groups)

    folds = _assign_folds(label_array, group_ids, settings)
    n_folds = int(folds.max()) + 1
    k = len(names)
    out_of_fold = np.zeros((n, k))
    majority = np.zeros(n, dtype=np.int64)
    stratified = np.zeros((n, k))  # each sentence's guessing distribution
    for fold in range(n_folds):
        test = np.flatnonzero(folds == fold)
        rest = np.flatnonzero(folds != fold)
        model = _fit(features[rest], label_array[rest], names, settings, **uses)
        out_of_fold[test] = model._probabilities(features[test])
        shares = np.bincount(label_array[rest], minlength=k) / len(rest)
        majority[test] = int(shares.argmax())
        stratified[test] = shares

    predicted = out_of_fold.argmax(axis=1)
    evaluation = _evaluate(
        label_array, predicted, majority, stratified, group_ids, names, n_folds, settings
    )
    model = _fit(features, label_array, names, settings, **uses)
    return TrainingResult(
        model=model,
        evaluation=evaluation,
        out_of_fold=out_of_fold,
        folds=folds,
        probabilities=None if also_predict is None else model._probabilities(everything),
    )


def fit(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    class_names: Sequence[str],
    zones: Sequence[str | None] | None = None,
    positions: Sequence[float | None] | None = None,
    settings: ModelSettings = ModelSettings(),
) -> TrainedModel:
    """Fit on all the given sentences without evaluation or minimums (`train` does both)."""
    names = _class_names(class_names)
    label_array = _labels(labels, len(names))
    if len(texts) != len(label_array):
        raise ValueError(f"{len(texts)} texts for {len(label_array)} labels")
    if not len(label_array):
        raise ValueError("no labelled sentences to fit")
    _check_lengths(len(label_array), zones, positions)
    features = _features(texts, zones, positions, settings)
    return _fit(
        features,
        label_array,
        names,
        settings,
        uses_zones=zones is not None,
        uses_positions=positions is not None,
    )


def _fit(
    features: sp.csr_matrix,
    labels: np.ndarray,
    names: tuple[str, ...],
    settings: ModelSettings,
    *,
    uses_zones: bool,
    uses_positions: bool,
) -> TrainedModel:
    classes = np.unique(labels)
    trained = functools.partial(
        TrainedModel,
        class_names=names,
        settings=settings,
        classes=classes,
        uses_zones=uses_zones,
        uses_positions=uses_positions,
        n_trained=len(labels),
    )
    if len(classes) == 1:
        empty = np.zeros(0, dtype=np.int64)
        return trained(
            columns=empty,
            weights=np.zeros((0, 0), np.float32),
            intercepts=np.zeros(0, np.float32),
        )
    epochs = max(
        settings.epochs, min(settings.max_epochs, math.ceil(settings.min_updates / len(labels)))
    )
    from sklearn.linear_model import SGDClassifier

    classifier = SGDClassifier(
        loss="log_loss",
        alpha=settings.alpha,
        max_iter=epochs,
        tol=None,  # a fixed number of passes: the time budget, not a convergence test, decides
        random_state=settings.seed,
        n_jobs=1,
    )
    classifier.fit(features, labels)
    coef = classifier.coef_.astype(np.float32)
    # Hashed columns no training sentence used keep a zero weight: store only the others.
    columns = np.flatnonzero(np.any(coef != 0, axis=0))
    return trained(
        columns=columns,
        weights=np.ascontiguousarray(coef[:, columns]),
        intercepts=classifier.intercept_.astype(np.float32),
    )


def _assign_folds(labels: np.ndarray, group_ids: np.ndarray, settings: ModelSettings) -> np.ndarray:
    n_groups = int(group_ids.max()) + 1
    splits = min(settings.n_folds, n_groups)
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=settings.seed)
    folds = np.full(len(labels), -1, dtype=np.int64)
    with warnings.catch_warnings():
        # "The least populated class has only N members": expected for rare classes, harmless.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for fold, (_, test) in enumerate(splitter.split(np.zeros(len(labels)), labels, group_ids)):
            folds[test] = fold
    return folds


def _evaluate(
    labels: np.ndarray,
    predicted: np.ndarray,
    majority: np.ndarray,
    stratified: np.ndarray,
    group_ids: np.ndarray,
    names: tuple[str, ...],
    n_folds: int,
    settings: ModelSettings,
) -> Evaluation:
    k, n_groups = len(names), int(group_ids.max()) + 1
    # Per-article confusion matrices, flattened: the bootstrap resamples their rows.
    model_cells = _article_confusions(group_ids, labels * k + predicted, n_groups, k)
    majority_cells = _article_confusions(group_ids, labels * k + majority, n_groups, k)
    # Stratified chance: a sentence labelled i is guessed j with probability stratified[:, j].
    chance_cells = np.zeros((n_groups, k * k))
    rows = group_ids[:, None] * (k * k) + labels[:, None] * k + np.arange(k)[None, :]
    np.add.at(chance_cells.reshape(-1), rows.ravel(), stratified.ravel())

    confusion = model_cells.sum(axis=0).reshape(k, k)
    model_f1 = _f1(confusion[None])[0]
    majority_f1 = _macro(_f1(majority_cells.sum(axis=0).reshape(1, k, k)))[0]
    chance_f1 = _macro(_f1(chance_cells.sum(axis=0).reshape(1, k, k)))[0]

    rng = np.random.default_rng(settings.seed)
    replicate_f1 = []
    replicate_gain = []
    remaining = settings.bootstrap_replicates
    uniform = np.full(n_groups, 1.0 / n_groups)
    while remaining:
        size = min(remaining, _BOOTSTRAP_BATCH)
        remaining -= size
        draws = rng.multinomial(n_groups, uniform, size=size).astype(np.float64)
        per_class = _f1((draws @ model_cells).reshape(size, k, k))
        macro = _macro(per_class)
        best = np.maximum(
            _macro(_f1((draws @ majority_cells).reshape(size, k, k))),
            _macro(_f1((draws @ chance_cells).reshape(size, k, k))),
        )
        replicate_f1.append(np.column_stack([macro, per_class]))
        replicate_gain.append(macro - best)
    f1_draws = np.concatenate(replicate_f1)
    gain_draws = np.concatenate(replicate_gain)
    tail = (1 - settings.confidence) / 2 * 100

    def interval(values: np.ndarray) -> tuple[float, float] | None:
        values = values[~np.isnan(values)]
        if not len(values):
            return None
        low, high = np.percentile(values, [tail, 100 - tail])
        return float(low), float(high)

    support, predicted_counts = confusion.sum(axis=1), confusion.sum(axis=0)
    scores = []
    for j, name in enumerate(names):
        tp = int(confusion[j, j])
        scores.append(
            ClassScore(
                name=name,
                support=int(support[j]),
                predicted=int(predicted_counts[j]),
                precision=tp / predicted_counts[j] if predicted_counts[j] else None,
                recall=tp / support[j] if support[j] else None,
                f1=None if np.isnan(model_f1[j]) else float(model_f1[j]),
                f1_interval=interval(f1_draws[:, j + 1]) if not np.isnan(model_f1[j]) else None,
            )
        )
    macro_f1 = float(np.nanmean(model_f1))
    best_baseline = max(majority_f1, chance_f1)
    return Evaluation(
        n_sentences=len(labels),
        n_articles=n_groups,
        n_folds=n_folds,
        accuracy=float(np.trace(confusion) / len(labels)),
        macro_f1=macro_f1,
        macro_f1_interval=interval(f1_draws[:, 0]) or (macro_f1, macro_f1),
        per_class=tuple(scores),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        majority_macro_f1=float(majority_f1),
        stratified_macro_f1=float(chance_f1),
        gain=macro_f1 - float(best_baseline),
        gain_interval=interval(gain_draws) or (0.0, 0.0),
        confidence=settings.confidence,
        replicates=settings.bootstrap_replicates,
    )


def _article_confusions(
    group_ids: np.ndarray, cells: np.ndarray, n_groups: int, k: int
) -> np.ndarray:
    flat = np.bincount(group_ids * (k * k) + cells, minlength=n_groups * k * k)
    return flat.reshape(n_groups, k * k).astype(np.float64)


def _f1(confusions: np.ndarray) -> np.ndarray:
    """Per-class F1 of each (k, k) confusion matrix; NaN where a class is neither labelled nor
    predicted (such a class takes no part in the macro average)."""
    tp = np.diagonal(confusions, axis1=1, axis2=2)
    denominator = confusions.sum(axis=2) + confusions.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * tp / denominator, np.nan)


def _macro(per_class: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row cannot occur; be safe
        return np.nanmean(per_class, axis=1)


# --- features ----------------------------------------------------------------------------------


# scikit-learn's default token pattern for "word" analysers, with one-letter words kept.
_TOKEN = re.compile(r"(?u)\b\w+\b")


def word_ngrams(text: str, ngram_max: int) -> list[str]:
    """The terms HashingVectorizer(ngram_range=(1, ngram_max), token_pattern=_TOKEN) makes of
    `text`: lower-cased tokens, then each run of 2..ngram_max tokens joined by a space.

    The same terms as scikit-learn's own analyser (a test compares them), built with zip and
    map instead of its per-term Python loop: hashing terms is most of prediction's cost, and
    this is about a third of that on news sentences.
    """
    tokens = _TOKEN.findall(text.lower())
    terms = list(tokens)
    for n in range(2, ngram_max + 1):
        terms.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)))
    return terms


def _n_columns(settings: ModelSettings) -> int:
    return 2**settings.hash_bits + len(ZONES) + POSITION_BINS


def _features(
    texts: Sequence[str],
    zones: Sequence[str | None] | None,
    positions: Sequence[float | None] | None,
    settings: ModelSettings,
) -> sp.csr_matrix:
    n = len(texts)
    _check_lengths(n, zones, positions)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"texts[{index}] is {type(text).__name__}, not str")
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        n_features=2**settings.hash_bits,
        analyzer=functools.partial(word_ngrams, ngram_max=settings.ngram_max),
        alternate_sign=False,
        norm="l2",
        dtype=np.float64,
    )
    width = _n_columns(settings)
    if n == 0:  # the hasher cannot transform an empty list
        return sp.csr_matrix((0, width))
    text_part = vectorizer.transform(texts)
    # The text columns come first; zone and position columns follow them.
    text_part = sp.csr_matrix((text_part.data, text_part.indices, text_part.indptr), (n, width))
    rows: list[int] = []
    cols: list[int] = []
    if zones is not None:
        zone_column: dict[str, int] = {
            zone: 2**settings.hash_bits + i for i, zone in enumerate(ZONES)
        }
        for index, zone in enumerate(zones):
            if zone is None:
                continue
            column = zone_column.get(zone)
            if column is None:
                raise ValueError(f"zones[{index}] is {zone!r}, not one of {', '.join(ZONES)}")
            rows.append(index)
            cols.append(column)
    if positions is not None:
        first = 2**settings.hash_bits + len(ZONES)
        for index, position in enumerate(positions):
            if position is None:
                continue
            if not isinstance(position, (int, float)) or not 0.0 <= position <= 1.0:
                raise ValueError(f"positions[{index}] is {position!r}, not a number in [0, 1]")
            rows.append(index)
            cols.append(first + min(int(position * POSITION_BINS), POSITION_BINS - 1))
    if not rows:
        return text_part
    extra = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, width))
    return (text_part + extra).tocsr()


def _check_lengths(
    n: int, zones: Sequence[object] | None, positions: Sequence[object] | None
) -> None:
    if zones is not None and len(zones) != n:
        raise ValueError(f"{len(zones)} zones for {n} sentences")
    if positions is not None and len(positions) != n:
        raise ValueError(f"{len(positions)} positions for {n} sentences")


def _class_names(class_names: Sequence[str]) -> tuple[str, ...]:
    names = tuple(str(name) for name in class_names)
    if len(names) < 2:
        raise ValueError("a layer needs at least two classes")
    if len(set(names)) != len(names):
        raise ValueError(f"class names repeat: {', '.join(names)}")
    return names


def _labels(labels: Sequence[int] | np.ndarray, k: int) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError("labels must be a flat sequence of class indices")
    if len(array) == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        bad = next(i for i, label in enumerate(labels) if not isinstance(label, (int, np.integer)))
        raise ValueError(f"labels[{bad}] is {labels[bad]!r}, not a class index")
    wrong = np.flatnonzero((array < 0) | (array >= k))
    if len(wrong):
        raise ValueError(f"labels[{wrong[0]}] is {array[wrong[0]]}, not a class index 0..{k - 1}")
    return array.astype(np.int64)


def _group_ids(groups: Sequence[Hashable]) -> tuple[np.ndarray, list[Hashable]]:
    """Dense ids in order of first appearance, and the keys they stand for."""
    ids: dict[Hashable, int] = {}
    dense = np.fromiter(
        (ids.setdefault(g, len(ids)) for g in groups), dtype=np.int64, count=len(groups)
    )
    return dense, list(ids)


def _expit(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -500, 500)))


# --- uncertainty -------------------------------------------------------------------------------


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """Entropy of each row divided by log K: 0 certain, 1 uniform over the K classes."""
    p = _probability_rows(probabilities)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(axis=1) / math.log(p.shape[1])


def dispute(probabilities: np.ndarray) -> np.ndarray:
    """1 - sum_k p_k^2: the chance two annotators labelling as `p` says would disagree."""
    p = _probability_rows(probabilities)
    return 1.0 - (p * p).sum(axis=1)


def article_uncertainty(
    probabilities: np.ndarray, groups: Sequence[Hashable]
) -> ArticleUncertainty:
    """Mean entropy and mean dispute score per article, from any model's probabilities."""
    p = _probability_rows(probabilities)
    if len(groups) != len(p):
        raise ValueError(f"{len(groups)} article keys for {len(p)} rows of probabilities")
    ids, keys = _group_ids(groups)
    counts = np.bincount(ids, minlength=len(keys))
    return ArticleUncertainty(
        groups=tuple(keys),
        n_sentences=counts,
        mean_entropy=np.bincount(ids, weights=entropy(p), minlength=len(keys)) / counts,
        mean_dispute=np.bincount(ids, weights=dispute(p), minlength=len(keys)) / counts,
    )


def _probability_rows(probabilities: np.ndarray) -> np.ndarray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probabilities must be (n, K) with K >= 2, not {p.shape}")
    if len(p) and (np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6)):
        raise ValueError("every row of probabilities must be non-negative and sum to 1")
    return p


# --- labels that look wrong --------------------------------------------------------------------


def confident_thresholds(
    labels: Sequence[int] | np.ndarray, probabilities: np.ndarray
) -> np.ndarray:
    """t_j: the mean probability of class j over the examples labelled j; inf when none is."""
    p = _probability_rows(probabilities)
    label_array = _labels(labels, p.shape[1])
    if len(label_array) != len(p):
        raise ValueError(f"{len(label_array)} labels for {len(p)} rows of probabilities")
    k = p.shape[1]
    counts = np.bincount(label_array, minlength=k)
    sums = np.bincount(label_array, weights=p[np.arange(len(p)), label_array], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        thresholds = np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)
    return np.maximum(thresholds, 2 * _TOLERANCE)


def find_label_issues(
    labels: Sequence[int],
    probabilities: np.ndarray,
    *,
    thresholds: np.ndarray | None = None,
) -> tuple[LabelIssue, ...]:
    """Labels that look wrong by confident learning (the exact rule is in the module doc),
    lowest self-confidence first. `probabilities` should be out-of-fold (`TrainingResult.
    out_of_fold`): a model scoring its own training labels is too sure of them."""
    p = _probability_rows(probabilities)
    label_array = _labels(labels, p.shape[1])
    if len(label_array) != len(p):
        raise ValueError(f"{len(label_array)} labels for {len(p)} rows of probabilities")
    if thresholds is None:
        thresholds = confident_thresholds(label_array, p)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.shape != (p.shape[1],):
        raise ValueError(f"thresholds must have one value per class ({p.shape[1]})")
    rows = np.arange(len(p))
    confident = p >= thresholds - _TOLERANCE
    any_confident = confident.any(axis=1)
    guess = np.where(confident, p, -np.inf).argmax(axis=1)  # Eq. 1: argmax over S(x)
    given_p = p[rows, label_array]
    boosted = p.copy()
    boosted[rows, label_array] += _TOLERANCE  # a given label tied with the top counts as top
    model_agrees = boosted.argmax(axis=1) == label_array
    flagged = np.flatnonzero(any_confident & (guess != label_array) & ~model_agrees)

    others = p.copy()
    others[rows, label_array] = -np.inf
    margin = given_p - others.max(axis=1)
    order = np.lexsort((flagged, margin[flagged], given_p[flagged]))
    return tuple(
        LabelIssue(
            index=int(i),
            given=int(label_array[i]),
            suggested=int(guess[i]),
            self_confidence=float(given_p[i]),
            suggested_probability=float(p[i, guess[i]]),
            margin=float(margin[i]),
        )
        for i in flagged[order]
    )


# --- anchoring ---------------------------------------------------------------------------------


def wilson_interval(
    successes: int, trials: int, *, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Wilson's score interval for successes/trials (Newcombe 1998a, method 3); None if no trial."""
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, not {successes}/{trials}")
    if trials == 0:
        return None
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = successes / trials
    centre = 2 * trials * p + z * z
    spread = z * math.sqrt(z * z + 4 * trials * p * (1 - p))
    denominator = 2 * (trials + z * z)
    low = 0.0 if successes == 0 else (centre - spread) / denominator
    high = 1.0 if successes == trials else (centre + spread) / denominator
    return low, high


def newcombe_interval(
    successes_1: int,
    trials_1: int,
    successes_2: int,
    trials_2: int,
    *,
    confidence: float = 0.95,
) -> tuple[float, float] | None:
    """Interval for p1 - p2 from the two Wilson intervals (Newcombe 1998b, method 10)."""
    first = wilson_interval(successes_1, trials_1, confidence=confidence)
    second = wilson_interval(successes_2, trials_2, confidence=confidence)
    if first is None or second is None:
        return None
    p1, p2 = successes_1 / trials_1, successes_2 / trials_2
    (l1, u1), (l2, u2) = first, second
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def anchoring_effect(
    records: Iterable[tuple[Hashable, bool, Hashable, Hashable]],
    *,
    confidence: float = 0.95,
) -> tuple[AnchoringEffect, ...]:
    """Agreement with visible against hidden suggestions, per layer (first-appearance order).

    Each record is (layer, suggestion_visible, suggested_label, given_label); an annotation made
    with no suggestion computed for it has no record. The layer can be any key ("claim_type",
    ("stance", target_id)).
    """
    tallies: dict[Hashable, list[int]] = {}
    for index, record in enumerate(records):
        try:
            layer, visible, suggested, given = record
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"records[{index}] is not (layer, visible, suggested, given): {record!r}"
            ) from error
        if not isinstance(visible, (bool, np.bool_)):
            raise ValueError(f"records[{index}]: visible is {visible!r}, not True or False")
        tally = tallies.setdefault(layer, [0, 0, 0, 0])  # visible agreed/all, hidden agreed/all
        offset = 0 if visible else 2
        tally[offset] += int(suggested == given)
        tally[offset + 1] += 1
    effects = []
    for layer, (seen_agreed, seen, hidden_agreed, hidden) in tallies.items():
        visible_share = _proportion(seen_agreed, seen, confidence)
        hidden_share = _proportion(hidden_agreed, hidden, confidence)
        both = seen and hidden
        effects.append(
            AnchoringEffect(
                layer=layer,
                visible=visible_share,
                hidden=hidden_share,
                difference=(seen_agreed / seen - hidden_agreed / hidden) if both else None,
                difference_interval=newcombe_interval(
                    seen_agreed, seen, hidden_agreed, hidden, confidence=confidence
                ),
                confidence=confidence,
            )
        )
    return tuple(effects)


def _proportion(successes: int, trials: int, confidence: float) -> Proportion:
    return Proportion(
        successes=successes,
        trials=trials,
        value=successes / trials if trials else None,
        interval=wilson_interval(successes, trials, confidence=confidence),
    )


# --- words -------------------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _number_word(n: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if 0 <= n < len(words) else str(n)


def _pair(values: tuple[float, float] | None) -> list[float] | None:
    return None if values is None else [values[0], values[1]]
