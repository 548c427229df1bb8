"""Benchmark of API list pages: median and 95th-percentile time of a 100-item page.

Builds the 20,000-sentence / 100,000-annotation corpus of bench_export.py in its own scratch
database `annotator_bench_api` (dropped afterwards unless --keep), then requests each list 200
times with a bearer token through Django's full stack (middleware, authentication, DRF,
serializers, JSON) in one warm process, as a server worker would.

Run: `.venv/bin/python bench/bench_api.py` (DATABASE_URL defaults to the local server).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_export  # noqa: E402
from scratch_db import kept_database_url, recreate_database  # noqa: E402

bench_export.BENCH_DB = "annotator_bench_api"
bench_export.SIZES = {"api-20k": 1_000}
REPEATS = 200
URLS = [
    "/api/v1/annotations/?corpus=api-20k&page_size=100",
    "/api/v1/annotations/?corpus=api-20k&layer=stance&page_size=100",
    "/api/v1/sentences/?corpus=api-20k&page_size=100",
    "/api/v1/articles/?corpus=api-20k&page_size=100",
]


def measure() -> None:
    bench_export.django_setup()
    client = bench_export.token_client()
    for url in URLS:
        first = client.get(url)
        assert first.status_code == 200 and len(first.json()["results"]) == 100, url
        # The second page too: cursor pages must cost the same as the first.
        next_url = first.json()["next"]
        timings = []
        for number in range(REPEATS):
            started = time.perf_counter()
            response = client.get(url if number % 2 else next_url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings.sort()
        print(
            f"{url}: median {statistics.median(timings):.1f} ms, "
            f"p95 {timings[int(len(timings) * 0.95)]:.1f} ms over {REPEATS} requests",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--reuse", action="store_true", help="Reuse a kept scratch database.")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure()
        return
    try:
        if not args.reuse:
            subprocess.run(
                [sys.executable, "-c", "import bench_api, bench_export; bench_export.build()"],
                check=True,
                cwd=Path(__file__).resolve().parent,
            )
        subprocess.run([sys.executable, __file__, "--measure"], check=True)
    finally:
        if not args.keep:
            recreate_database(kept_database_url("postgres"), bench_export.BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()
