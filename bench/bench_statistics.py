"""Benchmark of the statistics of stored annotations, end to end from PostgreSQL.

Builds (once; `--rebuild` to redo) a database `annotator_bench_statistics` on the server of
`DATABASE_URL` with two corpora, loaded with COPY:
- "large": 200,000 sentences, 5 annotators, 3 per sentence: 600,000 claim-type annotations and
  400,000 stance annotations (one target, the first 133,334 sentences): 1,000,000 annotations;
- "page": 100,000 claim-type annotations (33,334 sentences x 3), for the statistics page.
Then times `corpus_statistics` (database read, every coefficient, 1,000-replicate bootstrap for
every layer, names) on the large corpus, and the whole statistics page (view + templates + SVG)
on the page corpus, and prints peak RSS. Run (the first run builds the data, about a minute):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/annotator \
        .venv/bin/python bench/bench_statistics.py
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import (  # noqa: E402
    SENTENCE_ZONE,
    SENTENCE_ZONE_COLUMNS,
    copy_rows,
    ensure_database,
    kept_database_url,
)

BENCH_DB = "annotator_bench_statistics"
SENTENCES_PER_ARTICLE = 20
ANNOTATORS = 5
PER_SENTENCE = 3


def build_corpus(*, slug: str, n_sentences: int, stance_sentences: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from tqdm import tqdm

    from annotator.models import Corpus, Membership, Role, StanceTarget, content_hash

    rng = np.random.default_rng(seed)
    with transaction.atomic():
        corpus = Corpus.objects.create(name=f"Bench {slug}", slug=slug)
        corpus.ensure_default_schema()
        target = StanceTarget.objects.create(corpus=corpus, name="Alliance")
        users = [
            get_user_model().objects.create_user(username=f"{slug}-annotator-{i}")
            for i in range(ANNOTATORS)
        ]
        manager = get_user_model().objects.create_user(username=f"{slug}-manager")
        Membership.objects.create(user=manager, corpus=corpus, role=Role.MANAGER)
        for user in users:
            Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
        claim = list(corpus.choices.filter(layer="claim_type").values_list("pk", flat=True))
        stance = list(corpus.choices.filter(layer="stance").values_list("pk", flat=True))

        n_articles = -(-n_sentences // SENTENCES_PER_ARTICLE)
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('annotator_article', 'id'))")
            first_article = cursor.fetchone()[0]
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('annotator_article', 'id'), %s)",
                [first_article + n_articles],
            )
            cursor.execute("SELECT nextval(pg_get_serial_sequence('annotator_sentence', 'id'))")
            first_sentence = cursor.fetchone()[0]
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('annotator_sentence', 'id'), %s)",
                [first_sentence + n_sentences],
            )
            articles, sentences = [], []
            for a in tqdm(range(n_articles), desc=f"{slug}: articles", unit=" articles"):
                count = min(SENTENCES_PER_ARTICLE, n_sentences - a * SENTENCES_PER_ARTICLE)
                texts = [f"Sentence {a}-{i} says something." for i in range(count)]
                text = " ".join(texts)
                articles.append(
                    (
                        first_article + a,
                        corpus.pk,
                        f"{slug}-{a}.txt",
                        "",
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
                    sentence_id = first_sentence + a * SENTENCES_PER_ARTICLE + i
                    end = start + len(sentence_text)
                    sentences.append(
                        (sentence_id, first_article + a, i, 0, start, end, sentence_text)
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

            def annotations(layer: str, choices: list[int], n: int, target_id: object) -> None:
                truth = rng.integers(0, len(choices), n)
                who = np.argsort(rng.random((n, ANNOTATORS)), axis=1)[:, :PER_SENTENCE]
                right = rng.random((n, PER_SENTENCE)) < 0.85
                wrong = (truth[:, None] + rng.integers(1, len(choices), (n, PER_SENTENCE))) % len(
                    choices
                )
                label = np.where(right, truth[:, None], wrong)
                rows = (
                    (
                        first_sentence + s,
                        users[who[s, j]].pk,
                        layer,
                        target_id,
                        choices[label[s, j]],
                        0,
                        "2026-01-01T00:00:00Z",
                        "2026-01-01T00:00:00Z",
                    )
                    for s in tqdm(range(n), desc=f"{slug}: {layer}", unit=" sentences")
                    for j in range(PER_SENTENCE)
                )
                copy_rows(
                    cursor,
                    "annotator_annotation",
                    "sentence_id, annotator_id, layer, target_id, choice_id, seconds_spent, "
                    "created_at, updated_at",
                    rows,
                )

            annotations("claim_type", claim, n_sentences, r"\N")
            if stance_sentences:
                annotations("stance", stance, stance_sentences, target.pk)
            cursor.execute("ANALYZE")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database.")
    parser.add_argument("--runs", type=int, default=3, help="Timed runs; the best is reported.")
    args = parser.parse_args()

    url = kept_database_url(BENCH_DB)
    ensure_database(url, rebuild=args.rebuild)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "annotator.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import RequestFactory

    from annotator.models import Annotation, Corpus
    from annotator.statistics import corpus_statistics
    from annotator.views.statistics import corpus_statistics_page

    call_command("migrate", verbosity=0)
    if not Corpus.objects.filter(slug="large").exists():
        build_corpus(slug="large", n_sentences=200_000, stance_sentences=133_334, seed=1)
    if not Corpus.objects.filter(slug="page").exists():
        build_corpus(slug="page", n_sentences=33_334, stance_sentences=0, seed=2)

    large = Corpus.objects.get(slug="large")
    n_large = Annotation.objects.filter(sentence__article__corpus=large).count()
    print(f"large corpus: {n_large:,} annotations")
    timings = []
    for _ in range(args.runs):
        large = Corpus.objects.get(slug="large")
        started = time.perf_counter()
        result = corpus_statistics(large)
        timings.append(time.perf_counter() - started)
    claim, stance = result["layers"]
    print(
        f"corpus_statistics, {n_large:,} annotations, 2 layers, 1,000-replicate bootstrap each: "
        f"best {min(timings):.2f} s of {args.runs} (all: {', '.join(f'{t:.2f}' for t in timings)})"
    )
    print(
        f"  claim type: {claim['n_ratings']:,} ratings, alpha {claim['krippendorff_alpha']:.3f} "
        f"CI {claim['krippendorff_alpha_ci'][0]:.3f}-{claim['krippendorff_alpha_ci'][1]:.3f}; "
        f"stance: {stance['n_ratings']:,} ratings, alpha {stance['krippendorff_alpha']:.3f}"
    )
    print(f"  peak RSS so far: {peak_rss_mb():.0f} MB")

    page = Corpus.objects.get(slug="page")
    manager = page.memberships.get(role="manager").user
    n_page = Annotation.objects.filter(sentence__article__corpus=page).count()
    factory = RequestFactory()
    timings = []
    for _ in range(args.runs):
        request = factory.get(f"/corpora/{page.slug}/statistics/")
        request.user = manager
        started = time.perf_counter()
        response = corpus_statistics_page(request, slug=page.slug)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    print(
        f"statistics page (view, templates, SVG), {n_page:,} annotations: "
        f"best {min(timings):.2f} s of {args.runs} (all: {', '.join(f'{t:.2f}' for t in timings)})"
    )
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
