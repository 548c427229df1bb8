"""Annotators' throughput: labels per hour, median seconds per sentence, articles finished per
day and who has stopped, each worked out by hand; and the daily bar chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotator import charts, throughput
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Assignment,
    AssignmentStatus,
    LabelChoice,
    Layer,
    Role,
)


def label(sentence, user, *, value, seconds, when, target=None):
    corpus = sentence.article.corpus
    layer = Layer.STANCE if target else Layer.CLAIM_TYPE
    choice = LabelChoice.objects.get(corpus=corpus, layer=layer, value=value)
    Annotation.objects.create(
        sentence=sentence,
        annotator=user,
        layer=layer,
        target=target,
        choice=choice,
        seconds_spent=seconds,
        created_at=when,
        updated_at=when,
    )
    AnnotationHistory.objects.create(
        sentence=sentence,
        annotator=user,
        layer=layer,
        target=target,
        changed_by=user,
        changed_at=when,
        new_value=value,
    )


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def worked(corpus, make_article, make_member, annotator, other_annotator, manager, now):
    article = make_article(corpus=corpus, text="One here. Two here. Three here. Four here.")
    s1, s2, s3, s4 = article.sentences.select_related("article__corpus").order_by("ordinal")
    target = corpus.stance_targets.get()
    recent = now - timedelta(hours=2)
    label(s1, annotator, value="opinion", seconds=10, when=recent)
    label(s1, annotator, value="favor", seconds=20, when=recent, target=target)
    label(s2, annotator, value="opinion", seconds=5, when=recent)
    label(s3, annotator, value="opinion", seconds=0, when=recent)  # imported: no time
    label(s4, annotator, value="opinion", seconds=99, when=now - timedelta(days=20))
    # Finished articles: one today, two two days ago, one before the period.
    for number, days_ago in enumerate((0, 2, 2, 12)):
        # Distinct texts: the corpus refuses a second article with the same content.
        other = make_article(corpus=corpus, text=f"Finished article {number}, {days_ago} days ago.")
        Assignment.objects.create(
            article=other,
            annotator=annotator,
            status=AssignmentStatus.DONE,
            finished_at=now - timedelta(days=days_ago),
        )
    # The other annotator holds an article and never labelled anything.
    Assignment.objects.create(article=article, annotator=other_annotator)
    # A manager who labelled counts too; a curator who did nothing does not appear.
    label(s1, manager, value="factual_claim", seconds=60, when=recent)
    make_member(corpus=corpus, role=Role.CURATOR, username="idle-curator")
    return article


def test_figures_per_annotator_worked_by_hand(corpus, worked, annotator, other_annotator, now):
    report = throughput.report(corpus, days=7, now=now)
    rows = {row.username: row for row in report.rows}
    assert set(rows) == {"annotator", "other-annotator", "manager"}
    mine = rows["annotator"]
    # Four labels changed in the period (the twenty-day-old one is not), 35 seconds recorded.
    assert (mine.labels, mine.seconds) == (4, 35)
    assert mine.labels_per_hour == pytest.approx(4 / (35 / 3600))
    # Per sentence: s1 30 s (claim type and stance), s2 5 s; s3 recorded no time.
    assert mine.median_seconds == pytest.approx(17.5)
    assert mine.done_per_day == [0, 0, 0, 0, 2, 0, 1]
    assert (mine.done_in_period, mine.done_total) == (3, 4)
    assert mine.last_change is not None and not mine.idle
    theirs = rows["other-annotator"]
    assert (theirs.labels, theirs.labels_per_hour, theirs.median_seconds) == (0, None, None)
    assert (theirs.in_progress, theirs.last_change, theirs.idle) == (1, None, True)
    assert rows["manager"].role == "Manager" and rows["manager"].labels == 1
    assert report.days[-1] == timezone.localdate(now)
    assert len(report.days) == 7


def test_a_longer_period_takes_in_older_work(corpus, worked, now):
    report = throughput.report(corpus, days=30, now=now)
    mine = next(row for row in report.rows if row.username == "annotator")
    assert (mine.labels, mine.seconds, mine.done_in_period) == (5, 134, 4)
    assert mine.median_seconds == pytest.approx(30)  # 30, 5 and 99 seconds


def test_an_annotator_stops_being_idle_after_a_label(corpus, worked, other_annotator, now):
    sentence = worked.sentences.select_related("article__corpus").first()
    label(sentence, other_annotator, value="opinion", seconds=3, when=now - timedelta(hours=1))
    report = throughput.report(corpus, days=7, now=now)
    theirs = next(row for row in report.rows if row.username == "other-annotator")
    assert not theirs.idle
    later = throughput.report(corpus, days=7, now=now + timedelta(days=2))
    assert next(row for row in later.rows if row.username == "other-annotator").idle


def test_daily_bars_draw_one_bar_a_day_and_escape_text():
    svg = charts.daily_bars(["2026-11-01", "2026-11-02", "2026-11-03"], [2, 0, 4], title="<b>x</b>")
    assert svg.count("<rect") == 3
    assert "2026-11-03: 4" in svg and "max 4/day" in svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    empty = charts.daily_bars(["2026-11-01"], [0], title="none")
    assert 'fill="#bbb"' in empty and "max 0/day" in empty


def test_the_python_median_for_sqlite_agrees_with_postgresql(corpus, worked, now, monkeypatch):
    from django.db import connection

    def figures() -> list[tuple]:
        report = throughput.report(corpus, days=30, now=now)
        return [(r.username, r.labels, r.seconds, r.median_seconds) for r in report.rows]

    on_postgresql = figures()
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert figures() == on_postgresql
