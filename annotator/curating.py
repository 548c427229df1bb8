"""Curation: turning annotators' labels into gold labels, and the queue of sentences to settle.

Writes (settle, accept unanimous, majority pre-fill, confirm) are keyword-only functions, each in
one transaction. Gold labels live apart from annotations and are never rewritten by annotating;
`GoldLabel.objects.with_staleness()` shows which ones changed underneath a decision.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from annotator.article_stats import refresh_corpus_in_background, refresh_figures
from annotator.models import (
    Annotation,
    Corpus,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    Sentence,
    SentenceNote,
    StanceTarget,
)

DEFAULT_MAJORITY_THRESHOLD = 2 / 3


class CurationError(ValueError):
    """A curation request that does not fit the corpus's schema; the message says why."""


@dataclass(frozen=True)
class Unit:
    """What a gold label is for: one layer of a corpus, and for stance one target."""

    layer: str
    target: StanceTarget | None

    def __post_init__(self) -> None:
        if self.layer not in Layer.values:
            raise CurationError(
                f"layer must be one of {', '.join(Layer.values)}, not {self.layer!r}"
            )
        if (self.layer == Layer.STANCE) != (self.target is not None):
            raise CurationError("stance needs a target; claim type takes none")

    @property
    def label(self) -> str:
        if self.target is None:
            return Layer(self.layer).label
        return f"Stance: {self.target.name}"


def resolve_unit(corpus: Corpus, *, layer: str, target_id: str | int | None) -> Unit:
    """The layer and target named by request or command input, checked against the corpus."""
    if layer not in Layer.values:
        raise CurationError(f"layer must be one of {', '.join(Layer.values)}, not {layer!r}")
    if layer == Layer.CLAIM_TYPE:
        return Unit(layer=layer, target=None)
    targets = corpus.stance_targets.all()
    if target_id in (None, ""):
        target = targets.first()
        if target is None:
            raise CurationError(f"corpus {corpus.slug!r} has no stance target")
        return Unit(layer=layer, target=target)
    try:
        target = targets.get(pk=int(target_id))
    except (ValueError, StanceTarget.DoesNotExist):
        raise CurationError(f"corpus {corpus.slug!r} has no stance target {target_id!r}") from None
    return Unit(layer=layer, target=target)


def _annotations(corpus: Corpus, unit: Unit) -> QuerySet[Annotation]:
    return Annotation.objects.filter(
        sentence__article__corpus=corpus, layer=unit.layer, target=unit.target
    )


def disputed_sentences(
    corpus: Corpus,
    unit: Unit,
    *,
    article_id: int | None = None,
    annotator_id: int | None = None,
    status: str = "open",
) -> QuerySet[Sentence]:
    """Sentences whose annotators chose different labels, plus those with unconfirmed or stale
    gold.

    status: "open" (no confirmed gold, or gold whose annotations changed since), "settled", "all".
    """
    disputed = (
        _annotations(corpus, unit)
        .values("sentence_id")
        .annotate(kinds=Count("choice_id", distinct=True))
        .filter(kinds__gt=1)
        .values("sentence_id")
    )
    gold = GoldLabel.objects.for_layer(unit.layer, unit.target).filter(sentence=OuterRef("pk"))
    # Gold whose annotations changed since is back for review even if they now agree.
    # Excluded page furniture is never curated (Sentence.objects.counted).
    sentences = (
        Sentence.objects.counted()
        .filter(article__corpus=corpus)
        .filter(
            Q(pk__in=disputed)
            | Exists(gold.filter(confirmed=False))
            # mypy misses annotations made by a QuerySet method (django-stubs#2917).
            | Exists(gold.with_staleness().filter(stale=True))  # type: ignore[misc]
        )
    )
    if article_id is not None:
        sentences = sentences.filter(article_id=article_id)
    if annotator_id is not None:
        theirs = _annotations(corpus, unit).filter(annotator_id=annotator_id)
        sentences = sentences.filter(pk__in=theirs.values("sentence_id"))
    # mypy misses annotations made by a QuerySet method (django-stubs#2917).
    settled = gold.filter(confirmed=True).with_staleness().filter(stale=False)  # type: ignore[misc]
    if status == "open":
        sentences = sentences.exclude(Exists(settled))
    elif status == "settled":
        sentences = sentences.filter(Exists(settled))
    elif status != "all":
        raise CurationError(f"status must be open, settled or all, not {status!r}")
    return sentences.select_related("article").order_by("article_id", "ordinal")


def _check_choice(corpus: Corpus, unit: Unit, choice: LabelChoice) -> None:
    if choice.corpus_id != corpus.pk or choice.layer != unit.layer:
        raise CurationError(
            f"choice {choice.value!r} is not a {Layer(unit.layer).label.lower()} choice of "
            f"corpus {corpus.slug!r}"
        )


