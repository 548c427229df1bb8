"""Typed release records: chunks of plain rows in, columns of one record per sentence out.

Pure computation, no Django. `building.py` reads the database with the export's chunked reader
(`export_queries.iter_chunks`) and hands each `ExportChunk` here. For every sentence and every
unit (claim type; stance per target, keyed by the target's stable slug) the record carries the
label a model should learn and where it comes from:

- `gold`: the confirmed gold label;
- `majority`: else the single most frequent label among two or more annotators;
- `single`: else the one label of a sentence only one annotator labelled;
- none (id -1): no label, or a tie.

Columns, not dicts: the writers in `files.py` turn them into Arrow batches directly.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from annotator.exporting import CLAIM_TYPE, STANCE, ExportChunk, majority, pseudonym
from annotator.releases.splits import assign_splits, validate_proportions

Include = Literal["gold_or_majority", "any_label", "all"]
INCLUDES: tuple[Include, ...] = ("gold_or_majority", "any_label", "all")
SOURCES = ("gold", "majority", "single")
DEFAULT_PROPORTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
NO_LABEL = -1  # Hugging Face's ClassLabel value for "no label"

# Per-sentence columns before the label columns; `previous_text` / `next_text` follow `text`
# when the release carries context.
BASE_COLUMNS = (
    "sentence_id",
    "article_id",
    "external_id",
    "title",
    "url",
    "sentence_index",
    "paragraph",
    "start",
    "end",
    "text",
)
CONTEXT_COLUMNS = ("previous_text", "next_text")
UNIT_SUFFIXES = ("", "_value", "_source", "_majority", "_n_labels")
ANNOTATION_COLUMNS = (
    "sentence_id",
    "article_id",
    "external_id",
    "sentence_index",
    "split",
    "annotator",
    "layer",
    "target",
    "label",
    "label_id",
    "seconds_spent",
)


@dataclass(frozen=True)
class Unit:
    """One labelled layer of a record: claim type, or stance toward one target."""

    layer: str
    target_id: int | None
    slug: str | None
    name: str
    categories: tuple[str, ...]

    @property
    def column(self) -> str:
        return CLAIM_TYPE if self.layer == CLAIM_TYPE else f"{STANCE}_{self.slug}"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.column + suffix for suffix in UNIT_SUFFIXES)


@dataclass(frozen=True)
class ReleaseSchema:
    corpus: str
    schema_version: int
    claim_types: tuple[str, ...]
    stances: tuple[str, ...]
    targets: tuple[tuple[int, str, str], ...]  # (target id, slug, name) in display order

    @property
    def units(self) -> tuple[Unit, ...]:
        return (Unit(CLAIM_TYPE, None, None, "Claim type", self.claim_types),) + tuple(
            Unit(STANCE, target_id, slug, name, self.stances)
            for target_id, slug, name in self.targets
        )

    def record_columns(self, *, context: bool) -> tuple[str, ...]:
        base = BASE_COLUMNS + (CONTEXT_COLUMNS if context else ()) + ("split",)
        return base + tuple(name for unit in self.units for name in unit.columns)

    def snapshot_columns(self) -> tuple[str, ...]:
        """Every sentence, labelled or not, for diffs between releases: no context, no title."""
        keep = ("sentence_id", "article_id", "external_id", "sentence_index", "text", "split")
        return keep + tuple(name for unit in self.units for name in unit.columns) + ("included",)


@dataclass(frozen=True)
class RecordOptions:
    include: Include = "gold_or_majority"
    context: bool = False
    anonymize: bool = True
    pseudonym_key: bytes = b""


def resolve_label(
    counts: Mapping[str, int], gold: str | None
) -> tuple[str | None, str | None, str | None]:
    """(label, source, majority) of one sentence and unit.

    The majority needs two or more labels: one annotator's label is `single`, never a
    majority of one.
    """
    n_labels = sum(counts.values())
    top = majority(counts) if n_labels >= 2 else None
    if gold is not None:
        return gold, "gold", top
    if top is not None:
        return top, "majority", top
    if n_labels == 1:
        return next(iter(counts)), "single", None
    return None, None, None


def is_included(sources: Iterable[str | None], include: Include) -> bool:
    if include == "all":
        return True
    if include == "any_label":
        return any(source is not None for source in sources)
    return any(source in ("gold", "majority") for source in sources)


@dataclass
class ChunkColumns:
    sentences: dict[str, list[Any]]
    annotations: dict[str, list[Any]]


@dataclass
class Tally:
    """Figures the dataset card reports, gathered while the chunks stream past."""

    sentences: int = 0
    records: Counter[str | None] = field(default_factory=Counter)  # split -> records
    articles: Counter[str | None] = field(default_factory=Counter)  # split -> articles
    annotations: int = 0
    # (split, unit column, label value or None) -> records
    labels: Counter[tuple[str | None, str, str | None]] = field(default_factory=Counter)
    # (unit column, source or None) -> records
    sources: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    # number of distinct annotators -> articles
    annotators_per_article: Counter[int] = field(default_factory=Counter)


class _Names(dict):
    """Annotator names for one release: usernames, or their pseudonyms computed once each."""

    def __init__(self, options: RecordOptions) -> None:
        super().__init__()
        self._options = options

    def __missing__(self, username: str) -> str:
        name = (
            pseudonym(username, key=self._options.pseudonym_key)
            if self._options.anonymize
            else username
        )
        self[username] = name
        return name


class RecordBuilder:
    """Turns chunks into columns; one builder per release.

    It keeps the pseudonyms, the tally for the card, and the splits: `splits` holds the stored
    split of every article an earlier release included; an article that gets its first record
    here is assigned by `splits.assign_splits` (per chunk, counting every article assigned so
    far in its stratum) and listed in `new_splits` for the caller to store.
    """

    def __init__(
        self,
        *,
        schema: ReleaseSchema,
        options: RecordOptions,
        splits: Mapping[int, tuple[str, str]] | None = None,
        proportions: Mapping[str, float] | None = None,
        seed: str = "0",
    ) -> None:
        self.schema = schema
        self.options = options
        self.units = schema.units
        self.names = _Names(options)
        self.tally = Tally()
        self.seed = seed
        self.proportions = validate_proportions(proportions or DEFAULT_PROPORTIONS)
        # article id -> split, and stratum -> split -> articles, from the stored assignments
        self.splits: dict[int, str] = {}
        self.strata: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for article_id, (split, stratum) in (splits or {}).items():
            self.splits[article_id] = split
            self.strata[stratum][split] += 1
        self.new_splits: list[tuple[int, str, str]] = []  # (article id, split, stratum)
        self._label_ids = {
            (unit.layer, value): position
            for unit in self.units
            for position, value in enumerate(unit.categories)
        }
        self._slugs = {unit.target_id: unit.slug for unit in self.units}
        self._claim_order = {value: i for i, value in enumerate(schema.claim_types)}

    def columns(self, chunk: ExportChunk) -> ChunkColumns:
        """Every sentence of `chunk` (with `included`) and every annotation, as columns."""
        units, tally, options = self.units, self.tally, self.options
        context, include = options.context, options.include
        out: dict[str, list[Any]] = {name: [] for name in self.record_names()}
        base = [out[name] for name in BASE_COLUMNS]
        previous_col = out.get("previous_text")
        next_col = out.get("next_text")
        included_col = out["included"]
        unit_cols = [[out[name] for name in unit.columns] for unit in units]
        categories = [{v: i for i, v in enumerate(unit.categories)} for unit in units]
        unit_keys = [
            (CLAIM_TYPE, None) if unit.layer == CLAIM_TYPE else (STANCE, unit.target_id)
            for unit in units
        ]

        articles = {row[0]: row for row in chunk.articles}
        by_sentence: dict[int, dict[tuple[str, int | None], dict[str, int]]] = {}
        annotators: dict[int, set[str]] = defaultdict(set)
        for sentence_id, username, layer, target, label, _, _ in chunk.annotations:
            units_of = by_sentence.get(sentence_id)
            if units_of is None:
                units_of = by_sentence[sentence_id] = {}
            counts = units_of.get((layer, target))
            if counts is None:
                counts = units_of[(layer, target)] = {}
            counts[label] = counts.get(label, 0) + 1
            annotators[sentence_id].add(username)
        gold = {(row[0], row[1], row[2]): row[3] for row in chunk.gold}
        per_article: dict[int, set[str]] = defaultdict(set)
        # article id -> claim-type label -> included records (the article's stratum)
        dominant: dict[int, Counter[str | None]] = {}
        resolved_rows: list[list[tuple[str | None, str | None]]] = []

        sentences = chunk.sentences
        last = len(sentences) - 1
        empty: dict[str, int] = {}
        for position, sentence in enumerate(sentences):
            sentence_id, article_id = sentence[0], sentence[1]
            article = articles[article_id]
            units_of = by_sentence.get(sentence_id, {})
            resolved = []
            for (layer, target), cols, ids in zip(unit_keys, unit_cols, categories, strict=True):
                counts = units_of.get((layer, target), empty)
                label, source, top = resolve_label(counts, gold.get((sentence_id, layer, target)))
                cols[0].append(NO_LABEL if label is None else ids.get(label, NO_LABEL))
                cols[1].append(label)
                cols[2].append(source)
                cols[3].append(top)
                cols[4].append(sum(counts.values()))
                resolved.append((label, source))
            included = is_included((source for _, source in resolved), include)
            for value, column in zip(
                (
                    sentence_id,
                    article_id,
                    article[1],
                    article[2],
                    article[3],
                    sentence[2],
                    sentence[3],
                    sentence[4],
                    sentence[5],
                    sentence[6],
                ),
                base,
                strict=True,
            ):
                column.append(value)
            if context:
                before = sentences[position - 1] if position else None
                after = sentences[position + 1] if position < last else None
                previous_col.append(before[6] if before and before[1] == article_id else None)
                next_col.append(after[6] if after and after[1] == article_id else None)
            included_col.append(included)
            resolved_rows.append(resolved)
            per_article[article_id].update(annotators.get(sentence_id, ()))
            if included:
                dominant.setdefault(article_id, Counter())[resolved[0][0]] += 1
        self._assign(dominant, articles)

        splits = self.splits
        split_col = out["split"]
        split_col.extend(splits.get(article_id) for article_id in out["article_id"])
        tally.sentences += len(sentences)
        for split, included, resolved in zip(split_col, included_col, resolved_rows, strict=True):
            if not included:
                continue
            tally.records[split] += 1
            for unit, (label, source) in zip(units, resolved, strict=True):
                tally.labels[(split, unit.column, label)] += 1
                tally.sources[(unit.column, source)] += 1
        for people in per_article.values():
            tally.annotators_per_article[len(people)] += 1
        for article_id in dominant:
            tally.articles[splits[article_id]] += 1
        return ChunkColumns(sentences=out, annotations=self._annotation_columns(chunk))

    def _assign(
        self, dominant: Mapping[int, Counter[str | None]], articles: Mapping[int, tuple]
    ) -> None:
        """Split the chunk's articles that have records but no split yet."""
        order = self._claim_order
        new = []
        for article_id, labels in dominant.items():
            if article_id in self.splits:
                continue
            named = {label: n for label, n in labels.items() if label is not None}
            stratum = (
                min(named, key=lambda v: (-named[v], order.get(v, len(order)), v)) if named else ""
            )
            new.append((article_id, articles[article_id][1], stratum))
        if not new:
            return
        strata = {article_id: stratum for article_id, _, stratum in new}
        assigned = assign_splits(
            new, existing=self.strata, proportions=self.proportions, seed=self.seed
        )
        for article_id, split in assigned.items():
            self.splits[article_id] = split
            self.strata[strata[article_id]][split] += 1
            self.new_splits.append((article_id, split, strata[article_id]))

    def record_names(self) -> tuple[str, ...]:
        return self.schema.record_columns(context=self.options.context) + ("included",)

    def _annotation_columns(self, chunk: ExportChunk) -> dict[str, list[Any]]:
        """One row per annotation; built column by column, as most rows of a release are here."""
        if not chunk.annotations:
            return {name: [] for name in ANNOTATION_COLUMNS}
        sentence_ids, usernames, layers, targets, labels, seconds, _ = zip(
            *chunk.annotations, strict=True
        )
        sentences = {row[0]: row for row in chunk.sentences}
        articles = {row[0]: row for row in chunk.articles}
        article_ids = [sentences[s][1] for s in sentence_ids]
        names, slugs, ids, splits = self.names, self._slugs, self._label_ids, self.splits
        self.tally.annotations += len(sentence_ids)
        return {
            "sentence_id": list(sentence_ids),
            "article_id": article_ids,
            "external_id": [articles[a][1] for a in article_ids],
            "sentence_index": [sentences[s][2] for s in sentence_ids],
            "split": [splits.get(a) for a in article_ids],
            "annotator": [names[u] for u in usernames],
            "layer": list(layers),
            "target": [slugs.get(t) if t is not None else None for t in targets],
            "label": list(labels),
            "label_id": [
                ids.get((layer, label), NO_LABEL)
                for layer, label in zip(layers, labels, strict=True)
            ],
            "seconds_spent": [float(s) for s in seconds],
        }
