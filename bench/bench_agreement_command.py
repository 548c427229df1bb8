"""`manage.py agreement --ratings FILE` end to end on 1,000,000 ratings, and command start-up.

Run from the repository root: `.venv/bin/python bench/bench_agreement_command.py`.

Writes (once, into bench/out/, git-ignored) a CSV of 1,000,000 ratings: 333,334 units (the
last has one rating) rated by 3 of 5 annotators, labels against / neutral / favor with about
75 % pairwise agreement, and the same ratings with numeric labels (-1, 0, 1). Then times, each
in a fresh process, best of `--repeat`: `manage.py agreement --ratings FILE` (reading, checking,
every statistic, the default 1,000-replicate bootstrap, JSON out) at nominal level on the text
labels and at interval level on the numbers; and `manage.py agreement --help`,
`segment --help`, `help` and `check` (start-up). Targets: the command <= 5 s, `--help` < 1 s.
Wall and CPU time are both printed: on a shared machine the wall clock moves with the load,
CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "out"
ANNOTATORS = ("ana", "ben", "chloe", "dev", "eli")
CATEGORIES = ("against", "neutral", "favor")
ACCURACY = np.array([0.80, 0.84, 0.86, 0.88, 0.92])


def write_ratings(path: Path, *, n_ratings: int, numeric: bool, seed: int = 2024) -> None:
    per_unit = 3
    n_units = -(-n_ratings // per_unit)
    rng = np.random.default_rng(seed)
    truth = rng.choice(len(CATEGORIES), size=n_units, p=[0.3, 0.45, 0.25])
    annotators = np.argsort(rng.random((n_units, len(ANNOTATORS))), axis=1)[:, :per_unit]
    correct = rng.random((n_units, per_unit)) < ACCURACY[annotators]
    wrong = (truth[:, None] + rng.integers(1, len(CATEGORIES), (n_units, per_unit))) % 3
    labels = np.where(correct, truth[:, None], wrong).ravel()[:n_ratings]
    units = np.repeat(np.arange(n_units), per_unit)[:n_ratings]
    names = np.array(ANNOTATORS)[annotators.ravel()[:n_ratings]]
    words = np.array(["-1", "0", "1"] if numeric else CATEGORIES)[labels]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("unit,annotator,label\n")
        for unit, name, word in zip(units.tolist(), names.tolist(), words.tolist(), strict=True):
            handle.write(f"u{unit},{name},{word}\n")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], repeat: int) -> tuple[float, float, str]:
    """Best wall-clock and best CPU seconds of `repeat` runs, and the last run's output."""
    best, best_cpu, output = float("inf"), float("inf"), ""
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    for _ in range(repeat):
        started, cpu = time.perf_counter(), _children_cpu()
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, _children_cpu() - cpu)
        output = result.stdout
    return best, best_cpu, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    DATA.mkdir(parents=True, exist_ok=True)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for label, numeric, level in (("text", False, "nominal"), ("numbers", True, "interval")):
        path = DATA / f"ratings-{args.ratings}-{label}.csv"
        if not path.exists():
            write_ratings(path, n_ratings=args.ratings, numeric=numeric)
        size = path.stat().st_size / 1e6
        command = [*manage, "agreement", "--ratings", str(path), "--level", level]
        seconds, cpu, output = timed(command, args.repeat)
        alpha = output.split('"krippendorff_alpha": ', 1)[1].split(",", 1)[0]
        print(
            f"agreement, {args.ratings:,} ratings ({label} labels, {size:.1f} MB), {level}: "
            f"best {seconds:.2f} s wall, {cpu:.2f} s CPU of {args.repeat} (alpha {alpha})"
        )
    for what in (["agreement", "--help"], ["segment", "--help"], ["help"], ["check"]):
        seconds, cpu, _ = timed([*manage, *what], args.repeat)
        print(
            f"manage.py {' '.join(what)}: best {seconds:.2f} s wall, {cpu:.2f} s CPU "
            f"of {args.repeat}"
        )
    print(f"load average while measuring: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
