"""How fast each annotator of a corpus works, for its managers: labels per hour, median seconds
per sentence, articles finished per day, and who has work in progress but has stopped.

Every figure is aggregated in SQL, in three queries whatever the number of annotators or labels:
the members with their workload and their last change; the labels, time and median time per
sentence of the period (one pass over the labels); and the articles finished per day.

Definitions (the page repeats them):
- Labels: the annotator's current labels (claim types and stances) last changed in the period.
- Labels per hour: those labels divided by the time recorded on them (`Annotation.seconds_spent`,
  measured in the browser while the sentence has the focus; labels imported or made through the
  API record none).
- Median seconds per sentence: for each sentence with such a label, the time recorded on all of
  the annotator's labels of it, summed; the median over those sentences (time recorded only).
- Finished per day: the annotator's assignments marked done each day of the period.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, cast

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from annotator.models import (
    Annotation,
    AnnotationHistory,
    Assignment,
    AssignmentStatus,
    Corpus,
    Membership,
    Role,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Workload(TypedDict):  # what with_workload() and the query below annotate
    open: int
    done: int
    skipped: int
    last_change: datetime | None


PERIODS = {7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
DEFAULT_DAYS = 7
# Work in progress with no change for this long is flagged: the annotator may be stuck.
IDLE_AFTER = timedelta(days=1)


@dataclass
class AnnotatorThroughput:
    user_id: int
    username: str
    role: str
    in_progress: int
    done_total: int
    last_change: datetime | None
    labels: int = 0
    seconds: float = 0.0
    median_seconds: float | None = None
    done_per_day: list[int] = field(default_factory=list)
    idle: bool = False
    chart: str = ""

    @property
    def labels_per_hour(self) -> float | None:
        return self.labels / (self.seconds / 3600) if self.seconds else None

    @property
    def done_in_period(self) -> int:
        return sum(self.done_per_day)


@dataclass
class Report:
    since: datetime
    days: list[date]
    rows: list[AnnotatorThroughput]


def _labels_in_period(corpus: Corpus, user_ids: list[int], since: datetime) -> QuerySet:
    # The annotator list lets PostgreSQL read the (annotator, updated_at) index.
    return Annotation.objects.filter(
        annotator_id__in=user_ids, updated_at__gte=since, sentence__article__corpus=corpus
    ).order_by()


def _per_annotator(per_sentence: QuerySet) -> Iterable[tuple[int, int, float, float | None]]:
    """(annotator id, labels, seconds, median seconds per sentence with time recorded) from
    rows of (annotator_id, labels, seconds) per sentence, in one pass over the labels."""
    if connection.vendor == "postgresql":
        inner, params = per_sentence.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT annotator_id, SUM(n), SUM(seconds), percentile_cont(0.5) WITHIN GROUP "
                "(ORDER BY seconds) FILTER (WHERE seconds > 0) "
                f"FROM ({inner}) AS per_sentence GROUP BY annotator_id",
                params,
            )
            return cursor.fetchall()
    # SQLite (the demo) has no percentile aggregate; its corpora are small.
    labels: defaultdict[int, int] = defaultdict(int)
    seconds: defaultdict[int, list[float]] = defaultdict(list)
    for annotator_id, n, spent in per_sentence:
        labels[annotator_id] += n
        seconds[annotator_id].append(spent or 0.0)
    return [
        (
            annotator_id,
            n,
            sum(seconds[annotator_id]),
            statistics.median(timed)
            if (timed := [t for t in seconds[annotator_id] if t > 0])
            else None,
        )
        for annotator_id, n in labels.items()
    ]


def report(corpus: Corpus, *, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Report:
    """Each annotator's throughput over the last `days` days (today included)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    last_change = (
        AnnotationHistory.objects.filter(
            annotator=OuterRef("user"), sentence__article__corpus=corpus
        )
        .order_by("-changed_at")
        .values("changed_at")[:1]
    )
    # cast: mypy misses annotations made by a QuerySet method (django-stubs#2917).
    members = cast(
        "list[WithAnnotations[Membership, _Workload]]",
        list(
            Membership.objects.with_workload(corpus)
            .annotate(last_change=Subquery(last_change))
            .select_related("user")
            .order_by("user__username")
        ),
    )
    rows = {
        m.user_id: AnnotatorThroughput(
            user_id=m.user_id,
            username=m.user.get_username(),
            role=m.get_role_display(),
            in_progress=m.open,
            done_total=m.done,
            last_change=m.last_change,
            done_per_day=[0] * days,
        )
        for m in members
    }
    user_ids = list(rows)  # never empty: the manager asking is a member
    per_sentence = (
        _labels_in_period(corpus, user_ids, since)
        .values("annotator_id", "sentence_id")
        .annotate(n=Count("pk"), seconds=Sum("seconds_spent"))
        .values_list("annotator_id", "n", "seconds")
    )
    for user_id, n, seconds, median in _per_annotator(per_sentence):
        row = rows[user_id]
        row.labels, row.seconds = int(n), float(seconds or 0.0)
        row.median_seconds = None if median is None else float(median)
    finished = (
        Assignment.objects.filter(
            annotator_id__in=user_ids,
            article__corpus=corpus,
            status=AssignmentStatus.DONE,
            finished_at__gte=since,
        )
        .annotate(day=TruncDate("finished_at"))
        .order_by()
        .values("annotator_id", "day")
        .annotate(n=Count("pk"))
        .values_list("annotator_id", "day", "n")
    )
    for user_id, day, n in finished:
        index = (day - first_day).days
        if 0 <= index < days:
            rows[user_id].done_per_day[index] += n
    for row in rows.values():
        row.idle = bool(row.in_progress) and (
            row.last_change is None or now - row.last_change > IDLE_AFTER
        )
    roles = {m.user_id: m.role for m in members}
    return Report(
        since=since,
        days=[first_day + timedelta(days=i) for i in range(days)],
        # Annotators always; managers and curators once they have done some of the work.
        rows=[
            row
            for row in rows.values()
            if roles[row.user_id] in Role.ANNOTATORS
            or row.in_progress
            or row.done_total
            or row.labels
            or row.last_change
        ],
    )
