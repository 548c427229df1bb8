"""Throughput of annotator.segmentation on the sample articles, repeated to about 20 MB.

Run from the repository root: `.venv/bin/python bench/bench_segmentation.py [megabytes]`.
Each copy of an article gets a number in front so no library cache can help.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.segmentation import split_sentences  # noqa: E402


def main(megabytes: float = 20.0) -> None:
    articles = [path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("samples/*.txt"))]
    size = sum(map(len, articles))
    copies = max(1, int(megabytes * 1_000_000 / size))
    texts = [f"{copy} {article}" for copy in range(copies) for article in articles]
    characters = sum(map(len, texts))

    started = time.perf_counter()
    sentences = sum(len(split_sentences(text)) for text in texts)
    elapsed = time.perf_counter() - started

    print(f"{characters / 1e6:.1f} M chars, {len(texts)} articles, {sentences} sentences")
    print(f"{characters / elapsed / 1e6:.1f} M chars/s, {sentences / elapsed:,.0f} sentences/s")


if __name__ == "__main__":
    main(*map(float, sys.argv[1:2]))
