"""Model assistance, the Django half: training baseline models from a corpus's labels, storing
what they predict, external predictions, labels that look wrong, hidden control suggestions and
how much visible suggestions sway annotators.

The computation is `annotator.modelling` (no Django); this module turns rows into its plain
inputs and its answers into rows. Every entry point calls the functions here:

- `request_training(corpus=, unit=, requested_by=)`: the statistics page's button, the
  `retrain_every` trigger (`retrain_if_due`, on article finish) and `manage.py train_model` queue
  a ModelVersion; the background task `annotator.tasks.train_model` runs
  `train_model_version`, which stores the fitted model, its evaluation and a Prediction per
  sentence of the corpus (with out-of-fold probabilities for the labelled ones).
- `import_predictions(corpus=, records=, by=, ...)`: the API (single and bulk JSONL), the
  upload page and `manage.py import_predictions`: all or nothing, every bad line reported.
- Who may: `may_train` (managers) and `may_import_predictions` (managers and curators), which
  `request_training` and `import_predictions` check for the person they are given (None is
  the command line or the system).
- `label_issues(corpus, layer, target)`: gold labels and individual annotations that the
  current model's out-of-fold probabilities say look wrong (confident learning).
- `suggestion_is_hidden(sentence_id, corpus)`: whether a sentence's suggestion is a hidden
  control, deterministic per corpus and sentence.
- `anchoring_statistics(corpus)`: agreement with visible against hidden suggestions per layer.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from annotator import modelling
from annotator.curating import Unit
from annotator.models import (
    BASELINE_MODEL_NAME,
    Annotation,
    Article,
    ArticleStats,
    Corpus,
    GoldLabel,
    LabelChoice,
    LabelSource,
    Layer,
    ModelKind,
    ModelStatus,
    ModelVersion,
    Prediction,
    Role,
    Sentence,
    StanceTarget,
)
from annotator.uncertainty import refresh_article_uncertainty

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

logger = logging.getLogger(__name__)

# An import of predictions for more sentences than this refreshes the uncertainty of the whole
# corpus instead of the articles of the sentences named.
_NAMED_SENTENCES = 5_000
# A queued or running version older than this is taken for lost (its worker died): asking again
# queues a new one instead of waiting for it.
STALE_TRAINING = timedelta(hours=2)
# Rows written per COPY / bulk_create batch when storing predictions.
PREDICTION_BATCH = 5000
# Probabilities are stored rounded: four decimals are more than any page shows.
PROBABILITY_DECIMALS = 4


def units_of(corpus: Corpus) -> list[Unit]:
    """Every layer a model is trained for: claim type, then stance for each target in order."""
    return [Unit(layer=Layer.CLAIM_TYPE, target=None)] + [
        Unit(layer=Layer.STANCE, target=target) for target in corpus.stance_targets.all()
    ]


def choices_of(corpus: Corpus, layer: str) -> list[LabelChoice]:
    """The layer's choices in schema order: the model's classes, in this order."""
    return list(corpus.choices.filter(layer=layer).order_by("order", "id"))


def _kind_words(unit: Unit) -> str:
    return "claim types" if unit.layer == Layer.CLAIM_TYPE else "stances"


# --- training data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingLabels:
    """One label per sentence that has one: confirmed gold, else its annotators' strict majority.

    `labels` map sentence ids to choice ids; `from_gold` holds the ids whose label is gold.
    A sentence whose annotators tie has no label (nothing to learn from it yet).
    """

    labels: dict[int, int]
    from_gold: frozenset[int]

    @property
    def source(self) -> str:
        if self.labels and len(self.from_gold) == len(self.labels):
            return LabelSource.GOLD
        return LabelSource.MAJORITY


def training_labels(unit: Unit, choices: list[LabelChoice]) -> TrainingLabels:
    """Two queries, scoped to the corpus by its own choice ids (as the statistics reader)."""
    choice_ids = [c.pk for c in choices]
    gold = (
        GoldLabel.objects.filter(
            layer=unit.layer, target=unit.target, choice_id__in=choice_ids, confirmed=True
        )
        .order_by()
        .values_list("sentence_id", "choice_id")
    )
    votes = (
        Annotation.objects.filter(layer=unit.layer, target=unit.target, choice_id__in=choice_ids)
        .order_by()
        .values_list("sentence_id", "choice_id")
    )
    return _settle(dict(gold), votes)


def _settle(gold: dict[int, int], votes: Iterable[tuple[int, int]]) -> TrainingLabels:
    """Gold where there is gold, else the strict majority of the votes (sentence, choice)."""
    counted: defaultdict[int, Counter[int]] = defaultdict(Counter)
    for sentence_id, choice_id in votes:
        if sentence_id not in gold:
            counted[sentence_id][choice_id] += 1
    labels = dict(gold)
    for sentence_id, tally in counted.items():
        (choice_id, top), *_ = tally.most_common(1)
        if 2 * top > sum(tally.values()):
            labels[sentence_id] = choice_id
    return TrainingLabels(labels=labels, from_gold=frozenset(gold))


def readiness_by_unit(
    corpus: Corpus, units: list[Unit], choices: Mapping[str, list[LabelChoice]]
) -> dict[tuple[str, int | None], modelling.Readiness]:
    """Every unit's readiness in two queries (gold, then annotations, of every layer)."""
    choice_ids = [c.pk for layer in choices.values() for c in layer]
    columns = ("layer", "target_id", "sentence_id", "sentence__article_id", "choice_id")
    gold: defaultdict[tuple, dict[int, int]] = defaultdict(dict)
    article_of: dict[int, int] = {}
    for layer, target_id, sentence_id, article_id, choice_id in (
        GoldLabel.objects.filter(choice_id__in=choice_ids, confirmed=True)
        .order_by()
        .values_list(*columns)
    ):
        gold[(layer, target_id)][sentence_id] = choice_id
        article_of[sentence_id] = article_id
    votes: defaultdict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for layer, target_id, sentence_id, article_id, choice_id in (
        Annotation.objects.filter(choice_id__in=choice_ids).order_by().values_list(*columns)
    ):
        votes[(layer, target_id)].append((sentence_id, choice_id))
        article_of[sentence_id] = article_id
    answer = {}
    for unit in units:
        key = (unit.layer, unit.target.pk if unit.target is not None else None)
        labels = _settle(gold[key], votes[key])
        index = {c.pk: i for i, c in enumerate(choices[unit.layer])}
        answer[key] = modelling.check_training_data(
            [index[c] for c in labels.labels.values()],
            [article_of[s] for s in labels.labels],
            class_names=[c.name for c in choices[unit.layer]],
            kind=_kind_words(unit),
        )
    return answer