def _write_gold(
    *,
    sentence: Sentence,
    unit: Unit,
    choice: LabelChoice,
    method: str,
    confirmed: bool,
    curator: User,
    note: str,
    replace: bool,
) -> GoldLabel | None:
    """Create the gold label, or update it when `replace`; None when it exists and may not be
    replaced. Row lock plus a savepoint keep two curators from writing two gold labels."""
    fields = {
        "choice": choice,
        "method": method,
        "confirmed": confirmed,
        "decided_by": curator,
        "decided_at": timezone.now(),
        "note": note,
    }
    lookup = {"sentence": sentence, "layer": unit.layer, "target": unit.target}
    existing = GoldLabel.objects.select_for_update().filter(**lookup).first()
    if existing is None:
        try:
            with transaction.atomic():
                return GoldLabel.objects.create(**lookup, **fields)
        except IntegrityError:
            # Someone else created it between our read and our insert: now it exists, lock it.
            existing = GoldLabel.objects.select_for_update().get(**lookup)
    if not replace:
        return None
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.save(update_fields=[*fields])
    return existing


def settle(
    *,
    sentence: Sentence,
    unit: Unit,
    choice: LabelChoice,
    curator: User,
    note: str = "",
) -> GoldLabel:
    """A curator's decision: adjudicated, confirmed gold, replacing whatever was there.
    Refused on a sentence excluded as page furniture: it is not curated (nor counted)."""
    corpus = sentence.article.corpus
    if sentence.excluded:
        raise CurationError("this sentence is excluded as not article text; it is not curated")
    _check_choice(corpus, unit, choice)
    with transaction.atomic():
        gold = _write_gold(
            sentence=sentence,
            unit=unit,
            choice=choice,
            method=GoldMethod.ADJUDICATED,
            confirmed=True,
            curator=curator,
            note=note.strip()[:1000],
            replace=True,
        )
    assert gold is not None
    refresh_figures(article_ids=[sentence.article_id])
    return gold


def confirm(*, gold: GoldLabel, curator: User) -> GoldLabel:
    """Accept a majority pre-fill as it stands; the method stays "majority"."""
    with transaction.atomic():
        locked = (
            GoldLabel.objects.select_for_update(of=("self",))
            .select_related("sentence")
            .get(pk=gold.pk)
        )
        locked.confirmed = True
        locked.decided_by = curator
        locked.decided_at = timezone.now()
        locked.save(update_fields=["confirmed", "decided_by", "decided_at"])
    refresh_figures(article_ids=[locked.sentence.article_id])
    return locked


def _votes(corpus: Corpus, unit: Unit, *, article_id: int | None) -> dict[int, Counter[int]]:
    """Per sentence without gold: how many annotators chose each choice."""
    rows = _annotations(corpus, unit).exclude(
        Exists(
            GoldLabel.objects.for_layer(unit.layer, unit.target).filter(
                sentence=OuterRef("sentence")
            )
        )
    )
    rows = rows.filter(sentence__in=Sentence.objects.counted())
    if article_id is not None:
        rows = rows.filter(sentence__article_id=article_id)
    votes: dict[int, Counter[int]] = defaultdict(Counter)
    for sentence_id, choice_id, n in (
        rows.values("sentence_id", "choice_id")
        .annotate(n=Count("id"))
        .values_list("sentence_id", "choice_id", "n")
        .iterator(chunk_size=10_000)
    ):
        votes[sentence_id][choice_id] = n
    return votes


def _bulk_gold(
    *,
    unit: Unit,
    picks: dict[int, int],
    method: str,
    confirmed: bool,
    curator: User,
) -> int:
    now = timezone.now()
    with transaction.atomic():
        before = GoldLabel.objects.for_layer(unit.layer, unit.target).count()
        # ignore_conflicts: a gold label written meanwhile (by a curator) always wins.
        GoldLabel.objects.bulk_create(
            (
                GoldLabel(
                    sentence_id=sentence_id,
                    layer=unit.layer,
                    target=unit.target,
                    choice_id=choice_id,
                    method=method,
                    confirmed=confirmed,
                    decided_by=curator,
                    decided_at=now,
                )
                for sentence_id, choice_id in picks.items()
            ),
            batch_size=5_000,
            ignore_conflicts=True,
        )
        return GoldLabel.objects.for_layer(unit.layer, unit.target).count() - before


