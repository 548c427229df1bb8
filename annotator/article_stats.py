"""Per-article figures for the managers' articles table (`ArticleStats`): counting and keeping
them current.

Why a table of its own: sorting and filtering 100,000 articles by disputed sentences or
agreement would otherwise aggregate millions of annotations on every page load. The table keeps
one narrow row per article with an index per sortable figure.

How current each column is:
- Assignment counts (`in_progress`, `done`, `skipped`) are exact at all times: every function
  of assigning.py that changes an assignment calls `count_assignments` in its own transaction.
  It locks the rows first and counts in a fresh statement, so two transactions changing the
  same article's assignments cannot overwrite each other's counts with an older snapshot.
- Figures from labels and gold (`sentences`, `labels`, `disputed`, `gold`, `gold_coverage`,
  `agreement`) are counted by `refresh_figures`: when an annotator finishes an article or it
  is reopened, when a curator's gold changes, when a manager asks (the table's refresh
  buttons, `manage.py refresh_article_stats`, or the background task). They are as of the
  row's `refreshed_at`; a label saved in between shows up at the next refresh, and the table
  marks the rows that changed since (`ArticleStatsQuerySet.changed_since_counted`). Saving a
  label does not touch this table: that request is the annotators' busiest and stays at its
  few queries.

Which sentences count is `Sentence.objects.counted()`, the one place to change it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice

from django.db import connection, transaction
from django.db.models import (
    Count,
    Exists,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.utils import timezone
from django_tasks import task

from annotator.models import (
    Annotation,
    Article,
    ArticleStats,
    Assignment,
    AssignmentStatus,
    Corpus,
    GoldLabel,
    Layer,
    Sentence,
    count_of,
)

BATCH_SIZE = 2_000
FIGURE_FIELDS = ["sentences", "labels", "disputed", "gold", "gold_coverage", "agreement"]


def batched(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, size)):
        yield batch


def count_assignments(*, article_ids: Collection[int]) -> None:
    """Recount the articles' assignments by status into their rows (rows not created yet are
    left to `refresh_figures`, which counts them too).

    Must run inside the transaction that changed the assignments, after the change. The lock
    comes first and the count in a later statement, which in READ COMMITTED sees every change
    committed before the lock was granted.
    """
    if not article_ids:
        return
    rows = ArticleStats.objects.filter(article_id__in=article_ids)
    list(rows.select_for_update().order_by("article_id").values_list("article_id", flat=True))
    theirs = Assignment.objects.filter(article=OuterRef("article"))
    rows.update(
        in_progress=count_of(theirs.filter(status=AssignmentStatus.ASSIGNED)),
        done=count_of(theirs.filter(status=AssignmentStatus.DONE)),
        skipped=count_of(theirs.filter(status=AssignmentStatus.SKIPPED)),
    )


def _figures(article_ids: list[int]) -> dict[int, dict[str, object]]:
    """Figures of existing articles among `article_ids`, from labels and gold, in four queries."""
    # Imported here: corpora.py imports this module, and every management command loads
    # corpora.py; NumPy is only needed once figures are counted.
    from annotator.agreement import mean_unit_agreement

    corpus_of = dict(Article.objects.filter(pk__in=article_ids).values_list("pk", "corpus_id"))
    counted = Sentence.objects.counted().filter(article_id__in=article_ids)
    sentences, lowest, highest = {}, None, None
    for article_id, n, low, high in (
        counted.order_by()
        .values("article_id")
        .annotate(n=Count("pk"), low=Min("pk"), high=Max("pk"))
        .values_list("article_id", "n", "low", "high")
    ):
        sentences[article_id] = n
        lowest = low if lowest is None else min(lowest, low)
        highest = high if highest is None else max(highest, high)
    if not sentences:
        lowest = highest = 0
    # Redundant but true: the batch's sentences lie in this id range, and saying so lets
    # PostgreSQL read that slice of the labels' sentence index instead of every label.
    in_batch = {"sentence__in": counted, "sentence__gte": lowest, "sentence__lte": highest}
    gold = dict(
        GoldLabel.objects.filter(**in_batch, layer=Layer.CLAIM_TYPE, target=None, confirmed=True)
        .order_by()
        .values("sentence__article_id")
        .annotate(n=Count("pk"))
        .values_list("sentence__article_id", "n")
    )
    # How many annotators chose each label of each unit (sentence, layer, target).
    votes = (
        Annotation.objects.filter(**in_batch)
        .order_by()
        .values("sentence__article_id", "sentence_id", "layer", "target_id", "choice_id")
        .annotate(n=Count("pk"))
        .values_list("sentence__article_id", "sentence_id", "layer", "target_id", "n")
    )
    labels: defaultdict[int, int] = defaultdict(int)
    units: defaultdict[int, defaultdict[tuple[int, str, int | None], list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for article_id, sentence_id, layer, target_id, n in votes.iterator(chunk_size=10_000):
        labels[article_id] += n
        units[article_id][(sentence_id, layer, target_id)].append(n)

    figures: dict[int, dict[str, object]] = {}
    for article_id, corpus_id in corpus_of.items():
        counts: Mapping[tuple[int, str, int | None], list[int]] = units.get(article_id, {})
        n_sentences = sentences.get(article_id, 0)
        n_gold = gold.get(article_id, 0)
        figures[article_id] = {
            "corpus_id": corpus_id,
            "sentences": n_sentences,
            "labels": labels.get(article_id, 0),
            # A sentence is disputed when its annotators chose different labels in any layer.
            "disputed": len({unit[0] for unit, n in counts.items() if len(n) > 1}),
            "gold": n_gold,
            "gold_coverage": n_gold / n_sentences if n_sentences else 0.0,
            "agreement": mean_unit_agreement(counts.values()),
        }
    return figures


def refresh_figures(
    *, article_ids: Iterable[int], now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Count the articles' figures from labels and gold (creating rows that are missing), and
    their assignments; each batch in its own transaction. Returns how many rows were written."""
    written = 0
    for batch in batched(article_ids, batch_size):
        with transaction.atomic():
            stamp = now or timezone.now()
            rows = [
                ArticleStats(article_id=article_id, refreshed_at=stamp, **figures)
                for article_id, figures in _figures(batch).items()
            ]
            ArticleStats.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["article"],
                update_fields=[*FIGURE_FIELDS, "refreshed_at"],
            )
            count_assignments(article_ids=[row.article_id for row in rows])
            written += len(rows)
    return written