@dataclass(frozen=True)
class CorpusSentences:
    """Every sentence of a corpus as plain columns, in id order."""

    ids: np.ndarray
    article_ids: np.ndarray
    texts: list[str]
    positions: list[float]  # relative position in the article: 0 first .. 1 last
    zones: list[str]  # where on the page (annotator/zones.py): body, boilerplate, comments

    @classmethod
    def read(cls, corpus: Corpus) -> CorpusSentences:
        rows = list(
            Sentence.objects.filter(article__corpus=corpus)
            .order_by("id")
            .values_list("id", "article_id", "ordinal", "text", "zone")
        )
        last: dict[int, int] = {}
        for _, article_id, ordinal, _, _ in rows:
            if ordinal > last.get(article_id, -1):
                last[article_id] = ordinal
        return cls(
            ids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            article_ids=np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
            texts=[r[3] for r in rows],
            positions=[r[2] / last[r[1]] if last[r[1]] else 0.0 for r in rows],
            zones=[r[4] for r in rows],
        )


def readiness(corpus: Corpus, unit: Unit, choices: list[LabelChoice] | None = None):
    """Whether the unit has enough labels to train on, and if not what is missing, in words."""
    choices = choices if choices is not None else choices_of(corpus, unit.layer)
    labels = training_labels(unit, choices)
    index = {c.pk: i for i, c in enumerate(choices)}
    article_of = dict(
        Sentence.objects.filter(pk__in=list(labels.labels))
        .order_by()
        .values_list("id", "article_id")
    )
    return modelling.check_training_data(
        [index[c] for c in labels.labels.values()],
        [article_of[s] for s in labels.labels],
        class_names=[c.name for c in choices],
        kind=_kind_words(unit),
    )


# --- asking for a model --------------------------------------------------------------------------


class AssistanceRefused(PermissionError):
    """The person may not do this with the corpus's models; the message says who may."""


# Who may: managers train; managers and curators import and read predictions (curators see
# everyone's labels already). Pages and the API scope by these sets too, so that others get 404.
TRAIN_ROLES = Role.MANAGERS
PREDICTION_ROLES = Role.REVIEWERS


def may_train(user: User | AnonymousUser, corpus: Corpus) -> bool:
    return corpus.role_of(user) in TRAIN_ROLES


def may_import_predictions(user: User | AnonymousUser, corpus: Corpus) -> bool:
    return corpus.role_of(user) in PREDICTION_ROLES


def _labels_in_corpus(corpus: Corpus) -> int:
    """The corpus's label count as of the articles table's figures (counted on article finish),
    which is what `retrain_every` counts new labels against: one indexed sum, no label scan."""
    return ArticleStats.objects.filter(corpus=corpus).aggregate(n=Sum("labels"))["n"] or 0


