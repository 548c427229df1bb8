"""Assignment: next article, continuing, expiry, skipping, finishing, manager assignment, and
the capacity rules under thirty concurrent requests."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from annotator.annotating import save_label
from annotator.assigning import (
    AssignmentError,
    assign_articles,
    finish_assignment,
    next_assignment,
    release_expired,
    skip_assignment,
)
from annotator.models import Assignment, AssignmentStatus, LabelChoice, Layer, Role
from tests.concurrency import next_article_at_once


def label_all(article, user, *, stance: bool = False) -> None:
    corpus = article.corpus
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    favor = LabelChoice.objects.get(corpus=corpus, value="favor")
    for sentence in article.sentences.select_related("article"):
        save_label(
            sentence=sentence, annotator=user, layer=Layer.CLAIM_TYPE, target=None, choice=opinion
        )
        if stance:
            for target in corpus.stance_targets.all():
                save_label(
                    sentence=sentence,
                    annotator=user,
                    layer=Layer.STANCE,
                    target=target,
                    choice=favor,
                )


def test_next_gives_an_article_then_continues_it(corpus, annotator, make_article):
    first, _second = make_article(corpus=corpus), make_article(corpus=corpus, text="Two.")
    assignment = next_assignment(corpus=corpus, annotator=annotator)
    assert assignment.article == first
    assert next_assignment(corpus=corpus, annotator=annotator) == assignment
    assert Assignment.objects.count() == 1


def test_next_prefers_articles_others_started(corpus, annotator, other_annotator, make_article):
    make_article(corpus=corpus)
    started = make_article(corpus=corpus, text="Started by someone.")
    assign_articles(corpus=corpus, articles=[started], annotator=other_annotator, assigned_by=None)
    assert next_assignment(corpus=corpus, annotator=annotator).article == started


def test_full_and_already_done_articles_are_not_given(corpus, annotator, make_member, make_article):
    corpus.annotators_per_article = 1
    corpus.save()
    article = make_article(corpus=corpus)
    assignment = next_assignment(corpus=corpus, annotator=annotator)
    label_all(article, annotator)
    assert finish_assignment(assignment=assignment) == []
    # Done by me: not again; full (one annotator per article): not for anyone else.
    assert next_assignment(corpus=corpus, annotator=annotator) is None
    assert next_assignment(corpus=corpus, annotator=make_member(corpus=corpus)) is None


def test_non_member_gets_no_article(corpus, outsider, make_article):
    make_article(corpus=corpus)
    with pytest.raises(AssignmentError, match="not a member"):
        next_assignment(corpus=corpus, annotator=outsider)


def test_idle_assignment_returns_to_the_pool(
    corpus, annotator, other_annotator, make_article, settings
):
    settings.ASSIGNMENT_TIMEOUT_MINUTES = 60
    corpus.annotators_per_article = 1
    corpus.save()
    article = make_article(corpus=corpus)
    long_ago = timezone.now() - timedelta(minutes=61)
    stale = next_assignment(corpus=corpus, annotator=annotator, now=long_ago)
    assert next_assignment(corpus=corpus, annotator=other_annotator).article == article
    stale.refresh_from_db()
    assert stale.status == AssignmentStatus.SKIPPED
    assert "60 minutes" in stale.skip_reason


def test_assignment_with_recent_labels_does_not_expire(corpus, annotator, make_article, settings):
    settings.ASSIGNMENT_TIMEOUT_MINUTES = 60
    article = make_article(corpus=corpus)
    next_assignment(corpus=corpus, annotator=annotator, now=timezone.now() - timedelta(minutes=90))
    label_all(article, annotator)
    assert release_expired(corpus=corpus) == 0
    assert Assignment.objects.get().status == AssignmentStatus.ASSIGNED


def test_skip_needs_a_reason_and_frees_the_place(corpus, annotator, other_annotator, make_article):
    corpus.annotators_per_article = 1
    corpus.save()
    make_article(corpus=corpus)
    assignment = next_assignment(corpus=corpus, annotator=annotator)
    with pytest.raises(AssignmentError, match="why"):
        skip_assignment(assignment=assignment, reason="   ")
    skip_assignment(assignment=assignment, reason="Not in English")
    assert assignment.status == AssignmentStatus.SKIPPED
    # I never get it back; someone else can take it.
    assert next_assignment(corpus=corpus, annotator=annotator) is None
    assert next_assignment(corpus=corpus, annotator=other_annotator) is not None


def test_finish_lists_missing_sentences_and_needs_stance_when_required(
    make_corpus, make_member, make_article
):
    corpus = make_corpus(stance_required=True)
    user = make_member(corpus=corpus)
    article = make_article(corpus=corpus)
    assignment = next_assignment(corpus=corpus, annotator=user)
    missing = finish_assignment(assignment=assignment)
    assert [s.ordinal for s in missing] == [0, 1, 2]
    label_all(article, user)  # claim types only
    assert [s.ordinal for s in finish_assignment(assignment=assignment)] == [0, 1, 2]
    assert assignment.status == AssignmentStatus.ASSIGNED
    label_all(article, user, stance=True)
    assert finish_assignment(assignment=assignment) == []
    assert assignment.status == AssignmentStatus.DONE


def test_manager_assignment_respects_capacity_and_reports_refusals(
    corpus, manager, annotator, other_annotator, make_member, make_article
):
    corpus.annotators_per_article = 2
    corpus.save()
    article = make_article(corpus=corpus)
    third = make_member(corpus=corpus)
    for user in (annotator, other_annotator):
        result = assign_articles(
            corpus=corpus, articles=[article], annotator=user, assigned_by=manager
        )
        assert result.assigned == [article]
    again = assign_articles(
        corpus=corpus, articles=[article], annotator=annotator, assigned_by=manager
    )
    full = assign_articles(corpus=corpus, articles=[article], annotator=third, assigned_by=manager)
    assert again.refused == [(article, "already in progress")]
    assert full.refused == [(article, "already has 2 annotators")]
    assert Assignment.objects.get(annotator=annotator).assigned_by == manager


def test_manager_can_hand_back_a_skipped_article(corpus, manager, annotator, make_article):
    article = make_article(corpus=corpus)
    skip_assignment(assignment=next_assignment(corpus=corpus, annotator=annotator), reason="Later")
    result = assign_articles(
        corpus=corpus, articles=[article], annotator=annotator, assigned_by=manager
    )
    assert result.assigned == [article]
    assert Assignment.objects.get().status == AssignmentStatus.ASSIGNED


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_next_requests_never_overfill_or_repeat(
    make_corpus, make_member, make_article
):
    corpus = make_corpus(annotators_per_article=2)
    annotators = [make_member(corpus=corpus, role=Role.ANNOTATOR) for _ in range(10)]
    articles = [make_article(corpus=corpus, text=f"Article number {n}.") for n in range(8)]
    # Each of the ten annotators sends three requests at once.
    given = next_article_at_once(corpus, annotators)

    per_article = Counter(
        dict(
            Assignment.objects.filter(status__in=[AssignmentStatus.ASSIGNED, AssignmentStatus.DONE])
            .values_list("article")
            .annotate(n=Count("pk"))
        )
    )
    assert max(per_article.values()) <= 2
    pairs = list(Assignment.objects.values_list("article", "annotator"))
    assert len(pairs) == len(set(pairs))
    # 8 articles x 2 places = 16 assignments available; 30 requests must fill every place.
    # (A request may return an assignment a parallel request of the same annotator just made.)
    assert sum(per_article.values()) == 16
    assert given == set(pairs)
    assert set(per_article) == {a.pk for a in articles}
