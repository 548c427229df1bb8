"""Benchmark of model assistance through Django and PostgreSQL: the training task end to end and
the stored model's prediction rate.

Builds (once; `--rebuild` to redo) a database `annotator_bench_assist` on the server of
`DATABASE_URL` holding a generated corpus (tests/claim_corpus.py, as bench_modelling.py uses:
about 6,700 articles of 20-40 news-like sentences, 200,000 sentences, a growing vocabulary) with
every sentence labelled by one annotator, loaded with the ORM's bulk_create. Then times:

1. the background task's body, `assisting.train_model_version` (what `tasks.train_model` runs
   in `manage.py db_worker`): reading the labels and sentences, `modelling.train` (hashing, 5-fold
   article-grouped cross-validation, bootstrap, final fit), predicting every sentence of the
   corpus and storing a Prediction row per sentence with its probabilities and out-of-fold
   probabilities (COPY), and deleting the previous version's predictions;
2. predicting 100,000 sentences with the stored model: `from_bytes` of the stored bytes, then
   `predict_proba`, as an external caller or a later task would;
3. `assisting.label_issues` (confident learning over the stored out-of-fold probabilities) and
   `assisting.layer_models` (what the statistics page reads).

Run:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/annotator \
        .venv/bin/python bench/bench_assist.py [--articles 6675] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import ensure_database, kept_database_url  # noqa: E402

BENCH_DB = "annotator_bench_assist"
SLUG = "bench-assist"


def build(articles: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotator.models import Corpus, Membership, Role
    from tests.assist_corpus import load_generated
    from tests.claim_corpus import generate_corpus

    started = time.perf_counter()
    generated = generate_corpus(n_articles=articles, rare_words=100_000, seed=11)
    with transaction.atomic():
        corpus = Corpus.objects.create(name="Bench assist", slug=SLUG)
        corpus.ensure_default_schema()
        user = get_user_model().objects.create_user(username="bench-annotator")
        Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
        load_generated(corpus, generated, annotators=[user])
    print(
        f"Built {len(generated.texts):,} labelled sentences in {articles:,} articles "
        f"({time.perf_counter() - started:.0f} s)"
    )


def timed(label: str, work: object) -> object:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU")
    return result, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=6675)
    parser.add_argument("--predict", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true")
    arguments = parser.parse_args()

    url = kept_database_url(BENCH_DB)
    ensure_database(url, rebuild=arguments.rebuild)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "annotator.settings"
    # The task runs here, in this process, as the worker would run it.
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from annotator import assisting
    from annotator.curating import Unit
    from annotator.modelling import TrainedModel
    from annotator.models import Corpus, Layer, ModelVersion, Prediction, Sentence

    if not Corpus.objects.filter(slug=SLUG).exists():
        build(arguments.articles)
    corpus = Corpus.objects.get(slug=SLUG)
    n = Sentence.objects.filter(article__corpus=corpus).count()
    print(f"Corpus: {n:,} sentences, {corpus.articles.count():,} articles")

    unit = Unit(layer=Layer.CLAIM_TYPE, target=None)
    version = assisting.request_training(corpus=corpus, unit=unit)
    _, train_wall, train_cpu = timed(
        f"1. Training task end to end (version {version.number})",
        lambda: assisting.train_model_version(version.pk),
    )
    version = ModelVersion.objects.get(pk=version.pk)
    assert version.status == "done", version.error
    stored = Prediction.objects.filter(model_version=version).count()
    print(
        f"   macro-F1 {version.scores['macro_f1']:.3f} "
        f"(majority {version.scores['majority_macro_f1']:.3f}); {stored:,} predictions stored; "
        f"model {len(version.model_bytes) / 1e6:.1f} MB"
    )

    texts = list(
        Sentence.objects.filter(article__corpus=corpus)
        .order_by("id")
        .values_list("text", flat=True)[: arguments.predict]
    )
    positions = [0.5] * len(texts)

    def predict() -> object:
        model = TrainedModel.from_bytes(
            bytes(ModelVersion.objects.values_list("model_bytes", flat=True).get(pk=version.pk))
        )
        return model.predict_proba(texts, positions=positions)

    _, wall, cpu = timed(f"2. Load the stored model and predict {len(texts):,} sentences", predict)
    print(f"   {len(texts) / wall:,.0f} sentences/s wall, {len(texts) / cpu:,.0f} per CPU second")

    issues, _, _ = timed(
        "3. label_issues", lambda: assisting.label_issues(corpus, unit.layer, None)
    )
    print(f"   {len(issues):,} labels flagged")
    timed("   layer_models (statistics page)", lambda: assisting.layer_models(corpus))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS {peak:.0f} MB; load average {os.getloadavg()[0]:.1f}")
    print(f"Target: training ≤ 60 s: {train_wall:.1f} s wall, {train_cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
