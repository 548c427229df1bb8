"""Per-article figures for the articles table: what they count, when they are recounted, and
the live assignment counts every assigner keeps."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from annotator import article_stats, curating
from annotator.annotating import save_label
from annotator.article_stats import create_missing, refresh_corpus, refresh_figures
from annotator.assigning import (
    assign_articles,
    finish_assignment,
    next_assignment,
    release_expired,
    reopen_if_incomplete,
    skip_assignment,
)
from annotator.corpora import remove_member
from annotator.curating import Unit
from annotator.models import (
    ArticleStats,
    ArticleStatus,
    Assignment,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    Membership,
    Role,
    Sentence,
    SentenceQuerySet,
)

TEXT = "The plan works, the minister said. Critics disagree. Talks ended late."
CLAIM = Unit(layer=Layer.CLAIM_TYPE, target=None)


def choice(corpus, value: str) -> LabelChoice:
    return LabelChoice.objects.get(corpus=corpus, value=value)


@pytest.fixture
def third(corpus, make_member):
    return make_member(corpus=corpus, role=Role.ANNOTATOR, username="third")


@pytest.fixture
def labelled(corpus, make_article, make_annotation, annotator, other_annotator, third, curator):
    """Three sentences labelled by three annotators, worked out by hand below."""
    article = make_article(corpus=corpus, text=TEXT)
    s1, s2, s3 = article.sentences.order_by("ordinal")
    for user, value in ((annotator, "opinion"), (other_annotator, "opinion"), (third, "opinion")):
        make_annotation(sentence=s1, annotator=user, value=value)
    for user, value in (
        (annotator, "opinion"),
        (other_annotator, "factual_claim"),
        (third, "opinion"),
    ):
        make_annotation(sentence=s2, annotator=user, value=value)
    make_annotation(sentence=s3, annotator=annotator, value="opinion")
    make_annotation(sentence=s1, annotator=annotator, value="favor", layer=Layer.STANCE)
    make_annotation(sentence=s1, annotator=other_annotator, value="against", layer=Layer.STANCE)
    for sentence, confirmed in ((s1, True), (s2, False)):
        GoldLabel.objects.create(
            sentence=sentence,
            layer=Layer.CLAIM_TYPE,
            choice=choice(corpus, "opinion"),
            method=GoldMethod.MAJORITY,
            confirmed=confirmed,
            decided_by=curator,
        )
    return article


def test_figures_count_labels_disputes_gold_and_agreement(labelled):
    assert refresh_figures(article_ids=[labelled.pk]) == 1
    stats = ArticleStats.objects.get(article=labelled)
    # 3 + 3 + 1 claim types and 2 stances.
    assert (stats.sentences, stats.labels) == (3, 9)
    # s1 on stance (favor against against), s2 on claim type (2 against 1).
    assert stats.disputed == 2
    # Only confirmed gold counts: s1.
    assert (stats.gold, stats.gold_coverage) == (1, pytest.approx(1 / 3))
    # Units with two or more labels: s1 claim 1, s2 claim 1/3, s1 stance 0; s3 has one label.
    assert stats.agreement == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert stats.refreshed_at is not None
    assert stats.corpus_id == labelled.corpus_id


def test_an_article_nobody_labelled_has_no_agreement(corpus, make_article):
    article = make_article(corpus=corpus, text=TEXT)
    refresh_figures(article_ids=[article.pk])
    stats = ArticleStats.objects.get(article=article)
    assert (stats.labels, stats.disputed, stats.gold, stats.agreement) == (0, 0, 0, None)


def test_sentences_left_out_by_counted_are_left_out_of_every_figure(labelled, monkeypatch):
    # The hook for excluded sentences: whatever `counted()` leaves out, no figure counts.
    first = labelled.sentences.get(ordinal=0)
    monkeypatch.setattr(
        SentenceQuerySet, "counted", lambda self: self.exclude(pk=first.pk), raising=True
    )
    refresh_figures(article_ids=[labelled.pk])
    stats = ArticleStats.objects.get(article=labelled)
    assert (stats.sentences, stats.labels, stats.disputed, stats.gold) == (2, 4, 1, 0)
    assert stats.agreement == pytest.approx(1 / 3)


def test_status_in_sql_and_on_a_row_agree_for_every_count():
    combos = list(itertools.product(range(3), range(4), range(3)))
    for per_article in (1, 2, 3):
        for in_progress, done, skipped in combos:
            row = ArticleStats(in_progress=in_progress, done=done, skipped=skipped)
            matching = [
                status
                for status in ArticleStatus.values
                if _holds(ArticleStatus.condition(status, per_article), row)
            ]
            assert matching == [row.status(per_article)], (per_article, row.__dict__)


def _holds(condition: Q, row: ArticleStats) -> bool:
    """Evaluate a Q of equality and comparison lookups on the assignment counts in Python."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(_holds(child, row))
            continue
        lookup, value = child
        name, _, op = lookup.partition("__")
        actual = getattr(row, name)
        value = getattr(row, value.name) if hasattr(value, "name") else value
        results.append(
            {
                "": actual == value,
                "gt": actual > value,
                "gte": actual >= value,
                "lt": actual < value,
            }[op]
        )
    combined = all(results) if condition.connector == Q.AND else any(results)
    return not combined if condition.negated else combined


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status must be one of"):
        ArticleStatus.condition("lost", 2)


