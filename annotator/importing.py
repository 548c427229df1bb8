"""Files -> articles and sentences, written in one transaction per import.

sources.py reads and validates (no Django); this module decides what is new, stores articles and
their sentences, and makes a batch all-or-nothing: when any file or line is rejected nothing is
written, and `ImportRejected` carries the summary with every problem.

Articles already in the corpus (same external id or same text) are skipped and counted. On
PostgreSQL sentences go in with COPY, segmented by a pool of worker processes for big imports;
elsewhere (the SQLite demo) with `bulk_create`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from io import StringIO
from multiprocessing.pool import AsyncResult, Pool

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from annotator.models import Article, Corpus, Sentence
from annotator.segmentation import SEGMENTER_VERSION
from annotator.sources import (
    ArticleData,
    Limits,
    Problem,
    SourceReader,
    SourceRejected,
    estimate_articles,
    expand_paths,
    sentence_copy_rows,
    sentence_tuples,
)
from annotator.throttling import DutyCycle

# Articles per round trip: big enough to amortise queries, small enough to keep memory flat.
BATCH_SIZE = 500
# A throttled import writes smaller batches, so each stretch of segmenting and COPY that runs
# before it rests stays short.
THROTTLED_BATCH_SIZE = 50
# Below this many articles a worker pool costs more to start than it saves.
POOL_THRESHOLD = 2_000
SKIPPED_NAMES_SHOWN = 20
# A job page listing a million bad lines helps nobody; the count still says how many.
PROBLEMS_STORED = 500
COPY_SENTENCES_SQL = (
    'COPY annotator_sentence (article_id, ordinal, paragraph, start, "end", text, zone, zone_rule,'
    " zone_confirmed, excluded) FROM STDIN"
)

ProgressCallback = Callable[[int, int], None]


def limits_from_settings() -> Limits:
    return Limits(
        max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
        max_total_bytes=settings.IMPORT_MAX_TOTAL_BYTES,
        max_zip_members=settings.IMPORT_MAX_ZIP_MEMBERS,
        max_zip_ratio=settings.IMPORT_MAX_ZIP_RATIO,
        max_articles=settings.IMPORT_MAX_ARTICLES,
    )


@dataclass
class ImportSummary:
    imported: int = 0
    sentences: int = 0
    skipped: int = 0
    skipped_names: list[str] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON for ImportJob.summary."""
        return {
            "imported": self.imported,
            "sentences": self.sentences,
            "skipped": self.skipped,
            "skipped_names": self.skipped_names,
            "rejected": [
                {"source": p.source, "line": p.line, "reason": p.reason}
                for p in self.rejected[:PROBLEMS_STORED]
            ],
            "rejected_total": len(self.rejected),
        }


class ImportRejected(SourceRejected):
    """Some input was rejected, so nothing was written; `summary.rejected` lists why."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(summary.rejected)
        self.summary = summary


def import_articles(
    *,
    corpus: Corpus,
    sources: Sequence[str | os.PathLike[str]],
    limits: Limits | None = None,
    on_progress: ProgressCallback | None = None,
    workers: int | None = None,
    duty_cycle: float = 1.0,
    busy: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Import .txt files, folders, .zip archives and .jsonl files into `corpus`, all or nothing.

    Raises ImportRejected (after rolling back) when anything was rejected. `workers` is the
    number of segmenting processes (default: one per CPU for big PostgreSQL imports).
    `duty_cycle` below 1 paces the import (annotator/throttling.py) so that it works at most
    that share of wall-clock time, database time included, beside a busy site; with `busy` it
    rests only while `busy()` says people are using the site.
    """
    files = expand_paths(sources)
    total = estimate_articles(files)
    limits = limits or limits_from_settings()
    summary = ImportSummary()
    seen_ids: set[str] = set()
    seen_hashes: set[str] = set()
    if workers is None:
        workers = (os.cpu_count() or 1) if total >= POOL_THRESHOLD else 1
    duty = DutyCycle(duty_cycle, busy=busy)
    batch_size = BATCH_SIZE if duty_cycle >= 1 else THROTTLED_BATCH_SIZE
    if on_progress:
        on_progress(0, total)
    with transaction.atomic():
        # Serialise imports into one corpus: two uploads of the same file must not race on the
        # unique constraints, the second one should find the first one's articles and skip them.
        Corpus.objects.select_for_update().filter(pk=corpus.pk).values_list("pk").first()
        with _SentenceWriter(workers=workers) as writer:
            batch: list[tuple[ArticleData, str]] = []
            for processed, item in enumerate(SourceReader(limits).read(files), start=1):
                duty.tick()
                if on_progress:
                    on_progress(processed, max(total, processed))
                if isinstance(item, Problem):
                    summary.rejected.append(item)
                    continue
                digest = item.content_hash
                if item.external_id in seen_ids:
                    reason = f"id {item.external_id!r} appears twice in this import"
                    summary.rejected.append(Problem(item.source, item.line, reason))
                    continue
                if digest in seen_hashes:
                    reason = "same text as another article in this import"
                    summary.rejected.append(Problem(item.source, item.line, reason))
                    continue
                seen_ids.add(item.external_id)
                seen_hashes.add(digest)
                if summary.rejected:
                    continue  # keep validating to report every problem, but write no more
                batch.append((item, digest))
                if len(batch) >= batch_size:
                    _write_batch(corpus, batch, writer, summary)
                    batch = []
                    duty.tick()
            if summary.rejected:
                writer.abandon()
                # Raising inside atomic() rolls back every article written so far.
                raise ImportRejected(summary)
            _write_batch(corpus, batch, writer, summary)
        summary.sentences = writer.sentences
    return summary