def request_training(
    *, corpus: Corpus, unit: Unit, requested_by: User | None = None
) -> ModelVersion:
    """Queue a new trained version of the unit's model (or return the one already on its way).

    `requested_by` must manage the corpus (AssistanceRefused otherwise); None is the command
    line or the `retrain_every` trigger."""
    from annotator.tasks import train_model  # tasks imports this module

    if requested_by is not None and not may_train(requested_by, corpus):
        raise AssistanceRefused(f"Only managers of corpus {corpus.slug!r} may train models.")

    with transaction.atomic():
        # Lock the corpus row: two requests for the same corpus take numbers one after another.
        Corpus.objects.select_for_update().filter(pk=corpus.pk).first()
        versions = ModelVersion.objects.trained().for_layer(corpus, unit.layer, unit.target)
        pending = (
            versions.filter(
                status__in=(ModelStatus.QUEUED, ModelStatus.RUNNING),
                created_at__gte=timezone.now() - STALE_TRAINING,
            )
            .order_by("-number")
            .first()
        )
        if pending is not None:
            return pending
        number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            corpus=corpus,
            layer=unit.layer,
            target=unit.target,
            kind=ModelKind.TRAINED,
            name=BASELINE_MODEL_NAME,
            version=str(number),
            number=number,
            labels_seen=_labels_in_corpus(corpus),
            requested_by=requested_by,
        )
        train_model.enqueue(version.pk)
    version.refresh_from_db()
    return version


def request_training_all(*, corpus: Corpus, requested_by: User | None = None) -> list[ModelVersion]:
    """A new version of every layer's model (claim type, stance per target)."""
    return [
        request_training(corpus=corpus, unit=unit, requested_by=requested_by)
        for unit in units_of(corpus)
    ]


def retrain_if_due(corpus: Corpus) -> list[ModelVersion]:
    """After an article is finished: queue new versions once `retrain_every` labels were added
    since the newest trained version was asked for. No query when the corpus never retrains."""
    if not corpus.retrain_every:
        return []
    seen = ModelVersion.objects.trained().filter(corpus=corpus).aggregate(n=Max("labels_seen"))["n"]
    labels = _labels_in_corpus(corpus)
    if labels - (seen or 0) < corpus.retrain_every:
        return []
    return request_training_all(corpus=corpus)


# --- training (the background task's body) ---------------------------------------------------


def fail_lost_training(version_id: int, *, reason: str) -> bool:
    """The worker training `version_id` is gone: the version ends failed with `reason`, so the
    page says so and the next request queues a fresh version (without waiting for
    STALE_TRAINING). False when it had finished meanwhile."""
    return bool(
        ModelVersion.objects.filter(
            pk=version_id, status__in=(ModelStatus.QUEUED, ModelStatus.RUNNING)
        ).update(
            status=ModelStatus.FAILED,
            error=f"The background worker training this model stopped: {reason}. "
            "Ask for training again.",
            finished_at=timezone.now(),
        )
    )