def accept_unanimous(
    *,
    corpus: Corpus,
    unit: Unit,
    curator: User,
    min_annotators: int = 2,
    article_id: int | None = None,
) -> int:
    """Confirmed gold for every sentence without gold whose annotators (at least
    `min_annotators`) all chose the same label. Returns how many gold labels were created."""
    if min_annotators < 2:
        raise CurationError("unanimity needs at least 2 annotators")
    picks = {
        sentence_id: next(iter(counts))
        for sentence_id, counts in _votes(corpus, unit, article_id=article_id).items()
        if len(counts) == 1 and counts.total() >= min_annotators
    }
    created = _bulk_gold(
        unit=unit, picks=picks, method=GoldMethod.UNANIMOUS, confirmed=True, curator=curator
    )
    # Confirmed gold changes the articles table's gold coverage. (A majority pre-fill is not
    # confirmed, so it changes no figure there.) One article is counted at once; a whole
    # corpus's worth is left to the background worker.
    if created and article_id is not None:
        refresh_figures(article_ids=[article_id])
    elif created:
        refresh_corpus_in_background.enqueue(corpus.pk, stale_only=True)
    return created


def prefill_majority(
    *,
    corpus: Corpus,
    unit: Unit,
    curator: User,
    threshold: float = DEFAULT_MAJORITY_THRESHOLD,
    min_annotators: int = 2,
    article_id: int | None = None,
) -> int:
    """Unconfirmed gold for disputed sentences without gold where one label has at least
    `threshold` of the votes; a curator confirms each. Returns how many were created."""
    if not 0.5 < threshold <= 1:
        raise CurationError(f"threshold must be above 0.5 and at most 1, not {threshold}")
    if min_annotators < 2:
        raise CurationError("a majority needs at least 2 annotators")
    picks = {}
    for sentence_id, counts in _votes(corpus, unit, article_id=article_id).items():
        total = counts.total()
        if len(counts) < 2 or total < min_annotators:
            continue
        choice_id, top = counts.most_common(1)[0]
        if top / total >= threshold:
            picks[sentence_id] = choice_id
    return _bulk_gold(
        unit=unit, picks=picks, method=GoldMethod.MAJORITY, confirmed=False, curator=curator
    )


@dataclass(frozen=True)
class Rating:
    annotator: str
    choice: LabelChoice
    note: str
    unsure: bool


@dataclass(frozen=True)
class ModelView:
    """What a model says about the sentence, shown beside the annotators' labels: its label and
    probability, which model, and for a label that looks wrong, why it was flagged."""

    model: str  # "claims-net 7"
    choice_name: str
    probability: float
    held_out: bool = False  # from the model that never saw the article (confident learning)
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CurationItem:
    """What a curator sees for one sentence: its neighbours, every label and note, the gold,
    and what the models say when the corpus shows curators suggestions or the sentence is in
    "Check these" (views/curation.py adds `model_views`)."""

    sentence: Sentence
    before: str
    after: str
    ratings: list[Rating]
    gold: GoldLabel | None
    model_views: tuple[ModelView, ...] = ()

    @property
    def labels_differ(self) -> bool:
        return len({rating.choice.pk for rating in self.ratings}) > 1


def curation_items(sentences: list[Sentence], unit: Unit) -> list[CurationItem]:
    """Items for a page of sentences in four queries, however many sentences and annotators:
    annotations, notes, gold (with staleness), and the neighbouring sentences."""
    ids = [sentence.pk for sentence in sentences]
    if not ids:
        return []
    annotations = (
        Annotation.objects.filter(sentence_id__in=ids, layer=unit.layer, target=unit.target)
        .select_related("annotator", "choice")
        .order_by("annotator__username")
    )
    notes = {
        (note.sentence_id, note.annotator_id): note
        for note in SentenceNote.objects.filter(sentence_id__in=ids)
    }
    ratings: defaultdict[int, list[Rating]] = defaultdict(list)
    for annotation in annotations:
        note = notes.get((annotation.sentence_id, annotation.annotator_id))
        ratings[annotation.sentence_id].append(
            Rating(
                annotator=annotation.annotator.get_username(),
                choice=annotation.choice,
                note=note.note if note else "",
                unsure=note.unsure if note else False,
            )
        )
    gold = {
        label.sentence_id: label
        for label in GoldLabel.objects.for_layer(unit.layer, unit.target)
        .filter(sentence_id__in=ids)
        .with_staleness()
        .select_related("choice", "decided_by")
    }
    neighbours = Q()
    for sentence in sentences:
        neighbours |= Q(
            article_id=sentence.article_id,
            ordinal__in=[sentence.ordinal - 1, sentence.ordinal + 1],
        )
    text_at = {
        (article_id, ordinal): text
        for article_id, ordinal, text in Sentence.objects.filter(neighbours).values_list(
            "article_id", "ordinal", "text"
        )
    }
    return [
        CurationItem(
            sentence=sentence,
            before=text_at.get((sentence.article_id, sentence.ordinal - 1), ""),
            after=text_at.get((sentence.article_id, sentence.ordinal + 1), ""),
            ratings=ratings[sentence.pk],
            gold=gold.get(sentence.pk),
        )
        for sentence in sentences
    ]
