"""Benchmark of dataset releases: build time, memory and file sizes at 200k and 1M sentences.

Builds a scratch database `annotator_bench_release` on the server of `DATABASE_URL` (created and
migrated here, dropped afterwards unless --keep) with corpora generated in SQL: 200,000 and
1,000,000 sentences (articles of 20 sentences; per sentence 3 claim-type labels and 2 stance
labels, so 1M and 5M annotations; confirmed gold on every tenth sentence). Each release is then
cut and built in a fresh process, as the background worker does it (`build_release`), once
without and once with context columns, into a scratch release storage; the script prints
wall-clock and CPU seconds, the process's peak RSS, and the size of every file.

Run: `.venv/bin/python bench/bench_release.py` (DATABASE_URL defaults to the local server);
`--sizes 200k` for the small corpus only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import kept_database_url, production_environment, recreate_database  # noqa: E402

BENCH_DB = "annotator_bench_release"
SENTENCES_PER_ARTICLE = 20
SIZES = {"release-200k": 10_000, "release-1m": 50_000}  # slug -> articles
TARGET_SECONDS = 60
WORDS = sorted(
    {
        word
        for path in (ROOT / "samples").glob("*.txt")
        for word in re.findall(r"[A-Za-z][A-Za-z'-]*", path.read_text(encoding="utf-8"))
    }
)


def django_setup(storage: str | None = None) -> None:
    production_environment(kept_database_url(BENCH_DB))
    if storage:
        os.environ["RELEASES_STORAGE_OPTIONS"] = json.dumps({"location": storage})
    import django

    django.setup()


def build(slugs: list[str]) -> None:
    """Fresh database with the corpora, generated inside PostgreSQL."""
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
    ids = [user.pk for user in annotators]
    for slug in slugs:
        articles = SIZES[slug]
        started = time.perf_counter()
        corpus = Corpus.objects.create(name=slug, slug=slug, guidelines="Label every sentence.")
        corpus.ensure_default_schema()
        target = StanceTarget.objects.create(corpus=corpus, name="China–North Korea alliance")
        Membership.objects.create(user=manager, corpus=corpus, role=Role.MANAGER)
        for user in annotators:
            Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
        choices = {
            layer: list(
                LabelChoice.objects.filter(corpus=corpus, layer=layer)
                .order_by("order")
                .values_list("id", flat=True)
            )
            for layer in (Layer.CLAIM_TYPE, Layer.STANCE)
        }
        with connection.cursor() as cursor:
            # Sentences of 99 characters made of words from samples/, picked by a hash of
            # (article, sentence, word): text that compresses like prose, not like a pattern.
            cursor.execute(
                """
                CREATE OR REPLACE FUNCTION bench_sentence(g bigint, o int, words text[])
                RETURNS text IMMUTABLE LANGUAGE sql AS $$
                  SELECT left(string_agg(words[1 + abs(hashtext(g || ':' || o || ':' || w))
                                                 % array_length(words, 1)], ' ' ORDER BY w), 98)
                         || '.'
                  FROM generate_series(1, 24) w
                $$
                """
            )
            cursor.execute(
                f"""
                INSERT INTO annotator_article (corpus_id, external_id, title, url, text,
                    content_hash, metadata, segmenter_version, imported_at)
                SELECT %s, 'article-' || g || '.txt', 'Article ' || g, '', t,
                       encode(sha256(convert_to(t, 'UTF8')), 'hex'), '{{}}', 'bench', now()
                FROM generate_series(1, %s) g,
                     LATERAL (SELECT string_agg(bench_sentence(g, o, %s), ' ' ORDER BY o) AS t
                              FROM generate_series(0, {SENTENCES_PER_ARTICLE - 1}) o) joined
                """,
                [corpus.pk, articles, WORDS],
            )
            cursor.execute(
                f"""
                INSERT INTO annotator_sentence (article_id, ordinal, paragraph, start, "end", text,
                    zone, zone_rule, zone_confirmed, excluded)
                SELECT a.id, o, o / 5, o * 100, o * 100 + 99,
                       bench_sentence(substr(a.external_id, 9, length(a.external_id) - 12)::bigint,
                                      o, %s),
                       'body', '', false, false
                FROM annotator_article a, generate_series(0, {SENTENCES_PER_ARTICLE - 1}) o
                WHERE a.corpus_id = %s
                -- Article by article, as an import stores them: an article's sentence ids are
                -- contiguous, which the chunked reader's id ranges rely on.
                ORDER BY a.id, o
                """,
                [WORDS, corpus.pk],
            )
            # Three claim-type labels (annotators 0-2), two stances (annotators 3-4); the
            # labels agree often enough to give every label source.
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
                [choices[Layer.CLAIM_TYPE], corpus.pk, ids[:3]],
            )
            cursor.execute(
                """
                INSERT INTO annotator_annotation (sentence_id, annotator_id, layer, target_id,
                    choice_id, seconds_spent, created_at, updated_at)
                SELECT s.id, u.id, 'stance', %s,
                       (%s::bigint[])[1 + (s.id + u.n * (s.id %% 2)) %% 3], 1.5, now(), now()
                FROM annotator_sentence s
                JOIN annotator_article a ON a.id = s.article_id AND a.corpus_id = %s
                CROSS JOIN unnest(%s::bigint[]) WITH ORDINALITY AS u(id, n)
                """,
                [target.pk, choices[Layer.STANCE], corpus.pk, ids[3:]],
            )
            cursor.execute(
                """
                INSERT INTO annotator_goldlabel (sentence_id, layer, target_id, choice_id, method,
                    confirmed, decided_by_id, decided_at, note)
                SELECT s.id, 'claim_type', NULL, %s, 'adjudicated', true, %s, now(), ''
                FROM annotator_sentence s
                JOIN annotator_article a ON a.id = s.article_id AND a.corpus_id = %s
                WHERE s.id %% 10 = 0
                """,
                [choices[Layer.CLAIM_TYPE][0], manager.pk, corpus.pk],
            )
            cursor.execute("ANALYZE")
        print(
            f"built {slug}: {articles * SENTENCES_PER_ARTICLE:,} sentences in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )


def run_release(slug: str, context: bool, storage: str) -> dict[str, object]:
    """Child process: cut and build one release as the worker does, figures as JSON."""
    django_setup(storage)
    from annotator.models import Corpus
    from annotator.releases.building import build_release
    from annotator.releases.catalog import ReleaseOptions, cut_release

    corpus = Corpus.objects.get(slug=slug)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    cpu_started = time.process_time()
    release = cut_release(corpus=corpus, options=ReleaseOptions(context=context), enqueue=False)
    streamed: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        # The last chunk is written: the high-water mark so far is that of streaming the files;
        # the agreement figures (every rating in memory, as on the statistics page) come next.
        if done == total:
            streamed["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            streamed["seconds"] = time.perf_counter() - started

    release = build_release(release.pk, on_progress=progress)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "slug": slug,
        "context": context,
        "number": release.number,
        "status": release.status,
        "sentences": release.counts["sentences"],
        "annotations": release.counts["annotations"],
        "records": release.counts["records"],
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rss_before_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "files_rss_mb": streamed.get("rss_mb", 0.0),
        "files_seconds": streamed.get("seconds", 0.0),
        "files": {entry["name"]: entry["bytes"] for entry in release.files},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--reuse", action="store_true", help="Reuse a kept scratch database.")
    parser.add_argument(
        "--sizes", nargs="+", choices=["200k", "1m"], default=["200k", "1m"], help="Corpora."
    )
    args = parser.parse_args()
    if args.child:
        slug, context, storage = args.child
        print(json.dumps(run_release(slug, context == "1", storage)))
        return
    if args.build:
        build(args.build)
        return
    slugs = [f"release-{size}" for size in args.sizes]
    storage = tempfile.mkdtemp(prefix="bench-releases-")
    try:
        if not args.reuse:
            subprocess.run([sys.executable, __file__, "--build", *slugs], check=True)
        for slug in slugs:
            for context in ("0", "1"):
                figures = json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--child", slug, context, storage],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                verdict = "PASS" if figures["seconds"] <= TARGET_SECONDS else "FAIL"
                label = "with context" if context == "1" else "no context"
                print(
                    f"{slug} release {figures['number']} ({label}): "
                    f"{figures['sentences']:,} sentences, {figures['annotations']:,} annotations, "
                    f"{figures['records']:,} records in {figures['seconds']:.1f} s "
                    f"({figures['cpu_seconds']:.1f} CPU s) [{verdict} <= {TARGET_SECONDS} s]; "
                    f"files written after {figures['files_seconds']:.1f} s; peak RSS "
                    f"{figures['peak_rss_mb']:.0f} MB, {figures['files_rss_mb']:.0f} MB while "
                    f"writing the files (after start-up {figures['rss_before_mb']:.0f} MB); "
                    f"load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                for name, size in figures["files"].items():
                    print(f"    {name:28} {size / 1e6:9.1f} MB", flush=True)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        if not args.keep:
            recreate_database(kept_database_url("postgres"), BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()
