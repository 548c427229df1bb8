"""Train / validation / test splits by article: stable, seeded, stratified where possible.

Pure computation, no Django. An article's split is decided once, the first time a release
includes it, and stored (`ArticleSplit`); later releases reuse it, so no sentence ever moves
between splits. Articles met for the first time are assigned here, per stratum (the article's
dominant claim-type label): each goes, in the order of a seeded hash of its external id, to the
split furthest below its target share of the stratum, counting the stratum's earlier articles.
So a stratum ends up split in the configured proportions as nearly as whole articles and the
earlier, fixed assignments allow, and the same inputs always give the same splits.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

SPLITS = ("train", "validation", "test")
DEFAULT_PROPORTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def validate_proportions(proportions: Mapping[str, float]) -> dict[str, float]:
    """Shares of train, validation and test: each in [0, 1], train above 0, summing to 1."""
    unknown = set(proportions) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s): {', '.join(sorted(unknown))}")
    shares = {split: float(proportions.get(split, 0.0)) for split in SPLITS}
    for split, share in shares.items():
        if not 0 <= share <= 1:
            raise ValueError(f"{split} share must be between 0 and 1, got {share}")
    if shares["train"] <= 0:
        raise ValueError("train share must be above 0")
    if abs(sum(shares.values()) - 1) > 1e-6:
        raise ValueError(f"shares must add up to 1, got {sum(shares.values()):g}")
    return shares


def split_hash(seed: str, external_id: str) -> int:
    """A seeded, platform-independent 64-bit hash of an article's external id."""
    digest = hashlib.sha256(f"{seed}\x00{external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


_Article = TypeVar("_Article", bound=Hashable)  # whatever names an article, e.g. its id


def assign_splits(
    new: Iterable[tuple[_Article, str, str]],
    *,
    existing: Mapping[str, Mapping[str, int]],
    proportions: Mapping[str, float],
    seed: str,
) -> dict[_Article, str]:
    """Splits for articles seen for the first time.

    `new`: (key, external id, stratum) per article. `existing`: stratum -> split -> number of
    articles already assigned. Returns key -> split.
    """
    shares = validate_proportions(proportions)
    by_stratum: defaultdict[str, list[tuple[int, str, _Article]]] = defaultdict(list)
    for key, external_id, stratum in new:
        by_stratum[stratum].append((split_hash(seed, external_id), external_id, key))
    assigned: dict[_Article, str] = {}
    for stratum in sorted(by_stratum):
        articles = sorted(by_stratum[stratum], key=lambda item: (item[0], item[1]))
        counts = {split: int(existing.get(stratum, {}).get(split, 0)) for split in SPLITS}
        total = sum(counts.values()) + len(articles)
        targets = {split: shares[split] * total for split in SPLITS}
        for _, _, key in articles:
            # Furthest below its target; ties go to the earlier split (train first).
            split = max(SPLITS, key=lambda s: (targets[s] - counts[s], -SPLITS.index(s)))
            counts[split] += 1
            assigned[key] = split
    return assigned