def train_model_version(version_id: int, *, settings: modelling.ModelSettings | None = None) -> str:
    """Train a queued ModelVersion and store its model, scores and predictions; the status it
    ended in. Too little data ends it failed, with the readiness in `scores["readiness"]`."""
    claimed = ModelVersion.objects.filter(pk=version_id, status=ModelStatus.QUEUED).update(
        status=ModelStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    version = ModelVersion.objects.select_related("corpus", "target").get(pk=version_id)
    try:
        status = _train(version, settings or modelling.ModelSettings())
    except Exception as exc:
        logger.exception("Training model version %s failed", version_id)
        ModelVersion.objects.filter(pk=version_id).update(
            status=ModelStatus.FAILED, error=f"Training stopped: {exc}", finished_at=timezone.now()
        )
        raise
    return status


def _train(version: ModelVersion, settings: modelling.ModelSettings) -> str:
    corpus = version.corpus
    unit = Unit(layer=version.layer, target=version.target)
    choices = choices_of(corpus, unit.layer)
    index = {c.pk: i for i, c in enumerate(choices)}
    labels = training_labels(unit, choices)
    sentences = CorpusSentences.read(corpus)
    row_of = {int(s): i for i, s in enumerate(sentences.ids)}
    labelled = sorted(s for s in labels.labels if s in row_of)
    rows = np.array([row_of[s] for s in labelled], dtype=np.int64)
    y = [index[labels.labels[s]] for s in labelled]
    groups = sentences.article_ids[rows].tolist() if len(rows) else []
    counts = Counter(choices[i].value for i in y)
    data = {
        "sentences": len(labelled),
        "articles": len(set(groups)),
        "corpus_sentences": len(sentences.ids),
        "class_counts": {c.value: counts.get(c.value, 0) for c in choices},
        "label_source": {
            "gold": sum(1 for s in labelled if s in labels.from_gold),
            "majority": sum(1 for s in labelled if s not in labels.from_gold),
        },
        "sentence_ids_sha256": hashlib.sha256(
            ",".join(f"{s}:{labels.labels[s]}" for s in labelled).encode()
        ).hexdigest(),
        "schema_version": corpus.schema_version,
    }
    common = {
        "data": data,
        "label_source": labels.source,
        "parameters": settings.to_dict(),
    }
    # The unlabelled sentences are hashed with the labelled ones and predicted by the final
    # model in the same call: a second pass over the labelled texts would cost as much again.
    unlabelled = np.setdiff1d(np.arange(len(sentences.ids)), rows, assume_unique=True)
    try:
        result = modelling.train(
            [sentences.texts[r] for r in rows],
            y,
            groups,
            class_names=[c.value for c in choices],
            positions=[sentences.positions[r] for r in rows],
            zones=[sentences.zones[r] for r in rows],
            settings=settings,
            also_predict=[sentences.texts[r] for r in unlabelled],
            also_predict_positions=[sentences.positions[r] for r in unlabelled],
            also_predict_zones=[sentences.zones[r] for r in unlabelled],
        )
    except modelling.NotEnoughData as missing:
        readiness = modelling.check_training_data(
            y, groups, class_names=[c.name for c in choices], kind=_kind_words(unit)
        )
        ModelVersion.objects.filter(pk=version.pk).update(
            **common,
            status=ModelStatus.FAILED,
            scores={"readiness": readiness.to_dict()},
            error=str(missing),
            finished_at=timezone.now(),
        )
        return ModelStatus.FAILED
    # Back into the corpus's sentence order: labelled rows first in the result, then the rest.
    probabilities = np.empty_like(result.probabilities)
    probabilities[np.concatenate([rows, unlabelled])] = result.probabilities
    held_out = dict(zip(rows.tolist(), result.out_of_fold, strict=True))
    with transaction.atomic():
        _store_trained_predictions(version, choices, sentences, probabilities, held_out)
        # Older trained versions keep their row (scores, what annotations saw) but not their
        # predictions: one full set per layer is enough, and each set is a row per sentence.
        Prediction.objects.filter(
            model_version__in=ModelVersion.objects.trained()
            .for_layer(corpus, unit.layer, unit.target)
            .exclude(pk=version.pk)
            .filter(number__lt=version.number)
        )._raw_delete(connection.alias)
        ModelVersion.objects.filter(pk=version.pk).update(
            **common,
            status=ModelStatus.DONE,
            scores=result.evaluation.to_dict(),
            model_bytes=result.model.to_bytes(),
            finished_at=timezone.now(),
        )
    # Uncertainty-first assignment reads the new predictions' uncertainty per article.
    refresh_article_uncertainty(corpus=corpus)
    return ModelStatus.DONE


def _distributions(values: list[str], probabilities: np.ndarray) -> list[str]:
    """Each row as the JSON object {value: probability}, rounded: formatted from one template
    rather than json.dumps per row (a fifth of the storing time at 200,000 sentences). The
    values are slugs, so they need no escaping."""
    template = "{{" + ",".join(f'"{value}":{{}}' for value in values) + "}}"
    rounded = np.round(probabilities, PROBABILITY_DECIMALS).tolist()
    return [template.format(*row) for row in rounded]


def _store_trained_predictions(
    version: ModelVersion,
    choices: list[LabelChoice],
    sentences: CorpusSentences,
    probabilities: np.ndarray,
    held_out: Mapping[int, np.ndarray],
) -> None:
    values = [c.value for c in choices]
    choice_ids = [c.pk for c in choices]
    if not len(probabilities):
        return
    best = probabilities.argmax(axis=1)
    scores = np.round(probabilities[np.arange(len(best)), best], 6).tolist()
    distributions = _distributions(values, probabilities)
    held_rows = sorted(held_out)
    held_json = dict(
        zip(
            held_rows,
            _distributions(values, np.array([held_out[i] for i in held_rows])) if held_rows else [],
            strict=True,
        )
    )
    rows = (
        (sentence_id, choice_ids[k], score, distribution, held_json.get(i))
        for i, (sentence_id, k, score, distribution) in enumerate(
            zip(sentences.ids.tolist(), best.tolist(), scores, distributions, strict=True)
        )
    )
    write_predictions(version, rows, created_at=timezone.now())


def write_predictions(
    version: ModelVersion, rows: Iterable[tuple], *, created_at: Any = None
) -> int:
    """Insert (sentence id, choice id, score, probabilities | None, held out | None) rows for a
    version, fast: COPY on PostgreSQL, bulk_create elsewhere. The distributions are dicts or
    JSON text. The caller checked every value."""
    created_at = created_at or timezone.now()
    written = 0
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= PREDICTION_BATCH:
            written += _write_batch(version, batch, created_at)
            batch = []
    if batch:
        written += _write_batch(version, batch, created_at)
    return written


def _write_batch(version: ModelVersion, batch: list[tuple], created_at: Any) -> int:
    target = version.target_id
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        stamp = created_at.isoformat()
        target_text = "\\N" if target is None else str(target)
        for sentence_id, choice_id, score, probabilities, held_out in batch:
            buffer.write(
                f"{sentence_id}\t{version.pk}\t{version.layer}\t{target_text}\t{choice_id}\t"
                f"{score!r}\t{_copy_json(probabilities)}\t{_copy_json(held_out)}\t{stamp}\n"
            )
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {Prediction._meta.db_table} (sentence_id, model_version_id, layer, "
                "target_id, choice_id, score, probabilities, held_out_probabilities, created_at) "
                "FROM STDIN",
                buffer,
            )
        return len(batch)
    Prediction.objects.bulk_create(
        Prediction(
            sentence_id=sentence_id,
            model_version_id=version.pk,
            layer=version.layer,
            target_id=target,
            choice_id=choice_id,
            score=score,
            probabilities=json.loads(probabilities)
            if isinstance(probabilities, str)
            else probabilities,
            held_out_probabilities=json.loads(held_out) if isinstance(held_out, str) else held_out,
            created_at=created_at,
        )
        for sentence_id, choice_id, score, probabilities, held_out in batch
    )
    return len(batch)


def _copy_json(value: object) -> str:
    """A JSON value (or JSON text already) as a field of COPY's text format (backslashes, tabs
    and newlines escaped)."""
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# --- the models on the statistics page -----------------------------------------------------


@dataclass
class LayerModel:
    """What the statistics page shows about one layer's model (the page adds `chart`, the
    drawn confusion matrix, and `per_class`, the class scores with the choice names)."""

    unit: Unit
    current: ModelVersion | None  # newest finished trained version
    latest: ModelVersion | None  # newest trained version, whatever its status
    readiness: modelling.Readiness
    choices: list[LabelChoice] = field(default_factory=list)
    chart: str = ""
    per_class: list[dict[str, Any]] = field(default_factory=list)

    @property
    def confusion_rows(self) -> list[dict[str, Any]]:
        """The current version's confusion matrix with the choice names, rows given labels."""
        if self.current is None or "confusion" not in self.current.scores:
            return []
        names = [c.name for c in self.choices]
        return [
            {"given": name, "counts": row}
            for name, row in zip(names, self.current.scores["confusion"], strict=False)
        ]

    @property
    def in_progress(self) -> bool:
        return self.latest is not None and self.latest.status in (
            ModelStatus.QUEUED,
            ModelStatus.RUNNING,
        )


def layer_models(corpus: Corpus) -> list[LayerModel]:
    """Each unit's current and latest trained version and whether it has data enough to train:
    six queries however many layers (versions, choices, targets, readiness's two)."""
    versions = list(
        ModelVersion.objects.trained()
        .filter(corpus=corpus)
        .defer("model_bytes")
        .order_by("-number")
    )
    choices: defaultdict[str, list[LabelChoice]] = defaultdict(list)
    for choice in corpus.choices.order_by("order", "id"):
        choices[choice.layer].append(choice)
    units = units_of(corpus)
    ready = readiness_by_unit(corpus, units, choices)
    answer = []
    for unit in units:
        key = (unit.layer, unit.target.pk if unit.target is not None else None)
        mine = [v for v in versions if (v.layer, v.target_id) == key]
        answer.append(
            LayerModel(
                unit=unit,
                current=next((v for v in mine if v.status == ModelStatus.DONE), None),
                latest=mine[0] if mine else None,
                readiness=ready[key],
                choices=choices[unit.layer],
            )
        )
    return answer


# --- labels that look wrong ----------------------------------------------------------------------


@dataclass(frozen=True)
class SuspectLabel:
    """A label the current model confidently disagrees with (modelling.find_label_issues)."""

    sentence_id: int
    source: str  # "gold" or "annotation"
    annotator_id: int | None  # whose annotation; None for gold
    given: str  # choice value
    suggested: str  # the model's confident guess
    self_confidence: float  # held-out probability of the given label
    suggested_probability: float
    margin: float
    model_version_id: int


def label_issues(corpus: Corpus, layer: str, target: StanceTarget | None) -> list[SuspectLabel]:
    """Gold labels and individual annotations that look wrong, least plausible first.

    Checked against the current trained version's out-of-fold probabilities (each sentence
    predicted by the fold model that never saw its article), with per-class thresholds from the
    labels the model was trained on (gold, else majority), as confident learning prescribes.
    Empty when there is no trained version yet.
    """
    unit = Unit(layer=layer, target=target)
    version = ModelVersion.objects.current(corpus, layer, target)
    if version is None:
        return []
    choices = choices_of(corpus, layer)
    values = [c.value for c in choices]
    index_of_choice = {c.pk: i for i, c in enumerate(choices)}
    held_out = {
        sentence_id: [distribution.get(v, 0.0) for v in values]
        for sentence_id, distribution in Prediction.objects.filter(
            model_version=version, held_out_probabilities__isnull=False
        )
        .order_by()
        .values_list("sentence_id", "held_out_probabilities")
        if distribution is not None
    }
    if not held_out:
        return []
    # Stored rounded: scale each row back to a sum of exactly 1.
    for sentence_id, row in held_out.items():
        total = sum(row)
        held_out[sentence_id] = [p / total for p in row] if total > 0 else row
    reference = training_labels(unit, choices)
    known = [s for s in reference.labels if s in held_out]
    if not known:
        return []
    thresholds = modelling.confident_thresholds(
        [index_of_choice[reference.labels[s]] for s in known],
        np.array([held_out[s] for s in known]),
    )

    def check(rows: Sequence[tuple[int, int | None, int]], source: str) -> list[SuspectLabel]:
        rows = [r for r in rows if r[0] in held_out]
        if not rows:
            return []
        issues = modelling.find_label_issues(
            [index_of_choice[c] for _, _, c in rows],
            np.array([held_out[s] for s, _, _ in rows]),
            thresholds=thresholds,
        )
        return [
            SuspectLabel(
                sentence_id=rows[issue.index][0],
                source=source,
                annotator_id=rows[issue.index][1],
                given=values[issue.given],
                suggested=values[issue.suggested],
                self_confidence=issue.self_confidence,
                suggested_probability=issue.suggested_probability,
                margin=issue.margin,
                model_version_id=version.pk,
            )
            for issue in issues
        ]

    choice_ids = [c.pk for c in choices]
    gold = [
        (s, None, c)
        for s, c in GoldLabel.objects.filter(
            layer=layer, target=target, choice_id__in=choice_ids, confirmed=True
        )
        .order_by()
        .values_list("sentence_id", "choice_id")
    ]
    annotations = list(
        Annotation.objects.filter(layer=layer, target=target, choice_id__in=choice_ids)
        .order_by()
        .values_list("sentence_id", "annotator_id", "choice_id")
    )
    found = check(gold, "gold") + check(annotations, "annotation")
    return sorted(found, key=lambda i: (i.self_confidence, i.margin, i.sentence_id))


# --- hidden control suggestions and anchoring ----------------------------------------------------


def suggestion_is_hidden(sentence_id: int, corpus: Corpus) -> bool:
    """Whether this sentence's suggestions are computed but hidden, as the control group.

    A hash of (corpus, sentence) read as a number in [0, 1) below the corpus's
    `suggestion_control_share`: the same sentence is always in the same group (for every
    annotator and layer, across requests and processes), about that share of sentences is, and
    which ones cannot be guessed from ids or order.
    """
    share = corpus.suggestion_control_share
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.blake2b(f"{corpus.pk}:{sentence_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


def anchoring_statistics(
    corpus: Corpus, *, confidence: float = 0.95, units: list[Unit] | None = None
) -> list[dict[str, Any]]:
    """Per layer, how often annotators chose what a visible suggestion said, against how often
    they chose what a hidden one would have said (modelling.anchoring_effect), with intervals.
    One query given the `units`; layers without a recorded suggestion are left out."""
    units = units if units is not None else units_of(corpus)
    targets = {u.target.pk: u.target for u in units if u.target is not None}
    rows = (
        Annotation.objects.filter(
            choice__corpus=corpus, suggestion_visible__isnull=False, suggested_choice__isnull=False
        )
        .order_by()
        .values_list("layer", "target_id", "suggestion_visible", "suggested_choice_id", "choice_id")
    )
    effects = modelling.anchoring_effect(
        ((layer, target_id), bool(visible), suggested, given)
        for layer, target_id, visible, suggested, given in rows
    )
    order = {
        (u.layer, u.target.pk if u.target else None): i for i, u in enumerate(units_of(corpus))
    }
    answer = []
    for effect in sorted(
        effects, key=lambda e: order.get(cast("tuple[str, int | None]", e.layer), len(order))
    ):
        # The layer key given to anchoring_effect above.
        layer, target_id = cast("tuple[str, int | None]", effect.layer)
        label = (
            Layer(layer).label
            if target_id is None
            else f"Stance: {targets[target_id].name}"
            if target_id in targets
            else "Stance"
        )
        answer.append({**effect.to_dict(), "layer": layer, "target_id": target_id, "label": label})
    return answer


# --- external predictions ------------------------------------------------------------------------


MAX_MODEL_NAME = 100


@dataclass(frozen=True)
class PredictionProblem:
    """Why one record was refused: where it was (line, for files) and which field."""

    line: int
    field: str
    reason: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.source else f"line {self.line}"
        return f"{where}: {self.field}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
        }


class PredictionsRejected(ValueError):
    """Some records were bad: nothing was imported; `problems` says where and why."""

    def __init__(self, problems: list[PredictionProblem]) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} bad record(s), nothing imported: {shown}{more}")
        self.problems = problems


