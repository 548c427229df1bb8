"""Benchmark of the streaming dataset export (JSONL) from PostgreSQL, and of an API list page.

Builds a scratch database `annotator_bench_export` on the server of `DATABASE_URL` (created and
migrated here, dropped afterwards unless --keep) with two corpora generated in SQL:
20,000 sentences / 100,000 annotations and 200,000 sentences / 1,000,000 annotations (1,000 and
10,000 articles of 20 sentences; per sentence 3 claim-type labels and 2 stance labels; gold on
every tenth sentence; a note on every hundredth). Each export then runs in its own process,
through the API view (`GET /api/v1/corpora/SLUG/export/?format=jsonl` with a bearer token), and
prints sentence records per second, queries, and that process's peak RSS.

Run: `.venv/bin/python bench/bench_export.py` (DATABASE_URL defaults to the local server).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import kept_database_url, production_environment, recreate_database  # noqa: E402

BENCH_DB = "annotator_bench_export"
SENTENCES_PER_ARTICLE = 20
SIZES = {"export-20k": 1_000, "export-200k": 10_000}  # slug -> articles
RUNS = 3


def django_setup() -> None:
    production_environment(kept_database_url(BENCH_DB))
    # Production pacing (EXPORT_DUTY_CYCLE) stays on: with nobody using the site, as here, the
    # export must run at full speed.
    import django

    django.setup()


def build() -> None:
    """Fresh database with both corpora, generated inside PostgreSQL."""
    recreate_database(kept_database_url("postgres"), BENCH_DB)
    django_setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from annotator.models import Corpus, LabelChoice, Layer, Membership, Role, StanceTarget

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    manager = users.create_user(username="bench-manager", password="x")
    annotators = [users.create_user(username=f"bench-annotator-{n}") for n in range(5)]
    for slug, articles in SIZES.items():
        started = time.perf_counter()
        corpus = Corpus.objects.create(name=slug, slug=slug)
        corpus.ensure_default_schema()
        target = StanceTarget.objects.create(corpus=corpus, name="China–North Korea alliance")
        Membership.objects.create(user=manager, corpus=corpus, role=Role.MANAGER)
        for user in annotators:
            Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
        claim = list(
            LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE).values_list(
                "id", flat=True
            )
        )
        stance = list(
            LabelChoice.objects.filter(corpus=corpus, layer=Layer.STANCE).values_list(
                "id", flat=True
            )
        )
        ids = [user.pk for user in annotators]
        sentence_sql = (
            "rpad(a_title || ' sentence ' || o || ' reports what officials said about the "
            "talks.', 99, '.')"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO annotator_article (corpus_id, external_id, title, url, text,
                    content_hash, metadata, segmenter_version, imported_at)
                SELECT %s, 'article-' || g || '.txt', a_title, 'https://example.org/' || g, t,
                       encode(sha256(convert_to(t, 'UTF8')), 'hex'), '{{}}', 'bench', now()
                FROM generate_series(1, %s) g,
                     LATERAL (SELECT 'Article ' || g AS a_title) named,
                     LATERAL (SELECT string_agg({sentence_sql}, ' ' ORDER BY o) AS t
                              FROM generate_series(0, {SENTENCES_PER_ARTICLE - 1}) o) joined
                """,
                [corpus.pk, articles],
            )
            cursor.execute(
                f"""
                INSERT INTO annotator_sentence (article_id, ordinal, paragraph, start, "end", text,
                    zone, zone_rule, zone_confirmed, excluded)
                SELECT a.id, o, o / 5, o * 100, o * 100 + 99,
                       {sentence_sql.replace("a_title", "a.title")},
                       'body', '', false, false
                FROM annotator_article a, generate_series(0, {SENTENCES_PER_ARTICLE - 1}) o
                WHERE a.corpus_id = %s
                """,
                [corpus.pk],
            )
            # Three claim-type labels (annotators 0-2), two stances (annotators 3-4).
            cursor.execute(
                """
                INSERT INTO annotator_annotation (sentence_id, annotator_id, layer, target_id,
                    choice_id, seconds_spent, created_at, updated_at)
                SELECT s.id, u.id, 'claim_type', NULL,
                       (%s::bigint[])[1 + (s.id + u.n * (s.id %% 3)) %% 4],
                       2.5, now(), now()
                FROM annotator_sentence s
                JOIN annotator_article a ON a.id = s.article_id AND a.corpus_id = %s
                CROSS JOIN unnest(%s::bigint[]) WITH ORDINALITY AS u(id, n)
                """,
                [claim, corpus.pk, ids[:3]],
            )
            cursor.execute(
                """
                INSERT INTO annotator_annotation (sentence_id, annotator_id, layer, target_id,
                    choice_id, seconds_spent, created_at, updated_at)
                SELECT s.id, u.id, 'stance', %s,
                       (%s::bigint[])[1 + (s.id + u.n) %% 3], 1.5, now(), now()
                FROM annotator_sentence s
                JOIN annotator_article a ON a.id = s.article_id AND a.corpus_id = %s
                CROSS JOIN unnest(%s::bigint[]) WITH ORDINALITY AS u(id, n)
                """,
                [target.pk, stance, corpus.pk, ids[3:]],
            )
            cursor.execute(
                """
                INSERT INTO annotator_goldlabel (sentence_id, layer, target_id, choice_id, method,
                    confirmed, decided_by_id, decided_at, note)
                SELECT s.id, 'claim_type', NULL, %s, 'majority', true, %s, now(), ''
                FROM annotator_sentence s
                JOIN annotator_article a ON a.id = s.article_id AND a.corpus_id = %s
                WHERE s.id %% 10 = 0
                """,
                [claim[0], manager.pk, corpus.pk],
            )
            cursor.execute(
                """
                INSERT INTO annotator_sentencenote (sentence_id, annotator_id, unsure, note,
                    updated_at)
                SELECT s.id, %s, true, 'Hard to tell: ' || s.id, now()
                FROM annotator_sentence s
                JOIN annotator_article a ON a.id = s.article_id AND a.corpus_id = %s
                WHERE s.id %% 100 = 0
                """,
                [ids[0], corpus.pk],
            )
            cursor.execute("ANALYZE")
        print(
            f"built {slug}: {articles * SENTENCES_PER_ARTICLE:,} sentences in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )


def token_client():  # noqa: ANN201 - a Django test client
    from django.contrib.auth import get_user_model
    from django.test import Client

    from annotator.models import ApiToken
    from annotator.tokens import create_token

    manager = get_user_model().objects.get(username="bench-manager")
    # Reruns on a kept database would otherwise meet the hourly token limit.
    ApiToken.objects.filter(user=manager).delete()
    _, raw = create_token(user=manager, name=f"bench-{time.time_ns()}")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def run_export(slug: str) -> dict[str, float]:
    """Child process: one export through the API view, figures as JSON."""
    django_setup()
    from django.db import connection
    from django.db.backends.signals import connection_created

    from annotator.models import Annotation, Sentence

    client = token_client()
    # A warm server: URLconf, views and DRF are imported by the first request, not the export.
    assert client.get("/api/v1/corpora/").status_code == 200
    sentences = Sentence.objects.filter(article__corpus__slug=slug).count()
    annotations = Annotation.objects.filter(sentence__article__corpus__slug=slug).count()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queries = []

    def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        queries.append(sql[:40])
        return execute(sql, params, many, context)

    # The export is produced by a thread with its own connection (EXPORT_NICENESS): count the
    # queries of every connection opened from here on, as well as this thread's.
    def count_on_new_connection(sender, connection, **kwargs):  # noqa: ANN001, ANN003, ANN202
        connection.execute_wrappers.append(count)

    connection_created.connect(count_on_new_connection)
    records = 0
    size = 0
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        cpu_started = time.process_time()
        response = client.get(f"/api/v1/corpora/{slug}/export/?format=jsonl")
        for piece in response.streaming_content:
            records += piece.count(b"\n")
            size += len(piece)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    assert response.status_code == 200 and records == sentences, (response.status_code, records)
    return {
        "sentences": sentences,
        "annotations": annotations,
        "seconds": elapsed,
        "records_per_second": records / elapsed,
        # Contention-proof figure: records per CPU second of this process alone.
        "records_per_cpu_second": records / cpu,
        "megabytes": size / 1e6,
        "rss_before_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--reuse", action="store_true", help="Reuse a kept scratch database.")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_export(args.child)))
        return
    if args.build:
        build()
        return
    try:
        if not args.reuse:
            # Built in its own process, so the exports start from a cold interpreter.
            subprocess.run([sys.executable, __file__, "--build"], check=True)
        for slug in SIZES:
            # Three runs, each in a fresh process: the machine is shared, so the median and
            # the best say more than one run.
            runs = [
                json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--child", slug],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                for _ in range(RUNS)
            ]
            rates = sorted(run["records_per_second"] for run in runs)
            per_cpu = max(run["records_per_cpu_second"] for run in runs)
            figures = runs[0]
            print(
                f"{slug}: {figures['sentences']:,} sentences, {figures['annotations']:,} "
                f"annotations -> {figures['megabytes']:.0f} MB JSONL; records/s median "
                f"{statistics.median(rates):,.0f}, best {rates[-1]:,.0f} ({RUNS} runs; per CPU "
                f"second of the exporting process {per_cpu:,.0f}); "
                f"peak RSS max {max(r['peak_rss_mb'] for r in runs):.0f} MB "
                f"(after setup {figures['rss_before_mb']:.0f} MB); {figures['queries']} queries",
                flush=True,
            )
    finally:
        if not args.keep:
            recreate_database(kept_database_url("postgres"), BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()