def _counts(article) -> tuple[int, int, int]:
    stats = ArticleStats.objects.get(article=article)
    return stats.in_progress, stats.done, stats.skipped


def test_assignment_counts_follow_every_assigner(
    corpus, manager, annotator, other_annotator, make_article, settings
):
    article = make_article(corpus=corpus, text=TEXT)
    create_missing(corpus=corpus)
    assert _counts(article) == (0, 0, 0)

    assignment = next_assignment(corpus=corpus, annotator=annotator)
    assert _counts(article) == (1, 0, 0)
    assign_articles(
        corpus=corpus, articles=[article], annotator=other_annotator, assigned_by=manager
    )
    assert _counts(article) == (2, 0, 0)

    for sentence in article.sentences.select_related("article"):
        save_label(
            sentence=sentence,
            annotator=annotator,
            layer=Layer.CLAIM_TYPE,
            target=None,
            choice=choice(corpus, "opinion"),
        )
    assert finish_assignment(assignment=assignment) == []
    assert _counts(article) == (1, 1, 0)
    # Finishing counts the labels too.
    assert ArticleStats.objects.get(article=article).labels == 3

    theirs = Assignment.objects.get(annotator=other_annotator)
    skip_assignment(assignment=theirs, reason="Not in English")
    assert _counts(article) == (0, 1, 1)

    assign_articles(
        corpus=corpus, articles=[article], annotator=other_annotator, assigned_by=manager
    )
    assert _counts(article) == (1, 1, 0)
    Assignment.objects.filter(pk=theirs.pk).update(assigned_at=timezone.now() - timedelta(days=9))
    settings.ASSIGNMENT_TIMEOUT_MINUTES = 60
    assert release_expired(corpus=corpus) == 1
    assert _counts(article) == (0, 1, 1)

    assign_articles(
        corpus=corpus, articles=[article], annotator=other_annotator, assigned_by=manager
    )
    remove_member(membership=Membership.objects.get(user=other_annotator, corpus=corpus))
    assert _counts(article) == (0, 1, 1)


def test_reopening_recounts_the_article(corpus, annotator, make_article):
    article = make_article(corpus=corpus, text="Only one sentence here.")
    assignment = next_assignment(corpus=corpus, annotator=annotator)
    (sentence,) = article.sentences.select_related("article")
    save_label(
        sentence=sentence,
        annotator=annotator,
        layer=Layer.CLAIM_TYPE,
        target=None,
        choice=choice(corpus, "opinion"),
    )
    finish_assignment(assignment=assignment)
    assert ArticleStats.objects.get(article=article).labels == 1
    save_label(
        sentence=sentence, annotator=annotator, layer=Layer.CLAIM_TYPE, target=None, choice=None
    )
    assert reopen_if_incomplete(assignment=assignment)
    stats = ArticleStats.objects.get(article=article)
    assert (stats.labels, stats.in_progress, stats.done) == (0, 1, 0)


def test_settling_gold_recounts_its_article(labelled, curator):
    refresh_figures(article_ids=[labelled.pk])
    s2 = labelled.sentences.get(ordinal=1)
    curating.settle(
        sentence=s2, unit=CLAIM, choice=choice(labelled.corpus, "opinion"), curator=curator
    )
    assert ArticleStats.objects.get(article=labelled).gold == 2


def test_confirming_a_prefill_recounts_its_article(labelled, curator):
    refresh_figures(article_ids=[labelled.pk])
    curating.confirm(gold=GoldLabel.objects.get(confirmed=False), curator=curator)
    assert ArticleStats.objects.get(article=labelled).gold == 2


