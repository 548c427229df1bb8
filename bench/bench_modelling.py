"""Benchmark of `annotator.modelling` (model assistance) as the background task runs it.

Generates a labelled news-like corpus (`tests/claim_corpus.py`: about 30 sentences an article,
about 190 characters a sentence, a vocabulary of tens of thousands of words, zones and positions
given), then times:
- training: `train()` = hashing the texts once, article-grouped 5-fold cross-validation (five fits
  and the out-of-fold probabilities), the evaluation with its 1,000-replicate article bootstrap,
  and the final fit on everything; target <= 60 s for 200,000 labelled sentences;
- prediction: `TrainedModel.predict_proba` on 100,000 new sentences, after a `to_bytes` /
  `from_bytes` round trip as a worker would load it; target >= 20,000 sentences/s;
- the follow-ups on the out-of-fold probabilities: `find_label_issues`, `article_uncertainty`.
Wall clock and CPU time are both printed (the machine is shared; CPU time is what this process
used), with the load average, and the peak RSS of the process.

Run: `.venv/bin/python bench/bench_modelling.py` (`--sentences 200000 --predict 100000`).
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

from annotator.modelling import (  # noqa: E402
    TrainedModel,
    article_uncertainty,
    find_label_issues,
    train,
)
from tests.claim_corpus import CLASS_NAMES, generate_corpus  # noqa: E402


def corpus(sentences: int, seed: int):  # noqa: ANN201 - a GeneratedCorpus sliced to size
    articles = sentences // 25 + 10  # about 30 sentences an article: always enough
    # Made-up district names give the corpus a vocabulary that keeps growing, as real text does.
    generated = generate_corpus(n_articles=articles, rare_words=100_000, seed=seed)
    return (
        generated.texts[:sentences],
        generated.labels[:sentences],
        generated.groups[:sentences],
        generated.zones[:sentences],
        generated.positions[:sentences],
    )


def timed(label: str, function, *args, **kwargs):  # noqa: ANN001, ANN201
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: wall {wall:.2f} s, CPU {cpu:.2f} s, load {_load()}", flush=True)
    return result, wall, cpu


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=200_000)
    parser.add_argument("--predict", type=int, default=100_000)
    args = parser.parse_args()

    print(f"load average at start: {_load()} on {os.cpu_count()} CPUs")
    texts, labels, groups, zones, positions = corpus(args.sentences, seed=1)
    chars = sum(map(len, texts)) / len(texts)
    print(
        f"corpus: {len(texts):,} labelled sentences in {len(set(groups)):,} articles, "
        f"{chars:.0f} characters a sentence; peak RSS {_peak_rss_mb():.0f} MB"
    )

    result, wall, cpu = timed(
        f"train (fit + grouped CV) on {len(texts):,} sentences",
        train,
        texts,
        labels,
        groups,
        class_names=CLASS_NAMES,
        zones=zones,
        positions=positions,
    )
    evaluation = result.evaluation
    low, high = evaluation.macro_f1_interval
    print(
        f"  target <= 60 s: {'met' if wall <= 60 else 'MISSED'} on the wall clock, "
        f"{'met' if cpu <= 60 else 'MISSED'} in CPU time; peak RSS {_peak_rss_mb():.0f} MB"
    )
    print(
        f"  macro-F1 {evaluation.macro_f1:.3f} ({low:.3f}-{high:.3f}), majority baseline "
        f"{evaluation.majority_macro_f1:.3f}, stratified chance "
        f"{evaluation.stratified_macro_f1:.3f}, {evaluation.n_folds} folds"
    )

    stored, _, _ = timed("to_bytes", result.model.to_bytes)
    print(f"  stored model: {len(stored) / 1e6:.1f} MB, {len(result.model.columns):,} columns")
    model, _, _ = timed("from_bytes", TrainedModel.from_bytes, stored)

    issues, _, _ = timed(
        "find_label_issues on the out-of-fold probabilities",
        find_label_issues,
        labels,
        result.out_of_fold,
    )
    print(f"  {len(issues):,} labels flagged")
    timed("article_uncertainty", article_uncertainty, result.out_of_fold, groups)
    del result

    new_texts, _, _, new_zones, new_positions = corpus(args.predict, seed=2)
    _, wall, cpu = timed(
        f"predict_proba on {len(new_texts):,} new sentences",
        model.predict_proba,
        new_texts,
        zones=new_zones,
        positions=new_positions,
    )
    print(
        f"  {len(new_texts) / wall:,.0f} sentences/s wall clock, "
        f"{len(new_texts) / cpu:,.0f} sentences/s of CPU time (target >= 20,000)"
    )
    print(f"peak RSS {_peak_rss_mb():.0f} MB; load average at end: {_load()}")


if __name__ == "__main__":
    main()
