"""Bulk assignment: giving any number of articles to chosen annotators (each, or shared out
evenly), taking them back, the preview that decides alike, and the capacity rules while
annotators ask for work at the same moment."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count

from annotator.annotating import save_label
from annotator.article_stats import create_missing
from annotator.assigning import (
    DONE_KEPT,
    EVERY_ONE_AT_LIMIT,
    EVERY_ONE_HAD_IT,
    NOT_IN_CORPUS,
    NOT_IN_PROGRESS,
    AssignmentError,
    Planner,
    distribute,
    next_assignment,
    skip_assignment,
)
from annotator.models import (
    Annotation,
    ArticleStats,
    Assignment,
    AssignmentStatus,
    LabelChoice,
    Layer,
    Role,
)

DONE, ASSIGNED, SKIPPED = AssignmentStatus.DONE, AssignmentStatus.ASSIGNED, AssignmentStatus.SKIPPED


# --- The planner alone (no database) ------------------------------------------------------------


def test_each_gives_every_article_to_each_annotator_until_it_is_full():
    planner = Planner(mode="each", annotators=[1, 2, 3], per_article=2, limit=None)
    assert planner.plan({}) == [1, 2]
    assert planner.plan({2: ASSIGNED}) == [1]
    assert planner.plan({1: DONE, 9: ASSIGNED}) == []
    assert planner.plan({1: SKIPPED}) == [1, 2]  # a manager hands a skipped article back
    result = planner.result
    assert result.given == Counter({1: 3, 2: 2})
    assert result.handed_back == Counter({1: 1})
    assert result.refused == Counter(
        {
            (3, "already has 2 annotators"): 4,
            (2, "already in progress"): 1,
            (1, "already done"): 1,
            (2, "already has 2 annotators"): 1,
        }
    )
    assert result.still_open == 0


def test_balanced_sharing_is_even_and_fills_every_place():
    planner = Planner(mode="balanced", annotators=[1, 2, 3], per_article=2, limit=None)
    for _ in range(30):
        assert len(planner.plan({})) == 2
    assert planner.result.given == Counter({1: 20, 2: 20, 3: 20})
    planner = Planner(mode="balanced", annotators=[1, 2, 3], per_article=1, limit=None)
    picks = [planner.plan({}) for _ in range(7)]
    assert picks == [[1], [2], [3], [1], [2], [3], [1]]


def test_balanced_sharing_never_gives_an_article_to_someone_who_had_it():
    planner = Planner(mode="balanced", annotators=[1, 2], per_article=3, limit=None)
    assert planner.plan({1: SKIPPED}) == [2]
    assert planner.plan({1: SKIPPED, 2: ASSIGNED}) == []
    assert planner.plan({1: DONE, 2: DONE, 9: DONE}) == []
    assert planner.result.refused == Counter(
        {(None, EVERY_ONE_HAD_IT): 1, (None, "already has 3 annotators"): 1}
    )
    assert planner.result.still_open == 2


def test_the_limit_caps_new_articles_per_annotator():
    planner = Planner(mode="balanced", annotators=[1, 2], per_article=1, limit=2)
    for _ in range(5):
        planner.plan({})
    assert planner.result.given == Counter({1: 2, 2: 2})
    assert planner.result.refused == Counter({(None, EVERY_ONE_AT_LIMIT): 1})
    each = Planner(mode="each", annotators=[1], per_article=1, limit=1)
    assert [each.plan({}), each.plan({})] == [[1], []]
    assert each.result.refused == Counter({(1, "reached the limit of 1 new article(s)"): 1})


def test_taking_back_touches_only_work_in_progress():
    planner = Planner(mode="unassign", annotators=[1, 2, 3], per_article=2, limit=None)
    assert planner.plan({1: ASSIGNED, 2: DONE, 3: SKIPPED}) == [1]
    assert planner.result.taken_back == Counter({1: 1})
    assert planner.result.refused == Counter({(2, DONE_KEPT): 1, (3, NOT_IN_PROGRESS): 1})


# --- Against the database -----------------------------------------------------------------------


@pytest.fixture
def articles(corpus, make_article):
    return [make_article(corpus=corpus, text=f"Article number {n} says so.") for n in range(10)]


@pytest.fixture
def team(corpus, make_member):
    return [make_member(corpus=corpus, role=Role.ANNOTATOR, username=f"team-{n}") for n in range(3)]


def places(article) -> int:
    return Assignment.objects.filter(article=article, status__in=[ASSIGNED, DONE]).count()


def test_preview_and_apply_decide_alike_and_preview_writes_nothing(corpus, manager, articles, team):
    corpus.annotators_per_article = 2
    corpus.save()
    ids = [a.pk for a in articles]
    create_missing(corpus=corpus)  # rows of the articles table, as a visit of it makes them
    preview = distribute(
        corpus=corpus, article_ids=ids, annotators=team, mode="balanced", by=manager, apply=False
    )
    assert not Assignment.objects.exists()
    assert not preview.applied
    done = distribute(
        corpus=corpus, article_ids=ids, annotators=team, mode="balanced", by=manager, batch_size=3
    )
    assert done.applied
    assert (done.given, done.refused, done.still_open) == (
        preview.given,
        preview.refused,
        preview.still_open,
    )
    assert sorted(done.given.values()) == [6, 7, 7]
    assert all(places(a) == 2 for a in articles)
    assert set(Assignment.objects.values_list("assigned_by", flat=True)) == {manager.pk}
    # The articles table knows at once.
    assert set(ArticleStats.objects.values_list("in_progress", flat=True)) == {2}


def test_each_respects_capacity_and_reports_why(corpus, manager, annotator, articles, team):
    corpus.annotators_per_article = 2
    corpus.save()
    first = articles[0]
    next_assignment(corpus=corpus, annotator=annotator)  # takes the first article
    skip_assignment(assignment=Assignment.objects.get(annotator=annotator), reason="Later")
    Assignment.objects.create(article=first, annotator=team[0], status=DONE)
    result = distribute(
        corpus=corpus,
        article_ids=[first.pk, articles[1].pk],
        annotators=[annotator, *team],
        mode="each",
        by=manager,
    )
    assert result.given == Counter({annotator.pk: 2, team[0].pk: 1})
    assert result.handed_back == Counter({annotator.pk: 1})
    assert result.refused == Counter(
        {
            (team[0].pk, "already done"): 1,
            (team[1].pk, "already has 2 annotators"): 2,
            (team[2].pk, "already has 2 annotators"): 2,
        }
    )
    handed_back = Assignment.objects.get(article=first, annotator=annotator)
    assert (handed_back.status, handed_back.skip_reason, handed_back.assigned_by) == (
        ASSIGNED,
        "",
        manager,
    )
    assert places(first) == places(articles[1]) == 2


def test_unassign_takes_back_work_in_progress_and_keeps_labels_and_finished_work(
    corpus, manager, articles, team
):
    corpus.annotators_per_article = 1
    corpus.save()
    distribute(
        corpus=corpus,
        article_ids=[a.pk for a in articles[:4]],
        annotators=team[:1],
        mode="each",
        by=manager,
    )
    finished = Assignment.objects.get(article=articles[0])
    Assignment.objects.filter(pk=finished.pk).update(status=DONE)
    sentence = articles[1].sentences.select_related("article").first()
    save_label(
        sentence=sentence,
        annotator=team[0],
        layer=Layer.CLAIM_TYPE,
        target=None,
        choice=LabelChoice.objects.get(corpus=corpus, value="opinion"),
    )
    result = distribute(
        corpus=corpus,
        article_ids=[a.pk for a in articles],
        annotators=team[:1],
        mode="unassign",
        by=manager,
    )
    assert result.taken_back == Counter({team[0].pk: 3})
    assert result.refused == Counter({(team[0].pk, DONE_KEPT): 1, (team[0].pk, NOT_IN_PROGRESS): 6})
    taken = Assignment.objects.filter(status=SKIPPED)
    assert taken.count() == 3
    assert {a.skip_reason for a in taken} == {"Taken back by manager."}
    assert Assignment.objects.get(pk=finished.pk).status == DONE
    assert Annotation.objects.filter(sentence=sentence, annotator=team[0]).exists()
    # The places are free again: another annotator can take the articles.
    assert next_assignment(corpus=corpus, annotator=team[1]).article == articles[1]


def test_articles_of_another_corpus_and_strangers_are_refused(
    corpus, make_corpus, make_article, manager, team, outsider
):
    foreign = make_article(corpus=make_corpus(), text="Somewhere else entirely.")
    result = distribute(
        corpus=corpus, article_ids=[foreign.pk], annotators=team, mode="each", by=manager
    )
    assert result.refused == Counter({(None, NOT_IN_CORPUS): 1})
    assert not Assignment.objects.exists()
    with pytest.raises(AssignmentError, match="Not a member of Korea coverage: outsider"):
        distribute(corpus=corpus, article_ids=[], annotators=[outsider], mode="each", by=manager)
    with pytest.raises(AssignmentError, match="Choose at least one annotator"):
        distribute(corpus=corpus, article_ids=[], annotators=[], mode="each", by=manager)
    with pytest.raises(AssignmentError, match="at least 1"):
        distribute(corpus=corpus, article_ids=[], annotators=team, mode="each", by=manager, limit=0)
    with pytest.raises(AssignmentError, match="mode must be one of"):
        distribute(corpus=corpus, article_ids=[], annotators=team, mode="all", by=manager)


@pytest.mark.django_db(transaction=True)
def test_bulk_assignment_beside_thirty_next_requests_never_overfills_or_repeats(
    make_corpus, make_member, make_article
):
    corpus = make_corpus(annotators_per_article=2)
    manager = make_member(corpus=corpus, role=Role.MANAGER)
    chosen = [make_member(corpus=corpus, role=Role.ANNOTATOR) for _ in range(4)]
    others = [make_member(corpus=corpus, role=Role.ANNOTATOR) for _ in range(6)]
    articles = [make_article(corpus=corpus, text=f"Article number {n}.") for n in range(24)]
    ids = [a.pk for a in articles]
    create_missing(corpus=corpus)
    barrier = threading.Barrier(2 + 30)
    errors: list[BaseException] = []

    def run(call) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def bulk(mode: str) -> None:
        distribute(
            corpus=corpus, article_ids=ids, annotators=chosen, mode=mode, by=manager, batch_size=5
        )

    def ask(user) -> None:
        assignment = next_assignment(corpus=corpus, annotator=user)
        if assignment:  # finished at once, so the next request takes a new article
            Assignment.objects.filter(pk=assignment.pk).update(status=DONE)

    calls = [lambda: bulk("balanced"), lambda: bulk("each")]
    # Two of the chosen annotators ask for work too, while the bulk assignment runs.
    calls += [lambda user=user: ask(user) for user in (others + chosen[:2]) * 5][:30]
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    holding = Assignment.objects.filter(status__in=[ASSIGNED, DONE])
    per_article = Counter(dict(holding.values_list("article").annotate(n=Count("pk"))))
    assert max(per_article.values()) <= 2
    pairs = list(Assignment.objects.values_list("article", "annotator"))
    assert len(pairs) == len(set(pairs))
    # 24 articles x 2 places, and more than enough demand: every place is taken.
    assert sum(per_article.values()) == 48
    # The articles table counted every change, whoever made it.
    for article_id, n in per_article.items():
        stats = ArticleStats.objects.get(article_id=article_id)
        assert stats.in_progress + stats.done == n
