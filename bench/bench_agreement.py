"""Benchmark of `annotator.agreement.summarize` at the size the project plans for.

200,000 units x 3 ratings from 5 annotators over against / neutral / favor, seeded, with about 75%
pairwise agreement. Prints wall time of `summarize` (1,000-replicate bootstrap included) at each
level of measurement, then peak memory. Run: `.venv/bin/python bench/bench_agreement.py`.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.agreement import Rating, summarize  # noqa: E402

CATEGORIES = ("against", "neutral", "favor")
CODES = {"against": -1, "neutral": 0, "favor": 1}
ANNOTATORS = ("ana", "ben", "chloe", "dev", "eli")
# Chance each annotator picks the true label; 0.86 on average gives ~75% pairwise agreement with
# three categories and errors spread evenly: p^2 + (1 - p)^2 / 2.
ACCURACY = np.array([0.80, 0.84, 0.86, 0.88, 0.92])


def make_ratings(*, n_units: int, per_unit: int, seed: int) -> list[Rating]:
    rng = np.random.default_rng(seed)
    truth = rng.choice(len(CATEGORIES), size=n_units, p=[0.3, 0.45, 0.25])
    # Each unit gets `per_unit` distinct annotators: the first columns of a random permutation.
    annotators = np.argsort(rng.random((n_units, len(ANNOTATORS))), axis=1)[:, :per_unit]
    correct = rng.random((n_units, per_unit)) < ACCURACY[annotators]
    wrong = (truth[:, None] + rng.integers(1, len(CATEGORIES), (n_units, per_unit))) % len(
        CATEGORIES
    )
    labels = np.where(correct, truth[:, None], wrong)
    units = np.repeat(np.arange(n_units), per_unit)
    return list(
        zip(
            units.tolist(),
            [ANNOTATORS[i] for i in annotators.ravel().tolist()],
            [CATEGORIES[i] for i in labels.ravel().tolist()],
            strict=True,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200_000)
    parser.add_argument("--per-unit", type=int, default=3)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ratings = make_ratings(n_units=args.units, per_unit=args.per_unit, seed=2024)
    print(f"{len(ratings):,} ratings, {args.units:,} units, {len(ANNOTATORS)} annotators")
    options = {
        "nominal": {"level": "nominal", "order": CATEGORIES},
        "ordinal": {"level": "ordinal", "order": CATEGORIES},
        "interval": {"level": "interval", "order": CATEGORIES, "codes": CODES},
    }
    for name, kwargs in options.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            summary = summarize(ratings, replicates=args.replicates, seed=0, **kwargs)
            times.append(time.perf_counter() - start)
        low, high = summary.krippendorff_alpha_ci or (float("nan"), float("nan"))
        print(
            f"{name:>8}: best {min(times):.3f} s, worst {max(times):.3f} s;"
            f" alpha {summary.krippendorff_alpha.value:.4f} [{low:.4f}, {high:.4f}],"
            f" percent agreement {summary.percent_agreement.value:.4f}"
        )

    tracemalloc.start()
    summarize(ratings, replicates=args.replicates, seed=0, **options["ordinal"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory inside summarize: {peak / 2**20:.1f} MiB")
    # ru_maxrss is in KiB on Linux; it includes the interpreter, NumPy and the input list.
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