@dataclass(frozen=True)
class PredictionRecord:
    """One external prediction as read from a request or a file, before it is checked."""

    data: Mapping[str, Any]
    line: int
    source: str = ""


@dataclass
class ImportedPredictions:
    created: int = 0
    updated: int = 0
    model_versions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "model_versions": self.model_versions,
        }


def read_jsonl(
    lines: Iterable[bytes | str], *, source: str = "", max_lines: int | None
) -> Iterator[PredictionRecord]:
    """Records of a JSONL file: one JSON object a line; a line that is not one is a record whose
    data is None, which `import_predictions` reports with its line number.

    A file of more than `max_lines` lines (uploads: `uploads.MAX_UPLOAD_LINES`; None for no
    limit) is refused whole when that line is reached, with PredictionsRejected.
    """
    for number, raw in enumerate(lines, start=1):
        if max_lines is not None and number > max_lines:
            raise PredictionsRejected(
                [
                    PredictionProblem(
                        line=number,
                        field="file",
                        reason=f"more than {max_lines:,} lines; split the file, or import it "
                        "with manage.py import_predictions",
                        source=source,
                    )
                ]
            )
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            yield PredictionRecord(
                data={"__error__": f"not JSON: {error.msg}"}, line=number, source=source
            )
            continue
        except RecursionError:  # as the other JSONL readers: deep nesting is bad input
            yield PredictionRecord(
                data={"__error__": "not JSON: nested too deeply"}, line=number, source=source
            )
            continue
        if not isinstance(data, dict):
            data = {"__error__": "not a JSON object"}
        yield PredictionRecord(data=data, line=number, source=source)