def _write_batch(
    corpus: Corpus,
    batch: list[tuple[ArticleData, str]],
    writer: _SentenceWriter,
    summary: ImportSummary,
) -> None:
    if not batch:
        return
    ids = [article.external_id for article, _ in batch]
    digests = [digest for _, digest in batch]
    present = Article.objects.filter(corpus=corpus).filter(
        Q(external_id__in=ids) | Q(content_hash__in=digests)
    )
    present_ids, present_digests = set(), set()
    for external_id, digest in present.values_list("external_id", "content_hash"):
        present_ids.add(external_id)
        present_digests.add(digest)
    new = []
    for article, digest in batch:
        if article.external_id in present_ids or digest in present_digests:
            summary.skipped += 1
            if len(summary.skipped_names) < SKIPPED_NAMES_SHOWN:
                summary.skipped_names.append(article.source)
            continue
        new.append(
            Article(
                corpus=corpus,
                external_id=article.external_id,
                title=article.title,
                url=article.url,
                text=article.text,
                content_hash=digest,
                metadata=article.metadata,
                segmenter_version=SEGMENTER_VERSION,
            )
        )
    # PostgreSQL and SQLite >= 3.35 return the new primary keys from a bulk insert.
    Article.objects.bulk_create(new)
    summary.imported += len(new)
    writer.write([(article.pk, article.text) for article in new])
    if settings.DEBUG and not connection.force_debug_cursor:
        # DEBUG keeps the SQL of every query, article texts included: memory would grow with
        # the import. (Query-counting tests force the debug cursor and keep their log.)
        connection.queries_log.clear()


class _SentenceWriter:
    """Segments articles and stores their sentences, overlapping the two on PostgreSQL."""

    def __init__(self, *, workers: int) -> None:
        self.copy = connection.vendor == "postgresql"
        self.pool: Pool | None = None
        if self.copy and workers > 1:
            # spawn, not fork: a forked child would share the open database connection.
            self.pool = multiprocessing.get_context("spawn").Pool(workers)
        self.workers = workers
        self.pending: deque[AsyncResult[tuple[str, int]]] = deque()
        self.sentences = 0

    def __enter__(self) -> _SentenceWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                while self.pending:
                    self._copy(*self.pending.popleft().get())
        finally:
            if self.pool is not None:
                self.pool.terminate()
                self.pool.join()

    def abandon(self) -> None:
        self.pending.clear()

    def write(self, articles: list[tuple[int, str]]) -> None:
        if not articles:
            return
        if self.pool is not None:
            self.pending.append(self.pool.apply_async(sentence_copy_rows, (articles,)))
            # Keep every worker busy while this process copies the finished batches.
            while len(self.pending) > self.workers:
                self._copy(*self.pending.popleft().get())
        elif self.copy:
            self._copy(*sentence_copy_rows(articles))
        else:
            rows = sentence_tuples(articles)
            Sentence.objects.bulk_create(
                (
                    Sentence(
                        article_id=article_id,
                        ordinal=ordinal,
                        paragraph=paragraph,
                        start=start,
                        end=end,
                        text=text,
                        zone=zone,
                        zone_rule=rule,
                    )
                    for article_id, ordinal, paragraph, start, end, text, zone, rule in rows
                ),
                batch_size=BATCH_SIZE,
            )
            self.sentences += len(rows)

    def _copy(self, rows: str, count: int) -> None:
        with connection.cursor() as cursor:
            cursor.copy_expert(COPY_SENTENCES_SQL, StringIO(rows))
        self.sentences += count
