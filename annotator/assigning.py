"""Who annotates which article: next article, expiry, skipping, finishing, manager assignment.

The invariants (never more annotators on an article than the corpus asks for, never the same
article twice for one annotator) hold under concurrent requests: an assigner locks the article
row (`FOR UPDATE SKIP LOCKED` when picking, plain `FOR UPDATE` for a manager), counts the
article's assignments in a fresh statement while holding that lock, and the
`assignment_unique_annotator` constraint backs up the second rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotator.models import (
    Annotation,
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    Membership,
    Sentence,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

HOLDING_PLACE = AssignmentStatus.HOLDING_PLACE  # the name the callers import
EXPIRED_REASON = "Returned to the pool: left unfinished for {minutes} minutes."
MAX_SKIP_REASON_LENGTH = Assignment._meta.get_field("skip_reason").max_length


class AssignmentError(ValueError):
    """An assignment request that cannot be met, with a reason a person can read."""


@dataclass
class AssignResult:
    assigned: list[Article] = field(default_factory=list)
    refused: list[tuple[Article, str]] = field(default_factory=list)


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
    return (
        Assignment.objects.filter(
            article__corpus=corpus, status=AssignmentStatus.ASSIGNED, assigned_at__lt=cutoff
        )
        .exclude(Exists(recent_work))
        .update(
            status=AssignmentStatus.SKIPPED,
            finished_at=now,
            skip_reason=EXPIRED_REASON.format(minutes=minutes),
        )
    )


def _places_taken(article_id: int) -> int:
    return Assignment.objects.filter(article_id=article_id, status__in=HOLDING_PLACE).count()


def _lock_membership(*, corpus: Corpus, user: AbstractBaseUser) -> Membership:
    membership = Membership.objects.select_for_update().filter(corpus=corpus, user=user).first()
    if membership is None:
        raise AssignmentError(f"{user} is not a member of {corpus}.")
    return membership


def next_assignment(
    *, corpus: Corpus, annotator: AbstractBaseUser, now: datetime | None = None
) -> Assignment | None:
    """The annotator's unfinished article, else a new one that still needs annotators.

    Prefers articles others have started, so articles reach their full number of annotators
    (and agreement figures) sooner. None when nothing is left for this annotator.
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
                .order_by("-places_taken", "pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)
                .first()
            )
            if article_id is None:
                return None
            # The pick above counted with a snapshot from before we held the lock; count again.
            if _places_taken(article_id) < corpus.annotators_per_article:
                return Assignment.objects.create(
                    article_id=article_id, annotator=annotator, assigned_at=now or timezone.now()
                )
            passed_over.append(article_id)


def assign_articles(
    *,
    corpus: Corpus,
    articles: list[Article],
    annotator: AbstractBaseUser,
    assigned_by: AbstractBaseUser,
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
            if existing is not None and existing.status in HOLDING_PLACE:
                result.refused.append((article, f"already {existing.get_status_display().lower()}"))
                continue
            taken = _places_taken(article.pk)
            if taken >= corpus.annotators_per_article:
                result.refused.append((article, f"already has {taken} annotators"))
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
    assignment.save(update_fields=["status", "skip_reason", "finished_at"])


def missing_sentences(*, article: Article, annotator: AbstractBaseUser) -> list[Sentence]:
    """Sentences that keep the article from being done, in reading order."""
    corpus = article.corpus
    return list(
        article.sentences.incomplete_for(
            annotator,
            stance_targets=corpus.stance_targets.count() if corpus.stance_required else 0,
        ).order_by("ordinal")
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
        assignment.save(update_fields=["status", "finished_at", "skip_reason"])
    return []


def reopen_if_incomplete(*, assignment: Assignment) -> bool:
    """Undo can take a label off a finished article; then it is in progress again."""
    if assignment.status != AssignmentStatus.DONE:
        return False
    if not missing_sentences(article=assignment.article, annotator=assignment.annotator):
        return False
    assignment.status = AssignmentStatus.ASSIGNED
    assignment.finished_at = None
    assignment.save(update_fields=["status", "finished_at"])
    return True
