"""Benchmark of model assistance on the annotators' and curators' side: suggestions on the article
page and in a label save, the stored uncertainty that uncertainty-first assignment orders by,
"Next article" in both orders, and "Check these".

Creates a fresh database (`<DATABASE_URL's name>_bench_assist_ws`, on the server of DATABASE_URL,
migrated here, dropped afterwards) with a corpus of `--articles` articles of 30 sentences, a
claim-type prediction with probabilities for every sentence (written by
`assisting.write_predictions`, as training does, with out-of-fold probabilities and confirmed
gold on every sentence), then times, in-process with production settings (DEBUG off):
- `uncertainty.refresh_article_uncertainty` over the whole corpus (what runs after training);
- "Next article" (`assigning.next_assignment`), fair and uncertainty-first, each call followed
  by finishing the article so the next call picks again;
- the article page and a label save (htmx) with suggestions off and "preselect";
- the curation page's "Check these" (`?status=check`).
Prints median and 95th percentile in milliseconds, and the query count of each request.

Run: `.venv/bin/python bench/bench_assist_workspace.py [--articles 2000]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import database_urls, plain_static_files, production_environment, recreate_database  # noqa: E402

SENTENCES_PER_ARTICLE = 30
VALUES = ("factual_claim", "opinion", "user_comment", "not_a_claim")


def report(name: str, samples: list[float], queries: int | str = "") -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{name:<48} n={len(samples):>4}  median {statistics.median(samples):8.2f} ms"
        f"  p95 {p95:8.2f} ms  queries {queries}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    name, bench_url, maintenance_url = database_urls("assist_ws")
    production_environment(bench_url)
    recreate_database(maintenance_url, name)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(maintenance_url, name, drop_only=True)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from annotator.assigning import next_assignment
    from annotator.assisting import write_predictions
    from annotator.forms import label_value
    from annotator.models import (
        Annotation,
        Article,
        Assignment,
        AssignmentStatus,
        Corpus,
        GoldLabel,
        GoldMethod,
        LabelChoice,
        Layer,
        Membership,
        ModelKind,
        ModelStatus,
        ModelVersion,
        Role,
        Sentence,
        StanceTarget,
    )
    from annotator.uncertainty import refresh_article_uncertainty

    plain_static_files()
    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    curator = users.create_user("curator", password="pw")
    corpus = Corpus.objects.create(name="Bench", slug="bench", annotators_per_article=1)
    corpus.ensure_default_schema()
    StanceTarget.objects.create(corpus=corpus, name="Alliance", order=0)
    Membership.objects.create(user=curator, corpus=corpus, role=Role.CURATOR)
    choices = {
        c.value: c for c in LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE)
    }
    order = [choices[v] for v in VALUES]

    print(f"Creating {args.articles} articles of {SENTENCES_PER_ARTICLE} sentences ...")
    started = time.perf_counter()
    parts = [f"Sentence {n} of the article." for n in range(SENTENCES_PER_ARTICLE)]
    text = " ".join(parts)
    spans, start = [], 0
    for part in parts:
        spans.append((start, start + len(part), part))
        start += len(part) + 1
    articles = Article.objects.bulk_create(
        Article(corpus=corpus, external_id=f"a{n}", text=text, content_hash=f"{n:064x}")
        for n in range(args.articles)
    )
    Sentence.objects.bulk_create(
        (
            Sentence(article=a, ordinal=i, paragraph=0, start=begin, end=end, text=part)
            for a in articles
            for i, (begin, end, part) in enumerate(spans)
        ),
        batch_size=10_000,
    )
    version = ModelVersion.objects.create(
        corpus=corpus,
        layer=Layer.CLAIM_TYPE,
        kind=ModelKind.TRAINED,
        name="baseline",
        version="1",
        number=1,
        status=ModelStatus.DONE,
        label_source="gold",
    )
    rng = random.Random(1)
    rows, gold = [], []
    for sentence_id in Sentence.objects.order_by("id").values_list("id", flat=True).iterator():
        true = rng.randrange(4)
        top = rng.uniform(0.4, 0.95)
        p = [(1 - top) / 3] * 4
        p[true] = top
        distribution = {v: round(x, 4) for v, x in zip(VALUES, p, strict=True)}
        rows.append((sentence_id, order[true].pk, top, distribution, distribution))
        given = true if rng.random() > 0.01 else (true + 1) % 4  # 1 % flipped gold
        gold.append(
            GoldLabel(
                sentence_id=sentence_id,
                layer=Layer.CLAIM_TYPE,
                choice=order[given],
                method=GoldMethod.ADJUDICATED,
                decided_by=curator,
                decided_at=timezone.now(),
            )
        )
    write_predictions(version, rows)
    GoldLabel.objects.bulk_create(gold, batch_size=10_000)
    print(f"  {len(rows)} sentences, predictions and gold in {time.perf_counter() - started:.1f} s")

    samples: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        scored = refresh_article_uncertainty(corpus=corpus)
        samples.append((time.perf_counter() - start) * 1000)
    report(f"refresh_article_uncertainty ({scored} articles)", samples)

    for order_name in ("fair", "uncertainty"):
        corpus.assignment_order = order_name
        corpus.save(update_fields=["assignment_order"])
        annotator = users.create_user(f"next-{order_name}", password="pw")
        Membership.objects.create(user=annotator, corpus=corpus, role=Role.ANNOTATOR)
        samples = []
        for _ in range(args.requests):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                assignment = next_assignment(corpus=corpus, annotator=annotator)
                samples.append((time.perf_counter() - start) * 1000)
            Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.DONE)
        report(f"next_assignment, {order_name} order", samples, len(queries))
        Assignment.objects.filter(annotator=annotator).delete()

    annotator = users.create_user("labeller", password="pw")
    Membership.objects.create(user=annotator, corpus=corpus, role=Role.ANNOTATOR)
    article = articles[0]
    Assignment.objects.create(article=article, annotator=annotator)
    sentences = list(Sentence.objects.filter(article=article).order_by("ordinal"))
    client = Client()
    client.force_login(annotator)
    page = reverse("annotator:article-detail", kwargs={"pk": article.pk})
    for mode in ("off", "preselect"):
        corpus.suggestions = mode
        corpus.suggestion_control_share = 0.2
        corpus.save(update_fields=["suggestions", "suggestion_control_share"])
        client.get(page)  # warm the schema cache
        samples = []
        for _ in range(args.requests):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                assert client.get(page).status_code == 200
                samples.append((time.perf_counter() - start) * 1000)
        report(f"article page (30 sentences), suggestions {mode}", samples, len(queries))
        samples = []
        for n in range(args.requests * 4):
            sentence = sentences[n % len(sentences)]
            value = label_value(order[n % 4])
            url = reverse("annotator:sentence-label", kwargs={"pk": sentence.pk})
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.post(url, {"label": value}, HTTP_HX_REQUEST="true")
                samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        report(f"label save (htmx), suggestions {mode}", samples, len(queries))
    recorded = Annotation.objects.filter(suggestion_visible__isnull=False).count()
    print(f"  labels recording a suggestion: {recorded}")

    client.force_login(curator)
    check = reverse("annotator:curation-queue", kwargs={"slug": corpus.slug}) + "?status=check"
    samples = []
    for _ in range(max(3, args.requests // 10)):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(check)
            samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    flagged = response.content.decode().count('class="curation-item')
    report(f"Check these page ({flagged} cards on page 1)", samples, len(queries))


if __name__ == "__main__":
    main()
