"""Benchmark of the annotation workspace: article page and label save for a 300-sentence article.

Creates a fresh database `annotator_bench_ws` on the server of `DATABASE_URL` (migrated here,
dropped afterwards), a corpus with two stance targets and a 300-sentence article assigned to an
annotator, then times requests through Django's full middleware stack in-process (test client,
no network), with production settings (DEBUG off):
- the article page (GET), first with no labels, then with every sentence labelled;
- a label save (htmx POST that swaps one row), each one a real change with its history row.
Prints median and 95th percentile in milliseconds, and the query count of each request.

Run: `.venv/bin/python bench/bench_workspace.py` (DATABASE_URL defaults to the local server).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "annotator_bench_ws"
SENTENCES = 300


def database_urls() -> tuple[str, str]:
    """(bench database URL, maintenance database URL) on the server of DATABASE_URL."""
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/annotator"))
    return (
        urlunsplit(base._replace(path=f"/{BENCH_DB}")),
        urlunsplit(base._replace(path="/postgres")),
    )


def recreate_database(maintenance_url: str, *, drop_only: bool = False) -> None:
    import psycopg2

    connection = psycopg2.connect(maintenance_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    connection.close()


def timed(samples: list[float], call: object) -> object:
    start = time.perf_counter()
    result = call()
    samples.append((time.perf_counter() - start) * 1000)
    return result


def report(name: str, samples: list[float], queries: int) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{name:<42} n={len(samples):>4}  median {statistics.median(samples):7.2f} ms"
        f"  p95 {p95:7.2f} ms  queries {queries}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-requests", type=int, default=60)
    parser.add_argument("--saves", type=int, default=600)
    args = parser.parse_args()

    bench_url, maintenance_url = database_urls()
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
        }
    )
    recreate_database(maintenance_url)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(maintenance_url, drop_only=True)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse
    from tqdm import tqdm

    from annotator.forms import label_value
    from annotator.models import (
        Article,
        Assignment,
        Corpus,
        Layer,
        Membership,
        Role,
        Sentence,
        StanceTarget,
        content_hash,
    )
    from annotator.segmentation import SEGMENTER_VERSION, split_sentences

    # Production storage needs collectstatic's manifest; plain static URLs cost the same here.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    call_command("migrate", verbosity=0)
    corpus = Corpus.objects.create(
        name="Bench", slug="bench", guidelines="# Guidelines\n\nBe kind."
    )
    corpus.ensure_default_schema()
    for order, name in enumerate(("Sanctions", "Alliance")):
        StanceTarget.objects.create(corpus=corpus, name=name, order=order)
    text = "\n\n".join(
        " ".join(
            f"Officials said on day {p * 5 + s} that talks about sanctions would continue."
            for s in range(5)
        )
        for p in range(SENTENCES // 5)
    )
    article = Article.objects.create(
        corpus=corpus,
        external_id="bench.txt",
        title="A long article",
        text=text,
        content_hash=content_hash(text),
        segmenter_version=SEGMENTER_VERSION,
    )
    Sentence.objects.bulk_create(
        Sentence(
            article=article,
            ordinal=i,
            paragraph=span.paragraph,
            start=span.start,
            end=span.end,
            text=text[span.start : span.end],
        )
        for i, span in enumerate(split_sentences(text))
    )
    sentences = list(article.sentences.order_by("ordinal"))
    assert len(sentences) == SENTENCES, len(sentences)
    user = get_user_model().objects.create_user("bench-annotator")
    Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
    Assignment.objects.create(article=article, annotator=user)

    client = Client(secure=True)
    client.force_login(user)
    page_url = reverse("annotator:article-detail", kwargs={"pk": article.pk})
    claim = list(corpus.choices.filter(layer=Layer.CLAIM_TYPE).order_by("order"))
    print(f"Article of {len(sentences)} sentences, 2 stance targets; database {BENCH_DB}")

    def page_round(name: str) -> None:
        client.get(page_url)  # warm-up
        samples: list[float] = []
        for _ in tqdm(range(args.page_requests), desc=name, leave=False):
            response = timed(samples, lambda: client.get(page_url))
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(page_url)
        report(name, samples, len(queries))

    page_round("article page, no labels yet")

    samples: list[float] = []
    for n in tqdm(range(args.saves), desc="label saves", leave=False):
        sentence = sentences[n % len(sentences)]
        # Each pass over the article changes every label, so each save writes history.
        value = label_value(claim[(n // len(sentences)) % len(claim)])
        url = reverse("annotator:sentence-label", kwargs={"pk": sentence.pk})
        response = timed(
            samples,
            lambda url=url, value=value: client.post(
                url, {"label": value, "seconds": "3.2"}, HTTP_HX_REQUEST="true"
            ),
        )
        assert response.status_code == 200, response.content[:300]
    with CaptureQueriesContext(connection) as queries:
        client.post(url, {"label": label_value(claim[3]), "seconds": "1"}, HTTP_HX_REQUEST="true")
    report("label save (htmx, one row back)", samples, len(queries))

    page_round("article page, every sentence labelled")


if __name__ == "__main__":
    main()