@dataclass(frozen=True)
class _Checked:
    sentence_id: int
    layer: str
    target_id: int | None
    choice_id: int
    score: float
    probabilities: dict[str, float] | None
    model: tuple[str, str]


def import_predictions(
    *,
    corpus: Corpus,
    records: Iterable[PredictionRecord],
    by: User | None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportedPredictions:
    """Store external predictions, all or nothing; the one function the API (single and bulk),
    the JSONL upload and `manage.py import_predictions` call.

    A record names its sentence by `sentence` (id) or by `article` (external id) and
    `sentence_index` (ordinal, from 0), and gives `layer`, `target` (a stance target's slug;
    omitted or null for claim type), `label` (a choice value of the layer), `score` (0 to 1),
    `model` and `model_version`, and optionally `probabilities` ({label: p}). Records of the same
    model name and version go to one external ModelVersion per layer and target; a record for a
    sentence that already has that version's prediction replaces it. Raises PredictionsRejected
    with every bad record's line, field and reason, having written nothing.

    `by` must manage or curate the corpus (AssistanceRefused otherwise); None is the command
    line.
    """
    if by is not None and not may_import_predictions(by, corpus):
        raise AssistanceRefused(
            f"Only managers and curators of corpus {corpus.slug!r} may import predictions."
        )
    records = list(records)
    choices = {(c.layer, c.value): c.pk for c in corpus.choices.all()}
    values_of_layer: defaultdict[str, set[str]] = defaultdict(set)
    for layer, value in choices:
        values_of_layer[layer].add(value)
    targets = dict(corpus.stance_targets.values_list("slug", "pk"))
    sentence_ids = {
        int(r.data["sentence"])
        for r in records
        if isinstance(r.data.get("sentence"), int) and not isinstance(r.data.get("sentence"), bool)
    }
    known_ids = set(
        Sentence.objects.filter(article__corpus=corpus, pk__in=sentence_ids).values_list(
            "pk", flat=True
        )
    )
    by_position: dict[tuple[str, int], int] = {}
    external_ids = {str(r.data["article"]) for r in records if r.data.get("article") is not None}
    if external_ids:
        by_position = {
            (external_id, ordinal): pk
            for pk, external_id, ordinal in Sentence.objects.filter(
                article__corpus=corpus, article__external_id__in=external_ids
            ).values_list("pk", "article__external_id", "ordinal")
        }
        articles = set(
            Article.objects.filter(corpus=corpus, external_id__in=external_ids).values_list(
                "external_id", flat=True
            )
        )
    else:
        articles = set()

    problems: list[PredictionProblem] = []
    checked: list[_Checked] = []
    for record in records:
        result = _check(record, choices, values_of_layer, targets, known_ids, by_position, articles)
        if isinstance(result, PredictionProblem):
            problems.append(result)
        else:
            checked.append(result)
    if problems:
        raise PredictionsRejected(problems)
    seen: dict[tuple[tuple[str, str], str, int | None, int], int] = {}
    for position, item in enumerate(checked):
        key = (item.model, item.layer, item.target_id, item.sentence_id)
        if key in seen:
            record = records[position]
            problems.append(
                PredictionProblem(
                    record.line,
                    "sentence",
                    f"a second prediction of the same sentence by {item.model[0]} "
                    f"{item.model[1]} (first at line {records[seen[key]].line})",
                    record.source,
                )
            )
        seen[key] = position
    if problems:
        raise PredictionsRejected(problems)

    summary = ImportedPredictions()
    with transaction.atomic():
        grouped: defaultdict[tuple, list[_Checked]] = defaultdict(list)
        for item in checked:
            grouped[(item.model, item.layer, item.target_id)].append(item)
        done = 0
        for ((name, version_name), layer, target_id), items in grouped.items():
            version = _external_version(corpus, name, version_name, layer, target_id)
            existing = Prediction.objects.filter(
                model_version=version, sentence_id__in=[i.sentence_id for i in items]
            )
            replaced = existing._raw_delete(connection.alias)
            write_predictions(
                version,
                ((i.sentence_id, i.choice_id, i.score, i.probabilities, None) for i in items),
            )
            summary.created += len(items) - replaced
            summary.updated += replaced
            summary.model_versions.append(
                {
                    "id": version.pk,
                    "name": name,
                    "version": version_name,
                    "layer": layer,
                    "target": target_id,
                    "predictions": len(items),
                }
            )
            done += len(items)
            if on_progress:
                on_progress(done)
        # In the same transaction: the predictions are stored with the ordering they change,
        # or not at all. Beyond a few thousand sentences the whole corpus is recomputed at
        # once rather than named sentence by sentence (SQLite caps a query's parameters).
        touched = {item.sentence_id for item in checked}
        refresh_article_uncertainty(
            corpus=corpus, sentence_ids=touched if len(touched) <= _NAMED_SENTENCES else None
        )
    return summary


def _external_version(
    corpus: Corpus, name: str, version_name: str, layer: str, target_id: int | None
) -> ModelVersion:
    found = ModelVersion.objects.filter(
        corpus=corpus, layer=layer, target_id=target_id, name=name, version=version_name
    ).first()
    if found is not None:
        return found
    return ModelVersion.objects.create(
        corpus=corpus,
        layer=layer,
        target_id=target_id,
        kind=ModelKind.EXTERNAL,
        name=name,
        version=version_name,
        status=ModelStatus.DONE,
        finished_at=timezone.now(),
    )


def _check(
    record: PredictionRecord,
    choices: Mapping[tuple[str, str], int],
    values_of_layer: Mapping[str, set[str]],
    targets: Mapping[str, int],
    known_ids: set[int],
    by_position: Mapping[tuple[str, int], int],
    articles: set[str],
) -> _Checked | PredictionProblem:
    data = record.data

    def problem(name: str, reason: str) -> PredictionProblem:
        return PredictionProblem(record.line, name, reason, record.source)

    if "__error__" in data:
        return problem("line", data["__error__"])
    unknown = set(data) - {
        "sentence",
        "article",
        "sentence_index",
        "layer",
        "target",
        "label",
        "score",
        "probabilities",
        "model",
        "model_version",
    }
    if unknown:
        return problem(sorted(unknown)[0], "unknown field")
    # The sentence.
    sentence = data.get("sentence")
    if sentence is not None:
        if not isinstance(sentence, int) or isinstance(sentence, bool):
            return problem("sentence", f"must be a sentence id (a whole number), not {sentence!r}")
        if sentence not in known_ids:
            return problem("sentence", f"no sentence {sentence} in this corpus")
        sentence_id = sentence
    else:
        article, index = data.get("article"), data.get("sentence_index")
        if article is None or index is None:
            return problem("sentence", "give `sentence` (id) or `article` and `sentence_index`")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            return problem("sentence_index", f"must be a whole number from 0, not {index!r}")
        if str(article) not in articles:
            return problem("article", f"no article {str(article)!r} in this corpus")
        found = by_position.get((str(article), index))
        if found is None:
            return problem("sentence_index", f"article {str(article)!r} has no sentence {index}")
        sentence_id = found
    # Layer and target.
    layer = data.get("layer")
    if layer not in Layer.values:
        return problem("layer", f"must be one of {', '.join(Layer.values)}, not {layer!r}")
    target = data.get("target")
    target_id = None
    if layer == Layer.STANCE:
        if target is None:
            return problem("target", "stance needs a target (its slug)")
        if not isinstance(target, str) or target not in targets:
            return problem("target", f"no stance target with slug {target!r} in this corpus")
        target_id = targets[target]
    elif target not in (None, ""):
        return problem("target", "claim type takes no target")
    # Label, score, probabilities.
    label = data.get("label")
    if not isinstance(label, str) or (layer, label) not in choices:
        allowed = ", ".join(sorted(values_of_layer[layer]))
        return problem("label", f"must be one of {allowed}, not {label!r}")
    score = data.get("score")
    if (
        not isinstance(score, (int, float))
        or isinstance(score, bool)
        or not 0 <= score <= 1
        or score != score
    ):
        return problem("score", f"must be a number from 0 to 1, not {score!r}")
    probabilities = data.get("probabilities")
    if probabilities is not None:
        if not isinstance(probabilities, dict):
            return problem("probabilities", "must be an object {label: probability}")
        for key, value in probabilities.items():
            if key not in values_of_layer[layer]:
                return problem("probabilities", f"{key!r} is not a label of {layer}")
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not 0 <= value <= 1
            ):
                return problem("probabilities", f"{key}: must be a number from 0 to 1")
        probabilities = {k: float(v) for k, v in probabilities.items()}
    # The model.
    name, version = data.get("model"), data.get("model_version")
    for key, value in (("model", name), ("model_version", version)):
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
            return problem(key, "must be a non-empty string")
        if len(str(value)) > MAX_MODEL_NAME:
            return problem(key, f"can be at most {MAX_MODEL_NAME} characters")
    if str(name).strip() == BASELINE_MODEL_NAME:
        return problem("model", f"“{BASELINE_MODEL_NAME}” is the name of the models trained here")
    return _Checked(
        sentence_id=sentence_id,
        layer=layer,
        target_id=target_id,
        choice_id=choices[(layer, label)],
        score=float(score),
        probabilities=probabilities,
        model=(str(name).strip(), str(version).strip()),
    )


def predictions_queryset(corpus: Corpus) -> Any:
    """A corpus's predictions with what the API and exports show, newest version first."""
    return (
        Prediction.objects.filter(model_version__corpus=corpus)
        .select_related("model_version", "target", "choice", "sentence__article")
        .order_by("-model_version_id", "sentence_id")
    )


def model_name_filter(model: str) -> Q:
    """`name` or `name:version`."""
    name, _, version = model.partition(":")
    condition = Q(model_version__name=name)
    if version:
        condition &= Q(model_version__version=version)
    return condition
