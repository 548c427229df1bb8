"""Throughput of annotator.segmentation: the sample articles, then hostile input.

Run from the repository root: `.venv/bin/python bench/bench_segmentation.py [megabytes]`.

First the five sample articles repeated to about 20 MB (each copy gets a number in front so no
library cache can help). Then 5 MB of each kind of input that used to be slow (issue 11): one
line without spaces, Chinese, right-to-left script, emoji, 100,000 brackets, and a few more;
and the 50,000-character line from the report. Target: every hostile input at >= 1 MB/s, the
50,000-character line well under a second.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.segmentation import split_sentences  # noqa: E402

HOSTILE_BYTES = 5_000_000


def _repeat(unit: str, size: int = HOSTILE_BYTES) -> str:
    return unit * (size // len(unit.encode()))


def _news_on_one_line(size: int = HOSTILE_BYTES) -> str:
    texts = [path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("samples/*.txt"))]
    line = " ".join(" ".join(text.split()) for text in texts)
    return (line * (size // len(line) + 1))[:size]


HOSTILE: dict[str, Callable[[], str]] = {
    "50,000-char line, no spaces ('Abc.Def!' x 6,250)": lambda: "Abc.Def!" * 6250,
    "one line, no spaces ('Abc.Def!')": lambda: _repeat("Abc.Def!"),
    "one line, no spaces, no stops ('a')": lambda: "a" * HOSTILE_BYTES,
    "Chinese, one line": lambda: _repeat("我们是朋友。他说：你好！"),
    "Arabic, one line": lambda: _repeat("هذا نص عربي طويل. وهو يتكرر! "),
    "Hebrew, one line, no spaces": lambda: _repeat("שלום.עולם!"),
    "emoji, one line": lambda: _repeat("😀🎉👍🏽."),
    "100,000 '[' then sentences": lambda: ("[" * 100_000 + _repeat("Abc. Def. "))[:HOSTILE_BYTES],
    "titles ('Mr. ')": lambda: _repeat("Mr. "),
    "quoted questions": lambda: _repeat("“Why?” he asked "),
    "four-character sentences ('a. B')": lambda: _repeat("a. B"),
    "news paragraphs on one line": _news_on_one_line,
    "short lines of two sentences ('Ab. Cd\\n')": lambda: _repeat("Ab. Cd\n"),
}


def bench_samples(megabytes: float = 20.0) -> None:
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


def bench_hostile() -> None:
    print()
    print(f"{'input':52} {'MB':>5} {'sentences':>10} {'wall s':>7} {'MB/s':>6} {'CPU s':>6}")
    for name, make in HOSTILE.items():
        text = make()
        size = len(text.encode()) / 1e6
        started, cpu = time.perf_counter(), time.process_time()
        sentences = len(split_sentences(text))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{name:52} {size:5.2f} {sentences:10,} {elapsed:7.3f} {size / elapsed:6.2f} {cpu:6.3f}"
        )
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    bench_samples(*map(float, sys.argv[1:2]))
    bench_hostile()
