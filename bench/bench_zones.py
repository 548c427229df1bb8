"""Throughput of annotator.zones, and how its suggestions compare with the hand-made gold.

Run from the repository root: `.venv/bin/python bench/bench_zones.py [megabytes]`.

First, for each sample, the confusion against tests/gold/zones/: how many sentences each zone
holds in the gold, how many of them the rules put there, and what the rules put elsewhere.
Then throughput: the five samples repeated (each copy numbered) to about 20 MB, segmented
once beforehand so only `suggest_zones` is timed; best of three.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.segmentation import SentenceSpan, split_sentences  # noqa: E402
from annotator.zones import ZONES, suggest_zones  # noqa: E402

GOLD = ROOT / "tests" / "gold" / "zones"


def gold_of(sample: Path) -> tuple[str, list[SentenceSpan], list[str]]:
    """The sample's text, the gold sentences as spans (found in order) and their zones."""
    text = sample.read_text(encoding="utf-8")
    spans, zones = [], []
    position = 0
    for line in (GOLD / sample.name).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        _, paragraph, zone, sentence = line.split("\t", 3)
        start = text.index(sentence, position)
        position = start + len(sentence)
        spans.append(SentenceSpan(start, position, int(paragraph)))
        zones.append(zone)
    return text, spans, zones


def confusion() -> None:
    samples = sorted(ROOT.glob("samples/*.txt"))
    totals: Counter[tuple[str, str]] = Counter()
    print("Per sample: gold zone -> sentences (right)   [wrong suggestions]")
    for sample in samples:
        text, spans, gold = gold_of(sample)
        suggested = [suggestion.zone for suggestion in suggest_zones(text, spans)]
        pairs = Counter(zip(gold, suggested, strict=True))
        totals += pairs
        cells = []
        for zone in ZONES:
            count = sum(pairs[zone, other] for other in ZONES)
            if count:
                cells.append(f"{zone} {count} ({pairs[zone, zone]})")
        wrong = [f"{g}->{s} {n}" for (g, s), n in sorted(pairs.items()) if g != s]
        right = sum(pairs[zone, zone] for zone in ZONES)
        print(f"  {sample.stem}: {', '.join(cells)}; {right}/{len(gold)} right", wrong or "")
    print("All samples:")
    for zone in ZONES:
        gold = sum(totals[zone, other] for other in ZONES)
        predicted = sum(totals[other, zone] for other in ZONES)
        right = totals[zone, zone]
        print(
            f"  {zone:12} gold {gold:4}  suggested {predicted:4}  right {right:4}"
            f"  recall {right / gold if gold else 1:.3f}"
            f"  precision {right / predicted if predicted else 1:.3f}"
        )
    right = sum(totals[zone, zone] for zone in ZONES)
    print(f"  accuracy {right}/{sum(totals.values())} = {right / sum(totals.values()):.3f}")


def throughput(megabytes: float = 20.0) -> None:
    articles = [path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("samples/*.txt"))]
    size = sum(map(len, articles))
    copies = max(1, int(megabytes * 1_000_000 / size))
    texts = [f"{copy} {article}" for copy in range(copies) for article in articles]
    segmented = [(text, split_sentences(text)) for text in texts]
    characters = sum(map(len, texts))
    sentences = sum(len(spans) for _, spans in segmented)
    best = best_cpu = float("inf")
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        for text, spans in segmented:
            suggest_zones(text, spans)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    print(f"{characters / 1e6:.1f} M chars, {len(texts)} articles, {sentences} sentences")
    for label, seconds in (("wall clock", best), ("CPU time", best_cpu)):
        print(
            f"suggest_zones, {label}: {characters / seconds / 1e6:.1f} MB/s (M chars/s), "
            f"{sentences / seconds:,.0f} sentences/s, {len(texts) / seconds:,.0f} articles/s"
            " (best of 3)"
        )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    confusion()
    throughput(*map(float, sys.argv[1:2]))