def test_accepting_unanimous_gold_for_a_corpus_recounts_in_the_background(labelled, curator):
    # Tests run tasks at once (ImmediateBackend); `manage.py db_worker` does in production.
    GoldLabel.objects.all().delete()
    refresh_figures(article_ids=[labelled.pk])
    assert curating.accept_unanimous(corpus=labelled.corpus, unit=CLAIM, curator=curator) == 1
    assert ArticleStats.objects.get(article=labelled).gold == 1


def test_missing_rows_are_created_once_in_one_query(
    corpus, make_article, django_assert_num_queries
):
    articles = [make_article(corpus=corpus, text=f"Article {n} here.") for n in range(3)]
    assert create_missing(corpus=corpus) == 3
    assert ArticleStats.objects.filter(corpus=corpus).count() == 3
    with django_assert_num_queries(1):
        assert create_missing(corpus=corpus) == 0
    newer = make_article(corpus=corpus, text="A late arrival.")
    assert create_missing(corpus=corpus) == 1
    assert set(ArticleStats.objects.values_list("article_id", flat=True)) == {
        a.pk for a in [*articles, newer]
    }


def test_rows_changed_since_counted_are_found_and_cleared_by_a_refresh(
    corpus, annotator, make_article, assign
):
    quiet, busy = (make_article(corpus=corpus, text=f"Article {n} here.") for n in range(2))
    assign(article=busy, annotator=annotator)  # labelling needs the article
    refresh_figures(article_ids=[quiet.pk, busy.pk])

    def changed() -> list[int]:
        return list(
            ArticleStats.objects.changed_since_counted().values_list("article_id", flat=True)
        )

    assert changed() == []
    sentence = Sentence.objects.select_related("article").filter(article=busy).first()
    save_label(
        sentence=sentence,
        annotator=annotator,
        layer=Layer.CLAIM_TYPE,
        target=None,
        choice=choice(corpus, "opinion"),
    )
    assert changed() == [busy.pk]
    assert ArticleStats.objects.get(article=busy).labels == 0  # not counted on the save path
    assert refresh_corpus(corpus=corpus, stale_only=True) == 1
    assert changed() == []
    assert ArticleStats.objects.get(article=busy).labels == 1


def test_batches_cover_every_article(corpus, make_article):
    articles = [make_article(corpus=corpus, text=f"Article {n} here.") for n in range(5)]
    assert refresh_figures(article_ids=[a.pk for a in articles], batch_size=2) == 5
    assert ArticleStats.objects.count() == 5
    assert list(article_stats.batched(range(5), 2)) == [[0, 1], [2, 3], [4]]


def test_missing_rows_get_live_counts_now_and_figures_in_the_background(
    corpus, annotator, make_article, monkeypatch
):
    queued: list[tuple] = []

    class Worker:
        def enqueue(self, *args: object, **kwargs: object) -> None:
            queued.append((args, kwargs))

    monkeypatch.setattr(article_stats, "refresh_corpus_in_background", Worker())
    article = make_article(corpus=corpus, text=TEXT)
    Assignment.objects.create(article=article, annotator=annotator)
    assert create_missing(corpus=corpus) == 1
    stats = ArticleStats.objects.get(article=article)
    assert (stats.in_progress, stats.refreshed_at, stats.sentences) == (1, None, 0)
    assert queued == [((corpus.pk,), {"stale_only": True})]
    # The worker's run counts what the visit left for it.
    article_stats.refresh_corpus(corpus=corpus, stale_only=True)
    stats.refresh_from_db()
    assert stats.sentences == 3 and stats.refreshed_at is not None


def test_command_recounts_named_corpora_or_all(corpus, make_corpus, make_article):
    from io import StringIO

    from django.core.management import CommandError, call_command

    other = make_corpus(slug="other")
    make_article(corpus=corpus, text=TEXT)
    make_article(corpus=other, text=TEXT)
    out = StringIO()
    call_command("refresh_article_stats", "korea", stdout=out)
    assert out.getvalue() == "korea: recounted 1 article(s)\n"
    out = StringIO()
    call_command("refresh_article_stats", "--all", "--changed-only", stdout=out)
    assert out.getvalue() == "korea: recounted 0 article(s)\nother: recounted 1 article(s)\n"
    for args, words in (((), "or pass --all"), (("nope",), "no corpus with slug 'nope'")):
        with pytest.raises(CommandError, match=words):
            call_command("refresh_article_stats", *args)
