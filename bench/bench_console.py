"""Benchmark of the managers' console at 100,000 articles: the articles table, counting the
per-article figures, bulk assignment and the throughput page.

Builds (once; `--rebuild` to redo) a database `annotator_bench_console` on the server of
`DATABASE_URL`, loaded with COPY: one corpus of 100,000 articles (10 sentences each, about 1.3 KB
of text: 1,000,000 sentences), 2 annotators per article, 10 annotators; 40,000 articles done by
two annotators, 10,000 done by one and in progress with another, 10,000 in progress with one,
2,000 of the rest skipped once (112,000 assignments); claim-type labels on every sentence of the
finished work and half of the work in progress (1,000,000 annotations, agreeing 85% of the time,
with their history rows and seconds spent); confirmed gold on the sentences of 20,000 articles.

Then, through the whole Django stack in-process (test client, DEBUG off, no network), times:
- counting every article's figures: the rows a first visit makes after an import and after
  the upgrade (`create_missing`), a full recount (`refresh_corpus`) and a recount of what
  changed;
- the articles table: first page, a middle and the last page, every sort both ways, every
  filter, and a search; best and median of `--runs`, with the queries of each request;
- bulk assignment of all 100,000 articles ("all matching", shared out evenly among the 10
  annotators): the preview page, then the apply (rolled back, so the data stay as built), and
  taking back one annotator's work in progress;
- the throughput page over 30 days.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/annotator \\
        .venv/bin/python bench/bench_console.py [--runs 5] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import (  # noqa: E402
    SENTENCE_ZONE,
    SENTENCE_ZONE_COLUMNS,
    copy_rows,
    ensure_database,
    kept_database_url,
    plain_static_files,
    production_environment,
)

BENCH_DB = "annotator_bench_console"
ARTICLES = 100_000
SENTENCES = 10
ANNOTATORS = 10
SLUG = "console"
PLACES = ("Seoul", "Pyongyang", "Beijing", "Tokyo", "Washington", "Moscow", "Geneva")
VERBS = ("rose", "fell", "held steady", "doubled", "slipped")


def reserve_ids(cursor: object, table: str, n: int) -> int:
    cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
    first = cursor.fetchone()[0]
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + n])
    return first


def build() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from annotator.models import Corpus, Membership, Role, StanceTarget, content_hash

    rng = np.random.default_rng(12)
    started = time.perf_counter()
    with transaction.atomic():
        corpus = Corpus.objects.create(name="Console bench", slug=SLUG, annotators_per_article=2)
        corpus.ensure_default_schema()
        StanceTarget.objects.create(corpus=corpus, name="Alliance")
        users = get_user_model().objects
        manager = users.create_user(username="bench-manager")
        Membership.objects.create(user=manager, corpus=corpus, role=Role.MANAGER)
        team = [users.create_user(username=f"bench-annotator-{i}") for i in range(ANNOTATORS)]
        for user in team:
            Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
        claim = list(corpus.choices.filter(layer="claim_type").values_list("pk", "value"))
        ids = [user.pk for user in team]

        with connection.cursor() as cursor:
            first_article = reserve_ids(cursor, "annotator_article", ARTICLES)
            first_sentence = reserve_ids(cursor, "annotator_sentence", ARTICLES * SENTENCES)
            articles, sentences = [], []
            for a in range(ARTICLES):
                place = PLACES[a % len(PLACES)]
                texts = [
                    f"Sentence {i} of story {a} reports that officials in {place} said the "
                    f"figures {VERBS[(a + i) % len(VERBS)]} by {(a * 7 + i) % 90} percent this "
                    "quarter, according to people familiar with the talks."
                    for i in range(SENTENCES)
                ]
                text = " ".join(texts)
                articles.append(
                    (
                        first_article + a,
                        corpus.pk,
                        f"console/{a:06d}.txt",
                        f"Story {a}: talks in {place}",
                        "",
                        text,
                        content_hash(text),
                        "{}",
                        "bench",
                        "2026-01-01T00:00:00Z",
                    )
                )
                start = 0
                for i, sentence_text in enumerate(texts):
                    end = start + len(sentence_text)
                    sentences.append(
                        (
                            first_sentence + a * SENTENCES + i,
                            first_article + a,
                            i,
                            0,
                            start,
                            end,
                            sentence_text,
                        )
                        + SENTENCE_ZONE
                    )
                    start = end + 1
            copy_rows(
                cursor,
                "annotator_article",
                "id, corpus_id, external_id, title, url, text, content_hash, metadata, "
                "segmenter_version, imported_at",
                articles,
            )
            copy_rows(
                cursor,
                "annotator_sentence",
                'id, article_id, ordinal, paragraph, start, "end", text, ' + SENTENCE_ZONE_COLUMNS,
                sentences,
            )
            del articles, sentences

            # Who works on what: [0, 40k) done by two, [40k, 50k) done + in progress,
            # [50k, 60k) in progress with one, [60k, 62k) skipped once, the rest untouched.
            assignments, labelled = [], []
            for a in range(62_000):
                pair = rng.choice(ids, 2, replace=False)
                if a < 40_000:
                    states = [("done", pair[0]), ("done", pair[1])]
                elif a < 50_000:
                    states = [("done", pair[0]), ("assigned", pair[1])]
                elif a < 60_000:
                    states = [("assigned", pair[0])]
                else:
                    states = [("skipped", pair[0])]
                for status, who in states:
                    finished = (
                        f"2026-11-{1 + a % 27:02d}T12:00:00Z" if status != "assigned" else r"\N"
                    )
                    assignments.append(
                        (
                            first_article + a,
                            who,
                            status,
                            manager.pk,
                            "2026-11-01T09:00:00Z",
                            finished,
                            "Not in English" if status == "skipped" else "",
                        )
                    )
                    if status == "done" or (status == "assigned" and a % 2 == 0):
                        labelled.append((a, who))
            copy_rows(
                cursor,
                "annotator_assignment",
                "article_id, annotator_id, status, assigned_by_id, assigned_at, finished_at, "
                "skip_reason",
                assignments,
            )

            truth = rng.integers(0, len(claim), ARTICLES * SENTENCES)

            def annotations() -> object:
                for a, who in labelled:
                    for i in range(SENTENCES):
                        s = a * SENTENCES + i
                        pick = truth[s] if rng.random() < 0.85 else rng.integers(0, len(claim))
                        yield first_sentence + s, who, claim[pick], float(rng.integers(2, 40))

            rows = list(annotations())
            copy_rows(
                cursor,
                "annotator_annotation",
                "sentence_id, annotator_id, layer, target_id, choice_id, seconds_spent, "
                "created_at, updated_at",
                (
                    (s, who, "claim_type", r"\N", choice[0], sec, "2026-11-02T10:00:00Z",
                     "2026-11-02T10:00:00Z")
                    for s, who, choice, sec in rows
                ),
            )  # fmt: skip
            copy_rows(
                cursor,
                "annotator_annotationhistory",
                "sentence_id, annotator_id, layer, target_id, changed_by_id, changed_at, "
                "old_value, new_value, undo_of_id",
                (
                    (s, who, "claim_type", r"\N", who, "2026-11-02T10:00:00Z", "", choice[1],
                     r"\N")
                    for s, who, choice, _ in rows
                ),
            )  # fmt: skip
            n_annotations = len(rows)
            del rows
            copy_rows(
                cursor,
                "annotator_goldlabel",
                "sentence_id, layer, target_id, choice_id, method, confirmed, decided_by_id, "
                "decided_at, note",
                (
                    (first_sentence + s, "claim_type", r"\N", claim[truth[s]][0], "adjudicated",
                     "t", manager.pk, "2026-11-03T10:00:00Z", "")
                    for s in range(20_000 * SENTENCES)
                ),
            )  # fmt: skip
    print(
        f"built: {ARTICLES:,} articles, {ARTICLES * SENTENCES:,} sentences, "
        f"{len(assignments):,} assignments, {n_annotations:,} annotations and history rows, "
        f"{20_000 * SENTENCES:,} gold labels in {time.perf_counter() - started:.0f} s"
    )


def vacuum() -> None:
    from django.db import connection

    # Outside a transaction Django runs in autocommit, where VACUUM may run; it sets the
    # visibility map that index-only counts rely on, as autovacuum would on a live server.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(call: object, runs: int) -> tuple[float, float, int, object]:
    """(best, median) milliseconds and the query count of the last run, and its result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    result = None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = call()
            timings.append((time.perf_counter() - started) * 1000)
    return min(timings), statistics.median(timings), len(queries), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database.")
    parser.add_argument("--runs", type=int, default=5, help="Timed runs of each page.")
    args = parser.parse_args()

    url = kept_database_url(BENCH_DB)
    ensure_database(url, rebuild=args.rebuild)
    production_environment(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client

    from annotator import article_stats
    from annotator.assigning import distribute
    from annotator.models import ArticleStats, Assignment, Corpus, Membership

    plain_static_files()
    call_command("migrate", verbosity=0)
    if not Corpus.objects.filter(slug=SLUG).exists():
        build()
        vacuum()
    corpus = Corpus.objects.get(slug=SLUG)
    manager = Membership.objects.get(corpus=corpus, role="manager").user
    team = [m.user for m in Membership.objects.filter(corpus=corpus, role="annotator")]
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")

    # The table's first visit makes the missing rows (their figures are left to the worker):
    # after an import (the 38,000 articles nobody has had), and after upgrading to this version
    # (every article, 62,000 of them with assignments to count).
    for scenario, rows in (
        ("an import of the never-assigned articles", {"in_progress": 0, "done": 0, "skipped": 0}),
        ("the upgrade (every article)", {}),
    ):
        ArticleStats.objects.filter(corpus=corpus, **rows).delete()
        started = time.perf_counter()
        written = article_stats.create_missing(corpus=corpus, count_later=False)
        elapsed = time.perf_counter() - started
        print(f"first visit after {scenario}: {written:,} rows made in {elapsed:.1f} s")
    started = time.perf_counter()
    written = article_stats.refresh_corpus(corpus=corpus)
    elapsed = time.perf_counter() - started
    print(f"recount every article (refresh_corpus, {written:,}): {elapsed:.1f} s")
    started = time.perf_counter()
    stale = article_stats.refresh_corpus(corpus=corpus, stale_only=True)
    print(
        f"recount changed articles only ({stale:,} changed): {time.perf_counter() - started:.1f} s"
    )
    vacuum()

    client = Client()
    client.force_login(manager)
    base = f"/corpora/{SLUG}/articles/"
    total = ArticleStats.objects.filter(corpus=corpus).count()
    last_page = -(-total // 50)
    some = team[3]
    middle = (
        ArticleStats.objects.filter(corpus=corpus)
        .order_by("article_id")
        .values_list("article_id", flat=True)[54321]
    )
    cases = [
        ("first page", {}),
        ("page 1,000 (rows 49,951-50,000)", {"page": 1000}),
        (f"last page ({last_page:,})", {"page": last_page}),
    ]
    for key in ("article", "labels", "disputed", "gold", "agreement"):
        for prefix in ("", "-"):
            cases.append((f"sort {prefix}{key}", {"sort": f"{prefix}{key}"}))
    cases.append(("sort -agreement, page 1,000", {"sort": "-agreement", "page": 1000}))
    for status in ("unassigned", "in_progress", "done", "skipped"):
        cases.append((f"status {status}", {"status": status}))
    cases += [
        ("annotator (any state)", {"annotator": some.pk}),
        ("annotator, in progress", {"annotator": some.pk, "their_status": "assigned"}),
        ("labels 10-15", {"labels_min": 10, "labels_max": 15}),
        ("disputed at least 3", {"disputed_min": 3}),
        ("gold coverage at most 50 %", {"gold_max": 50}),
        ("agreement at most 60 %", {"agreement_max": 60}),
        ("status done, agreement at most 60 %, sort -disputed", {
            "status": "done", "agreement_max": 60, "sort": "-disputed"}),
        ("search title words (“story 4242”)", {"q": "story 4242"}),
        ("search #id", {"q": f"#{middle}"}),
        ("htmx fragment, first page", {"_htmx": 1}),
    ]  # fmt: skip
    print(f"\narticles table, {total:,} articles, best / median of {args.runs} (ms), queries:")
    worst = 0.0
    for name, params in cases:
        htmx = params.pop("_htmx", None)
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        target = f"{base}?{urlencode(params)}" if params else base

        def load(target: str = target, headers: dict = headers) -> object:
            response = client.get(target, **headers)
            assert response.status_code == 200, (target, response.status_code)
            return response

        best, median, queries, response = timed(load, args.runs)
        worst = max(worst, median)
        rows = response.content.decode().count('<tr id="article-')
        print(f"  {name:58s} {best:7.1f} {median:7.1f}  {queries:2d} q  {rows} rows")
    print(f"  slowest median: {worst:.1f} ms")

    # Bulk assignment: all 100,000 articles, shared out evenly among the ten annotators.
    assign = f"/corpora/{SLUG}/assign/"
    preview = {"mode": "balanced", "annotators": [u.pk for u in team], "preview": 1}
    best, median, queries, response = timed(
        lambda: client.get(assign, preview), max(1, args.runs // 2)
    )
    assert response.status_code == 200
    print(
        f"\nassignment preview page, all {total:,} articles, balanced over {len(team)}: "
        f"best {best:.0f} ms, median {median:.0f} ms, {queries} queries"
    )
    ids = list(ArticleStats.objects.filter(corpus=corpus).values_list("article_id", flat=True))
    before = Assignment.objects.count()
    with transaction.atomic():
        started = time.perf_counter()
        result = distribute(
            corpus=corpus, article_ids=ids, annotators=team, mode="balanced", by=manager
        )
        elapsed = time.perf_counter() - started
        made = Assignment.objects.count() - before
        transaction.set_rollback(True)
    print(
        f"apply, balanced, {result.articles:,} articles: {made:,} assignments made "
        f"({', '.join(str(n) for n in sorted(result.given.values()))} per annotator), "
        f"{result.still_open:,} articles still open, in {elapsed:.1f} s "
        f"({result.articles / elapsed:,.0f} articles/s; rolled back)"
    )
    with transaction.atomic():
        started = time.perf_counter()
        result = distribute(
            corpus=corpus, article_ids=ids, annotators=[some], mode="unassign", by=manager
        )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    print(
        f"take back one annotator's work in progress over {result.articles:,} articles: "
        f"{result.taken_back.total():,} taken back in {elapsed:.1f} s (rolled back)"
    )

    best, median, queries, _ = timed(
        lambda: client.get(f"/corpora/{SLUG}/throughput/", {"days": 30}), 3
    )
    print(
        f"\nthroughput page, 30 days: best {best:.0f} ms, median {median:.0f} ms, {queries} queries"
    )


if __name__ == "__main__":
    main()
