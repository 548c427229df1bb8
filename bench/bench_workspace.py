"""Benchmark of the annotation workspace: article page, label save and the page on the wire.

Creates a fresh database (`<DATABASE_URL's name>_bench_ws`, on the server of `DATABASE_URL`,
migrated here, dropped afterwards), a corpus with two stance targets and a 300-sentence article
assigned to an annotator, then times requests through Django's full middleware stack in-process
(test client, no network), with production settings (DEBUG off):
- the article page (GET), first with no labels, then with every sentence labelled;
- a label save (htmx POST that swaps one row), each one a real change with its history row,
  interleaved with the floor: an anonymous GET of the login page, which every Django request
  costs at least (middleware, a template, the CSRF token). The save/floor ratio of medians is
  the figure issue 10 sets at most 2;
- the demo corpus's 25-sentence article page, its size plain and compressed (gzip, brotli).
Prints median and 95th percentile in milliseconds, and the query count of each request.

Run: `.venv/bin/python bench/bench_workspace.py` (DATABASE_URL defaults to the local server).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import database_urls, plain_static_files, production_environment, recreate_database  # noqa: E402

SENTENCES = 300


def timed(samples: list[float], call: object, cpu: list[float] | None = None) -> object:
    """Run `call`, adding its wall-clock milliseconds to `samples` and, if given, the CPU
    milliseconds of this process to `cpu` (time spent waiting for PostgreSQL excluded)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = call()
    samples.append((time.perf_counter() - start) * 1000)
    if cpu is not None:
        cpu.append((time.process_time() - start_cpu) * 1000)
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
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument(
        "--profile", action="store_true", help="Print where the saves spend their time (cProfile)."
    )
    parser.add_argument("--profile-sort", default="cumulative", help="pstats sort key")
    parser.add_argument(
        "--no-flush",
        action="store_true",
        help="Measure without waiting for the WAL flush of each commit (synchronous_commit off "
        "for the bench's own connection): the application's cost alone, without the disk's.",
    )
    args = parser.parse_args()

    name, bench_url, maintenance_url = database_urls("ws")
    production_environment(bench_url)
    recreate_database(maintenance_url, name)
    try:
        run(args, name)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(maintenance_url, name, drop_only=True)