def missing(corpus: Corpus) -> QuerySet[Article]:
    """The corpus's articles without a row yet (imported since the table was last shown)."""
    return corpus.articles.exclude(Exists(ArticleStats.objects.filter(article=OuterRef("pk"))))


def _rows_of(queryset: QuerySet) -> Subquery:
    """COUNT(*) of a correlated queryset: unlike COUNT(id), PostgreSQL can answer it from an
    index on the corpus alone (an index-only scan), without visiting the rows."""
    counted = queryset.order_by().values(n=Func(template="COUNT(*)", output_field=IntegerField()))
    return Subquery(counted, output_field=IntegerField())


def create_missing(*, corpus: Corpus, count_later: bool = True) -> int:
    """Rows for the corpus's articles that have none (imported since the table was last
    shown), so that every article is in the table at once; returns how many were made.

    One cheap query when none is missing, the common case on every visit of the table. New
    rows get their assignments counted here and their figures from labels in the background
    (`refreshed_at` stays empty until then, and the table says "not counted yet"): after an
    import of 100,000 articles, counting them all would hold the page for a minute.
    """
    articles, stored = (
        Corpus.objects.filter(pk=corpus.pk)
        .annotate(
            n_articles=_rows_of(Article.objects.filter(corpus=OuterRef("pk"))),
            n_stored=_rows_of(ArticleStats.objects.filter(corpus=OuterRef("pk"))),
        )
        .values_list("n_articles", "n_stored")
        .get()
    )
    if stored >= articles:
        return 0
    stats, article = ArticleStats._meta.db_table, Article._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            # INSERT ... SELECT: one statement however many articles came in.
            cursor.execute(
                f"INSERT INTO {stats} (article_id, corpus_id, in_progress, done, skipped, "
                "sentences, labels, disputed, gold, gold_coverage, agreement, refreshed_at) "
                "SELECT a.id, a.corpus_id, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL "
                f"FROM {article} a WHERE a.corpus_id = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {stats} s WHERE s.article_id = a.id) "
                "ON CONFLICT (article_id) DO NOTHING",
                [corpus.pk],
            )
            created = cursor.rowcount
        assigned = ArticleStats.objects.filter(corpus=corpus, refreshed_at__isnull=True).filter(
            Exists(Assignment.objects.filter(article=OuterRef("article")))
        )
        count_assignments(
            article_ids=list(assigned.order_by("article_id").values_list("article_id", flat=True))
        )
    if count_later:
        refresh_corpus_in_background.enqueue(corpus.pk, stale_only=True)
    return created


def refresh_corpus(*, corpus: Corpus, stale_only: bool = False) -> int:
    """Recount every article of the corpus (or, with `stale_only`, those whose labels or gold
    changed since they were counted, and those never counted). Returns the rows written."""
    create_missing(corpus=corpus, count_later=False)
    rows = ArticleStats.objects.filter(corpus=corpus)
    if stale_only:
        rows = rows.changed_since_counted()
    ids = list(rows.order_by("article_id").values_list("article_id", flat=True))
    return refresh_figures(article_ids=ids)


@task()
def refresh_corpus_in_background(corpus_id: int, stale_only: bool = False) -> int:
    """`refresh_corpus` run by the task worker (`manage.py db_worker`)."""
    return refresh_corpus(corpus=Corpus.objects.get(pk=corpus_id), stale_only=stale_only)
