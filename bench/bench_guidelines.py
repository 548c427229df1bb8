"""Render time of corpus guidelines on hostile Markdown at the size limit.

Run from the repository root: `.venv/bin/python bench/bench_guidelines.py`.

Each input is `MAX_GUIDELINES_CHARS` long (and one is twice that, which the renderer cuts) and
is rendered uncached, Markdown and sanitising both, best of 3, wall and CPU time. Target: every
input well under 2 s, so a settings preview or the first article page after a change never
holds a worker. Python-Markdown, used before, took 4.2 s on 2,000 `[`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.guidelines import MAX_GUIDELINES_CHARS, render_guidelines  # noqa: E402

N = MAX_GUIDELINES_CHARS

HOSTILE: dict[str, Callable[[], str]] = {
    "[ x limit": lambda: "[" * N,
    "[ x 2 x limit (cut)": lambda: "[" * 2 * N,
    "![": lambda: "![" * (N // 2),
    "[a](": lambda: "[a](" * (N // 4),
    "[a][": lambda: "[a][" * (N // 4),
    "[*": lambda: "[*" * (N // 2),
    "*a **b ": lambda: "*a **b " * (N // 7),
    "**a*": lambda: "**a*" * (N // 4),
    "`a": lambda: "`a" * (N // 2),
    "> x limit": lambda: ">" * N,
    "nested lists": lambda: "\n".join("  " * (i % 60) + "- a" for i in range(N // 60)),
    "link reference definitions": lambda: (
        "".join(f"[r{i}]: /u{i}\n" for i in range(N // 24))
        + " ".join(f"[r{i}]" for i in range(N // 24))
    ),
    "table rows": lambda: "|a|b|\n|-|-|\n" + "|x|y|\n" * (N // 6),
    "<a ": lambda: "<a " * (N // 3),
    "demo-like prose": lambda: (
        "# Guidelines\n\nLabel **every sentence**; see [the rules](https://example.org).\n\n"
        * (N // 80)
    )[:N],
}


def main() -> None:
    print(f"{'input':32} {'chars':>7} {'best wall s':>11} {'best CPU s':>10}")
    for name, make in HOSTILE.items():
        text = make()
        walls, cpus = [], []
        for _ in range(3):
            render_guidelines.cache_clear()
            wall, cpu = time.perf_counter(), time.process_time()
            render_guidelines(text)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(f"{name:32} {len(text):7,} {min(walls):11.3f} {min(cpus):10.3f}")


if __name__ == "__main__":
    main()