def run(args: argparse.Namespace, database: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from tqdm import tqdm

    from annotator.forms import label_value
    from annotator.models import (
        Assignment,
        Corpus,
        Layer,
        Membership,
        Role,
        StanceTarget,
    )
    from tests.factories import create_article

    plain_static_files()
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
    article = create_article(
        corpus=corpus, text=text, external_id="bench.txt", title="A long article"
    )
    sentences = list(article.sentences.order_by("ordinal"))
    assert len(sentences) == SENTENCES, len(sentences)
    user = get_user_model().objects.create_user("bench-annotator")
    Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
    Assignment.objects.create(article=article, annotator=user)

    client = Client(secure=True)
    client.force_login(user)
    anonymous = Client(secure=True)
    page_url = reverse("annotator:article-detail", kwargs={"pk": article.pk})
    login_url = reverse("login")
    claim = list(corpus.choices.filter(layer=Layer.CLAIM_TYPE).order_by("order"))
    print(f"Article of {len(sentences)} sentences, 2 stance targets; database {database}")

    def page_round(name: str) -> None:
        client.get(page_url)  # warm-up
        samples: list[float] = []
        cpu: list[float] = []
        for _ in tqdm(range(args.page_requests), desc=name, leave=False):
            response = timed(samples, lambda: client.get(page_url), cpu)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(page_url)
        report(name, samples, len(queries))
        print(f"{'':<42} CPU of the process, median {statistics.median(cpu):7.2f} ms")

    page_round("article page, no labels yet")

    def save(n: int) -> object:
        sentence = sentences[n % len(sentences)]
        # Each pass over the article changes every label, so each save writes history.
        value = label_value(claim[(n // len(sentences)) % len(claim)])
        url = reverse("annotator:sentence-label", kwargs={"pk": sentence.pk})
        # Form-encoded, as htmx sends it (the test client's default is multipart).
        return client.post(
            url,
            urlencode({"label": value, "seconds": "3.2"}),
            content_type="application/x-www-form-urlencoded",
            HTTP_HX_REQUEST="true",
        )

    if args.no_flush:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
    # Warm-up: the first request of each kind pays for imports, template loading, the schema.
    save(args.saves)
    anonymous.get(login_url)
    saves: list[float] = []
    floor: list[float] = []
    saves_cpu: list[float] = []
    floor_cpu: list[float] = []
    # Interleaved, so a change of load on the shared machine moves both figures alike.
    for n in tqdm(range(args.saves), desc="label saves and floor", leave=False):
        response = timed(saves, lambda n=n: save(n), saves_cpu)
        assert response.status_code == 200, response.content[:300]
        response = timed(floor, lambda: anonymous.get(login_url), floor_cpu)
        assert response.status_code == 200
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [save(n) for n in range(args.saves)])
        pstats.Stats(profiler).sort_stats(args.profile_sort).print_stats(45)
    with CaptureQueriesContext(connection) as queries:
        save(0)
    save_queries = len(queries)
    with CaptureQueriesContext(connection) as queries:
        anonymous.get(login_url)
    report("floor: anonymous GET /accounts/login/", floor, len(queries))
    flush = " (no WAL flush wait)" if args.no_flush else ""
    report(f"label save (htmx, one row back){flush}", saves, save_queries)
    ratio = statistics.median(saves) / statistics.median(floor)
    print(f"{'save / floor (medians, wall clock)':<42} ratio {ratio:.2f}  (target <= 2)")
    cpu_ratio = statistics.median(saves_cpu) / statistics.median(floor_cpu)
    save_cpu, floor_cpu_ms = statistics.median(saves_cpu), statistics.median(floor_cpu)
    print(
        f"{'save / floor (medians, CPU of this process)':<42} ratio {cpu_ratio:.2f}"
        f"  (save {save_cpu:.2f} ms, floor {floor_cpu_ms:.2f} ms)"
    )

    page_round("article page, every sentence labelled")
    page_sizes()


def page_sizes() -> None:
    """A 25-sentence article page of the demo corpus as sent: plain, gzip and brotli.

    The article is the first 25 sentences of a demo sample, in the demo corpus (its guidelines,
    schema and one stance target), labelled on every layer by the annotator viewing it.
    """
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from annotator.annotating import save_label
    from annotator.models import Article, Assignment, Corpus, Sentence, content_hash
    from annotator.segmentation import SEGMENTER_VERSION, split_sentences

    with contextlib.redirect_stdout(io.StringIO()):
        call_command("setup_demo")
    corpus = Corpus.objects.get(slug="demo")
    source = (ROOT / "samples" / "003_5c2d2b785f327099.txt").read_text(encoding="utf-8")
    spans = split_sentences(source)[:25]
    text = source[: spans[-1].end]
    article = Article.objects.create(
        corpus=corpus,
        external_id="bench-25.txt",
        title="Twenty-five sentences",
        text=text,
        content_hash=content_hash(text),
        segmenter_version=SEGMENTER_VERSION,
    )
    sentences = Sentence.objects.bulk_create(
        Sentence(
            article=article,
            ordinal=i,
            paragraph=span.paragraph,
            start=span.start,
            end=span.end,
            text=text[span.start : span.end],
        )
        for i, span in enumerate(spans)
    )
    user = get_user_model().objects.get(username="demo-annotator-1")
    Assignment.objects.create(article=article, annotator=user)
    claim = corpus.choices.get(value="opinion")
    stance = corpus.choices.get(value="against")
    target = corpus.stance_targets.get()
    for sentence in Sentence.objects.select_related("article").filter(article=article):
        save_label(sentence=sentence, annotator=user, layer=claim.layer, target=None, choice=claim)
        save_label(
            sentence=sentence, annotator=user, layer=stance.layer, target=target, choice=stance
        )
    client = Client(secure=True)
    client.force_login(user)
    sizes = []
    for encoding in ("", "gzip", "br", "br, gzip"):
        headers = {"HTTP_ACCEPT_ENCODING": encoding} if encoding else {}
        response = client.get(article.get_absolute_url(), **headers)
        assert response.status_code == 200
        sent_as = response.get("Content-Encoding", "identity")
        sizes.append(f"{encoding or 'none'}: {sent_as} {len(response.content) / 1000:.1f} kB")
    print(f"{len(sentences)}-sentence demo article page, by Accept-Encoding: {'; '.join(sizes)}")


if __name__ == "__main__":
    main()
