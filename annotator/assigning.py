"""Who annotates which article: next article, expiry, skipping, finishing, a manager's
assignment of chosen articles, and bulk distribution and taking back over any number of them.

The invariants (never more annotators on an article than the corpus asks for, never the same
article twice for one annotator) hold under concurrent requests: an assigner locks the article
row (`FOR UPDATE SKIP LOCKED` when picking, plain `FOR UPDATE` in id order for a manager),
counts the article's assignments in a fresh statement while holding that lock, and the
`assignment_unique_annotator` constraint backs up the second rule. `refusal` states the rule
for a manager's assigners; `next_assignment` states the same in SQL (`needing_annotators`, and
never an article the annotator had before).

Every function here that changes assignments recounts the articles' assignment figures
(`article_stats.count_assignments`) in the same transaction, so the articles table's status
is never behind.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.expressions import OrderBy
from django.utils import timezone

from annotator.article_stats import batched, count_assignments, refresh_figures
from annotator.models import (
    Annotation,
    Article,
    Assignment,
    AssignmentOrder,
    AssignmentStatus,
    Corpus,
    Membership,
    Sentence,
    max_length_of,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

HOLDING_PLACE = AssignmentStatus.HOLDING_PLACE  # the name the callers import
EXPIRED_REASON = "Returned to the pool: left unfinished for {minutes} minutes."
TAKEN_BACK_REASON = "Taken back by {manager}."
# A bulk assignment commits every this many articles, so annotators asking for work wait on
# its locks for one batch at most.
BULK_BATCH_SIZE = 1_000
PREVIEW_BATCH_SIZE = 5_000
MAX_SKIP_REASON_LENGTH = max_length_of(Assignment, "skip_reason")


class AssignmentError(ValueError):
    """An assignment request that cannot be met, with a reason a person can read."""


@dataclass
class AssignResult:
    assigned: list[Article] = field(default_factory=list)
    refused: list[tuple[Article, str]] = field(default_factory=list)


def refusal(*, own: str | None, taken: int, per_article: int) -> str | None:
    """Why a manager may not give an annotator an article, or None when they may: the rule
    every manager's assigner follows.

    `own` is the status of the annotator's assignment on the article, if any (a skipped one may
    be handed back); `taken` is how many places the article's assignments hold, counted while
    the article row is locked.
    """
    if own in HOLDING_PLACE:
        return f"already {AssignmentStatus(own).label.lower()}"
    if taken >= per_article:
        return f"already has {per_article} annotator{'s' if per_article != 1 else ''}"
    return None


logger = logging.getLogger(__name__)


def release_expired(*, corpus: Corpus, now: datetime | None = None) -> int:
    """Give back articles whose annotator has not touched them for ASSIGNMENT_TIMEOUT_MINUTES.

    Idle means: assigned before the cutoff and no label changed since. The assignment is marked
    skipped (the annotator's partial labels stay theirs), which frees its place.
    """
    now = now or timezone.now()
    minutes = settings.ASSIGNMENT_TIMEOUT_MINUTES
    cutoff = now - timedelta(minutes=minutes)
    recent_work = Annotation.objects.filter(
        annotator=OuterRef("annotator"),
        sentence__article=OuterRef("article"),
        updated_at__gte=cutoff,
    )
    idle = Assignment.objects.filter(
        article__corpus=corpus, status=AssignmentStatus.ASSIGNED, assigned_at__lt=cutoff
    ).exclude(Exists(recent_work))
    with transaction.atomic():
        found = list(idle.values_list("pk", "article_id"))
        if not found:
            return 0
        # The update checks idleness again: a label saved since the read keeps its article.
        released = idle.filter(pk__in=[pk for pk, _ in found]).update(
            status=AssignmentStatus.SKIPPED,
            finished_at=now,
            skip_reason=EXPIRED_REASON.format(minutes=minutes),
        )
        count_assignments(article_ids=sorted({article_id for _, article_id in found}))
    return released


def _places_taken(article_id: int) -> int:
    return Assignment.objects.filter(article_id=article_id, status__in=HOLDING_PLACE).count()


def _lock_membership(*, corpus: Corpus, user: User) -> Membership:
    membership = Membership.objects.select_for_update().filter(corpus=corpus, user=user).first()
    if membership is None:
        raise AssignmentError(f"{user} is not a member of {corpus}.")
    return membership


def _pick_order(corpus: Corpus) -> tuple[str | OrderBy, ...]:
    """The order "Next article" picks in: articles others have started first (they reach their
    full number of annotators sooner), then, with uncertainty-first assignment, the articles the
    newest models are least sure about (`ArticleUncertainty`, stored when predictions are;
    articles without predictions after those with), then import order."""
    if corpus.assignment_order == AssignmentOrder.UNCERTAINTY:
        return (
            "-places_taken",
            F("uncertainty__mean_entropy").desc(nulls_last=True),
            "pk",
        )
    return ("-places_taken", "pk")


def next_assignment(
    *, corpus: Corpus, annotator: User, now: datetime | None = None
) -> Assignment | None:
    """The annotator's unfinished article, else a new one that still needs annotators.

    Prefers articles others have started, so articles reach their full number of annotators
    (and agreement figures) sooner; then, when the corpus asks for uncertainty-first
    assignment, the articles the model is least sure about (see `_pick_order`). None when
    nothing is left for this annotator.
    """
    with transaction.atomic():
        # One annotator's double click must not open two articles: their requests queue here.
        _lock_membership(corpus=corpus, user=annotator)
        release_expired(corpus=corpus, now=now)
        unfinished = (
            Assignment.objects.filter(
                annotator=annotator, article__corpus=corpus, status=AssignmentStatus.ASSIGNED
            )
            .select_related("article")
            .order_by("assigned_at", "id")
            .first()
        )
        if unfinished is not None:
            return unfinished
        passed_over: list[int] = []
        while True:
            article_id = (
                Article.objects.filter(corpus=corpus)
                .needing_annotators(corpus.annotators_per_article)
                .exclude(
                    Exists(Assignment.objects.filter(article=OuterRef("pk"), annotator=annotator))
                )
                .exclude(pk__in=passed_over)
                .order_by(*_pick_order(corpus))
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)
                .first()
            )
            if article_id is None:
                return None
            # The pick above counted with a snapshot from before we held the lock; count again.
            if _places_taken(article_id) < corpus.annotators_per_article:
                assignment = Assignment.objects.create(
                    article_id=article_id, annotator=annotator, assigned_at=now or timezone.now()
                )
                count_assignments(article_ids=[article_id])
                return assignment
            passed_over.append(article_id)


def assign_articles(
    *,
    corpus: Corpus,
    articles: list[Article],
    annotator: User,
    assigned_by: User,
) -> AssignResult:
    """A manager's explicit assignment; each refused article comes back with its reason."""
    result = AssignResult()
    with transaction.atomic():
        _lock_membership(corpus=corpus, user=annotator)
        for article in sorted(articles, key=lambda a: a.pk):  # one lock order, no deadlocks
            if article.corpus_id != corpus.pk:
                result.refused.append((article, "belongs to another corpus"))
                continue
            Article.objects.select_for_update().filter(pk=article.pk).first()
            existing = Assignment.objects.filter(article=article, annotator=annotator).first()
            reason = refusal(
                own=existing.status if existing else None,
                taken=_places_taken(article.pk),
                per_article=corpus.annotators_per_article,
            )
            if reason:
                result.refused.append((article, reason))
                continue
            if existing is None:
                Assignment.objects.create(
                    article=article, annotator=annotator, assigned_by=assigned_by
                )
            else:  # skipped or expired before: the manager hands it back
                existing.status = AssignmentStatus.ASSIGNED
                existing.assigned_by = assigned_by
                existing.assigned_at = timezone.now()
                existing.finished_at = None
                existing.skip_reason = ""
                existing.save()
            result.assigned.append(article)
        count_assignments(article_ids=sorted(a.pk for a in result.assigned))
    return result


def skip_assignment(*, assignment: Assignment, reason: str) -> None:
    """The annotator gives the article back, saying why; its place returns to the pool."""
    reason = reason.strip()
    if not reason:
        raise AssignmentError("Say why you skip this article.")
    if len(reason) > MAX_SKIP_REASON_LENGTH:
        raise AssignmentError(f"The reason can be at most {MAX_SKIP_REASON_LENGTH} characters.")
    if assignment.status != AssignmentStatus.ASSIGNED:
        raise AssignmentError("Only an article in progress can be skipped.")
    assignment.status = AssignmentStatus.SKIPPED
    assignment.skip_reason = reason
    assignment.finished_at = timezone.now()
    with transaction.atomic():
        assignment.save(update_fields=["status", "skip_reason", "finished_at"])
        count_assignments(article_ids=[assignment.article_id])


def missing_sentences(*, article: Article, annotator: User) -> list[Sentence]:
    """Sentences that keep the article from being done, in reading order."""
    corpus = article.corpus
    return list(
        article.sentences.counted()
        .incomplete_for(
            annotator,
            stance_targets=corpus.stance_targets.count() if corpus.stance_required else 0,
        )
        .order_by("ordinal")
    )


def finish_assignment(*, assignment: Assignment) -> list[Sentence]:
    """Mark the article done; when sentences still lack labels, return them and change nothing."""
    if assignment.status not in HOLDING_PLACE:
        raise AssignmentError("This article is no longer assigned to you.")
    missing = missing_sentences(article=assignment.article, annotator=assignment.annotator)
    if missing:
        return missing
    if assignment.status != AssignmentStatus.DONE:
        assignment.status = AssignmentStatus.DONE
        assignment.finished_at = timezone.now()
        assignment.skip_reason = ""
        with transaction.atomic():
            assignment.save(update_fields=["status", "finished_at", "skip_reason"])
            # A finished article is when its labels settle: count them for the articles table.
            refresh_figures(article_ids=[assignment.article_id])
        _retrain_if_due(assignment.article.corpus)
    return []


def _retrain_if_due(corpus: Corpus) -> None:
    """Queue new baseline models once the corpus's `retrain_every` new labels have come in.

    Checked here, when an article is finished and its labels have just been counted, rather
    than on every label save; no query at all for a corpus that never retrains. A failure to
    queue is logged and does not undo the finished article.
    """
    if not corpus.retrain_every:
        return
    from annotator.assisting import retrain_if_due  # loads scikit-learn: only when needed

    try:
        retrain_if_due(corpus)
    except Exception:
        logger.exception("Could not queue retraining for corpus %s", corpus.pk)


def reopen_if_incomplete(*, assignment: Assignment) -> bool:
    """Undo can take a label off a finished article; then it is in progress again."""
    if assignment.status != AssignmentStatus.DONE:
        return False
    if not missing_sentences(article=assignment.article, annotator=assignment.annotator):
        return False
    assignment.status = AssignmentStatus.ASSIGNED
    assignment.finished_at = None
    with transaction.atomic():
        assignment.save(update_fields=["status", "finished_at"])
        refresh_figures(article_ids=[assignment.article_id])
    return True


# ---------------------------------------------------------------------------------------------
# Bulk: any number of articles, chosen by filter, given to or taken back from chosen annotators.

Mode = Literal["each", "balanced", "unassign"]
MODES: dict[str, str] = {
    "each": "Give every article to each chosen annotator",
    "balanced": "Share the articles out evenly among the chosen annotators",
    "unassign": "Take the articles back from the chosen annotators",
}
NOT_IN_CORPUS = "not an article of this corpus"
NO_LONGER_MEMBER = "no longer a member of the corpus"
OVER_LIMIT = "reached the limit of {limit} new article(s)"
EVERY_ONE_HAD_IT = "every chosen annotator has or had it"
EVERY_ONE_AT_LIMIT = "the chosen annotators who may take it reached the limit"
DONE_KEPT = "done: finished work is kept"
NOT_IN_PROGRESS = "not in progress for them"


@dataclass
class Distribution:
    """What a bulk assignment did, or would do (a preview): counts, however many articles.

    `refused` counts (annotator id, reason) pairs; the annotator is None when the reason is the
    article's as a whole (balanced sharing, or an article of another corpus).
    """

    mode: str
    applied: bool
    per_article: int
    articles: int = 0
    given: Counter[int] = field(default_factory=Counter)
    handed_back: Counter[int] = field(default_factory=Counter)
    taken_back: Counter[int] = field(default_factory=Counter)
    refused: Counter[tuple[int | None, str]] = field(default_factory=Counter)
    # Articles that still have a free place once the assignment is done (assigning modes).
    still_open: int = 0

    @property
    def total_given(self) -> int:
        return self.given.total()

    @property
    def total_taken_back(self) -> int:
        return self.taken_back.total()

    @property
    def changed(self) -> int:
        return self.total_given + self.total_taken_back


class Planner:
    """Decides article by article who gets it (or loses it), from the article's assignments.

    No database here: a preview and the real thing decide alike. Balanced sharing gives each
    article to the annotators with the fewest new articles so far, ties in turn.
    """

    def __init__(
        self, *, mode: str, annotators: Sequence[int], per_article: int, limit: int | None
    ) -> None:
        self.mode = mode
        self.annotators = list(annotators)
        self.per_article = per_article
        self.limit = limit
        self.turn = 0
        self.result = Distribution(mode=mode, applied=False, per_article=per_article)

    def drop(self, annotators: Iterable[int], *, articles: int) -> None:
        for annotator in annotators:
            if annotator in self.annotators:
                self.annotators.remove(annotator)
                self.result.refused[(annotator, NO_LONGER_MEMBER)] += articles

    def _at_limit(self, annotator: int) -> bool:
        return self.limit is not None and self.result.given[annotator] >= self.limit

    def plan(self, holders: dict[int, str]) -> list[int]:
        """The annotators to give this article to (or take it back from), given its
        assignments as {annotator id: status}; refusals are counted on the way."""
        if not self.annotators:  # every chosen member left the corpus meanwhile (see drop)
            return []
        if self.mode == "unassign":
            return self._take_back(holders)
        taken = sum(status in HOLDING_PLACE for status in holders.values())
        picks = self._each(holders, taken) if self.mode == "each" else self._share(holders, taken)
        for annotator in picks:
            self.result.given[annotator] += 1
            if annotator in holders:
                self.result.handed_back[annotator] += 1
        if taken + len(picks) < self.per_article:
            self.result.still_open += 1
        return picks

    def _each(self, holders: dict[int, str], taken: int) -> list[int]:
        picks: list[int] = []
        for annotator in self.annotators:
            reason = refusal(
                own=holders.get(annotator), taken=taken + len(picks), per_article=self.per_article
            )
            if reason is None and self._at_limit(annotator):
                reason = OVER_LIMIT.format(limit=self.limit)
            if reason:
                self.result.refused[(annotator, reason)] += 1
            else:
                picks.append(annotator)
        return picks

    def _share(self, holders: dict[int, str], taken: int) -> list[int]:
        full = refusal(own=None, taken=taken, per_article=self.per_article)
        if full is not None:
            self.result.refused[(None, full)] += 1
            return []
        count = len(self.annotators)
        position = {annotator: i for i, annotator in enumerate(self.annotators)}
        # Like "Next article", sharing out never gives an article to someone who has or had it
        # (skipped, or taken back); give it to them by name ("each") to hand it back.
        fresh = [a for a in self.annotators if a not in holders]
        if not fresh:
            self.result.refused[(None, EVERY_ONE_HAD_IT)] += 1
            return []
        candidates = sorted(
            (a for a in fresh if not self._at_limit(a)),
            key=lambda a: (self.result.given[a], (position[a] - self.turn) % count),
        )
        if not candidates:
            self.result.refused[(None, EVERY_ONE_AT_LIMIT)] += 1
            return []
        picks: list[int] = []
        for annotator in candidates:
            if refusal(own=None, taken=taken + len(picks), per_article=self.per_article):
                break  # the article has all its annotators now
            picks.append(annotator)
        self.turn = (position[picks[-1]] + 1) % count
        return picks

    def _take_back(self, holders: dict[int, str]) -> list[int]:
        picks = []
        for annotator in self.annotators:
            status = holders.get(annotator)
            if status == AssignmentStatus.ASSIGNED:
                picks.append(annotator)
                self.result.taken_back[annotator] += 1
            elif status == AssignmentStatus.DONE:
                self.result.refused[(annotator, DONE_KEPT)] += 1
            else:
                self.result.refused[(annotator, NOT_IN_PROGRESS)] += 1
        return picks


def distribute(
    *,
    corpus: Corpus,
    article_ids: Iterable[int],
    annotators: Sequence[User],
    mode: Mode,
    by: User,
    limit: int | None = None,
    apply: bool = True,
    batch_size: int | None = None,
) -> Distribution:
    """Give any number of the corpus's articles to chosen members, or take them back.

    Modes: "each" gives every article to each chosen annotator, in the order given, as far as
    `refusal` allows (a skipped article is handed back); "balanced" fills each article's free
    places with the chosen annotators who have had the fewest so far, never one who had the
    article before; "unassign" takes back the articles the chosen annotators have in progress
    (marked skipped with the reason "Taken back by ..."; their labels stay theirs, finished
    articles are kept). `limit` caps the new articles per annotator.

    With `apply=False` nothing is locked or written: the result says what would happen. With
    `apply=True` the articles are handled in id order, in batches of their own transaction:
    the chosen members' rows are locked, then the batch's article rows, and the assignments are
    counted in a fresh statement, as every assigner here does.
    """
    if mode not in MODES:
        raise AssignmentError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    chosen = list(dict.fromkeys(user.pk for user in annotators))
    if not chosen:
        raise AssignmentError("Choose at least one annotator.")
    if limit is not None and limit < 1:
        raise AssignmentError("The limit per annotator must be at least 1.")
    members = set(
        Membership.objects.filter(corpus=corpus, user_id__in=chosen).values_list(
            "user_id", flat=True
        )
    )
    strangers = [user.get_username() for user in annotators if user.pk not in members]
    if strangers:
        raise AssignmentError(f"Not a member of {corpus}: {', '.join(strangers)}.")
    planner = Planner(
        mode=mode, annotators=chosen, per_article=corpus.annotators_per_article, limit=limit
    )
    size = batch_size or (BULK_BATCH_SIZE if apply else PREVIEW_BATCH_SIZE)
    now = timezone.now()
    for batch in batched(sorted(set(article_ids)), size):
        # A preview writes nothing and locks nothing: no transaction needed.
        with transaction.atomic() if apply else nullcontext():
            _distribute_batch(
                corpus=corpus, batch=batch, planner=planner, apply=apply, by=by, now=now
            )
    planner.result.applied = apply
    return planner.result


def _distribute_batch(
    *,
    corpus: Corpus,
    batch: list[int],
    planner: Planner,
    apply: bool,
    by: User,
    now: datetime,
) -> None:
    articles = Article.objects.filter(corpus=corpus, pk__in=batch).order_by("pk")
    if apply:
        # Members first, then articles in id order: the order every assigner locks in. A member
        # removed meanwhile gets nothing more.
        locked = set(
            Membership.objects.select_for_update()
            .filter(corpus=corpus, user_id__in=planner.annotators)
            .order_by("pk")
            .values_list("user_id", flat=True)
        )
        planner.drop(set(planner.annotators) - locked, articles=len(batch))
        articles = articles.select_for_update(of=("self",))
    present = list(articles.values_list("pk", flat=True))
    result = planner.result
    result.articles += len(present)
    if len(present) < len(batch):
        result.refused[(None, NOT_IN_CORPUS)] += len(batch) - len(present)
    # Read after the locks, in a statement of its own: it sees every change committed before.
    holders: defaultdict[int, dict[int, tuple[int, str]]] = defaultdict(dict)
    for pk, article_id, annotator_id, status in Assignment.objects.filter(
        article_id__in=present
    ).values_list("pk", "article_id", "annotator_id", "status"):
        holders[article_id][annotator_id] = (pk, status)

    new: list[tuple[int, int]] = []
    handed_back: list[int] = []
    taken_back: list[int] = []
    changed: set[int] = set()
    for article_id in present:
        theirs = holders.get(article_id, {})
        for annotator_id in planner.plan({a: status for a, (_, status) in theirs.items()}):
            changed.add(article_id)
            if planner.mode == "unassign":
                taken_back.append(theirs[annotator_id][0])
            elif annotator_id in theirs:
                handed_back.append(theirs[annotator_id][0])
            else:
                new.append((article_id, annotator_id))
    if not apply:
        return
    Assignment.objects.bulk_create(
        Assignment(
            article_id=article_id, annotator_id=annotator_id, assigned_by=by, assigned_at=now
        )
        for article_id, annotator_id in new
    )
    if handed_back:
        Assignment.objects.filter(pk__in=handed_back).update(
            status=AssignmentStatus.ASSIGNED,
            assigned_by=by,
            assigned_at=now,
            finished_at=None,
            skip_reason="",
        )
    if taken_back:
        Assignment.objects.filter(pk__in=taken_back).update(
            status=AssignmentStatus.SKIPPED,
            finished_at=now,
            skip_reason=TAKEN_BACK_REASON.format(manager=by.get_username()),
        )
    count_assignments(article_ids=sorted(changed))
