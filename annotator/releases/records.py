"""Typed release records: chunks of whole articles in, one record per sentence out.

Pure computation, no Django. `building.py` reads the database in chunks of whole articles as
Arrow tables (`ReleaseChunk`) and hands each here. For every sentence and every
unit (claim type; stance per target, keyed by the target's stable slug) the record carries the
label a model should learn and where it comes from:

- `gold`: the confirmed gold label;
- `majority`: else the single most frequent label among two or more annotators;
- `single`: else the one label of a sentence only one annotator labelled;
- none (id -1): no label, or a tie.

Arrow tables, not dicts: counting and resolving run as Arrow group-bys and joins, and the
writers in `files.py` write the tables as they are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from annotator.exporting import CLAIM_TYPE, STANCE, ExportChunk, majority, pseudonym
from annotator.releases.splits import DEFAULT_PROPORTIONS, assign_splits, validate_proportions

Include = Literal["gold_or_majority", "any_label", "all"]
SOURCES = ("gold", "majority", "single")
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
    # Database ids of the choices, in the same order as `claim_types` and `stances`.
    claim_ids: tuple[int, ...] = ()
    stance_ids: tuple[int, ...] = ()

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


@dataclass
class ReleaseChunk:
    """Whole articles of a corpus as Arrow tables, read in one go by `building.py`.

    articles: id, external_id, title, url; sentences: id, article_id, ordinal, paragraph,
    start, end, text (in article and ordinal order); annotations: sentence_id, annotator
    (username), target_id (null for claim type), choice_id, seconds_spent; gold (confirmed
    only): sentence_id, target_id, choice_id.
    """

    articles: pa.Table
    sentences: pa.Table
    annotations: pa.Table
    gold: pa.Table

    @classmethod
    def from_export(cls, chunk: ExportChunk, schema: ReleaseSchema) -> ReleaseChunk:
        """The same rows as the export reads them (label values instead of choice ids)."""
        ids = {
            **{
                (CLAIM_TYPE, v): i
                for v, i in zip(schema.claim_types, schema.claim_ids, strict=True)
            },
            **{(STANCE, v): i for v, i in zip(schema.stances, schema.stance_ids, strict=True)},
        }

        def table(
            rows: Sequence[tuple], names: Sequence[str], kinds: Sequence[pa.DataType]
        ) -> pa.Table:
            columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
            return pa.table(
                {n: pa.array(c, type=k) for n, c, k in zip(names, columns, kinds, strict=True)}
            )

        return cls(
            articles=table(
                chunk.articles, ARTICLE_FIELDS, (pa.int64(), pa.string(), pa.string(), pa.string())
            ),
            sentences=table(
                chunk.sentences,
                SENTENCE_FIELDS,
                (
                    pa.int64(),
                    pa.int64(),
                    pa.int32(),
                    pa.int32(),
                    pa.int32(),
                    pa.int32(),
                    pa.string(),
                ),
            ),
            annotations=table(
                [(r[0], r[1], r[3], ids[(r[2], r[4])], float(r[5])) for r in chunk.annotations],
                ANNOTATION_FIELDS,
                (pa.int64(), pa.string(), pa.int64(), pa.int64(), pa.float64()),
            ),
            gold=table(
                [(r[0], r[2], ids[(r[1], r[3])]) for r in chunk.gold],
                GOLD_FIELDS,
                (pa.int64(), pa.int64(), pa.int64()),
            ),
        )


ARTICLE_FIELDS = ("id", "external_id", "title", "url")
SENTENCE_FIELDS = ("id", "article_id", "ordinal", "paragraph", "start", "end", "text")
ANNOTATION_FIELDS = ("sentence_id", "annotator", "target_id", "choice_id", "seconds_spent")
GOLD_FIELDS = ("sentence_id", "target_id", "choice_id")


@dataclass
class ChunkColumns:
    sentences: pa.Table  # every sentence of the chunk, with `included`
    annotations: pa.Table  # every annotation of the chunk


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


_NO_TEXT = pa.scalar(None, pa.string())
_NO_ID = pa.scalar(None, pa.int32())
_ZERO = pa.scalar(0, pa.int32())


def _array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    return pa.array(values, type=kind)


def _lookup(keys: pa.Array, table: pa.Table, key: str, column: str) -> pa.Array:
    """`table[column]` for each of `keys` matched on `table[key]` (null where none)."""
    if not table.num_rows:
        return pa.nulls(len(keys), type=table.schema.field(column).type)
    return table.column(column).take(pc.index_in(keys, value_set=table.column(key)))


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
        self._target_ids = pa.array([target_id for target_id, _, _ in schema.targets], pa.int64())
        self._claim_ids = pa.array(list(schema.claim_ids), pa.int64())
        self._stance_ids = pa.array(list(schema.stance_ids), pa.int64())
        self._claim_values = pa.array(list(schema.claim_types), pa.string())
        self._stance_values = pa.array(list(schema.stances), pa.string())

    def columns(self, chunk: ReleaseChunk) -> ChunkColumns:
        """Every sentence of `chunk` (with `included`) and every annotation, as Arrow tables.

        Label counting and resolution run as Arrow group-bys and joins, not a Python loop per
        annotation: a million sentences carry five million annotations. The rule is
        `resolve_label`'s, which the tests check this against.
        """
        sentences, articles = chunk.sentences, chunk.articles
        sid = sentences.column("id").combine_chunks()
        aid = sentences.column("article_id").combine_chunks()
        text = sentences.column("text").combine_chunks()
        out: dict[str, pa.Array] = {
            "sentence_id": sid,
            "article_id": aid,
            "external_id": _lookup(aid, articles, "id", "external_id"),
            "title": _lookup(aid, articles, "id", "title"),
            "url": _lookup(aid, articles, "id", "url"),
            "sentence_index": sentences.column("ordinal").combine_chunks(),
            "paragraph": sentences.column("paragraph").combine_chunks(),
            "start": sentences.column("start").combine_chunks(),
            "end": sentences.column("end").combine_chunks(),
            "text": text,
        }
        if self.options.context:
            out.update(_context(aid, text))

        annotations = self._annotation_table(chunk)
        labels = annotations.select(["sentence_id", "unit", "label_id"])
        # (sentence, unit, label) -> annotators; then per (sentence, unit): how many labels,
        # the top count, how many labels share it and the first of them.
        counts = labels.group_by(["sentence_id", "unit", "label_id"]).aggregate([([], "count_all")])
        per_unit = counts.group_by(["sentence_id", "unit"]).aggregate(
            [("count_all", "sum"), ("count_all", "max")]
        )
        tops = counts.join(per_unit, ["sentence_id", "unit"]).filter(
            pc.equal(pc.field("count_all"), pc.field("count_all_max"))
        )
        top = tops.group_by(["sentence_id", "unit"]).aggregate(
            [([], "count_all"), ("label_id", "min"), ("count_all_sum", "max")]
        )
        gold = self._gold_table(chunk)

        units_sources: list[pa.Array] = []
        claim_ids: pa.Array | None = None
        for index, unit in enumerate(self.units):
            unit_top = top.filter(pc.equal(top.column("unit"), index))
            n_labels = pc.fill_null(_lookup(sid, unit_top, "sentence_id", "count_all_sum_max"), 0)
            tied = _lookup(sid, unit_top, "sentence_id", "count_all")
            first = _lookup(sid, unit_top, "sentence_id", "label_id_min")
            majority_id = pc.if_else(
                pc.and_(pc.greater_equal(n_labels, 2), pc.equal(tied, 1)), first, _NO_ID
            )
            single_id = pc.if_else(pc.equal(n_labels, 1), first, _NO_ID)
            unit_gold = gold.filter(pc.equal(gold.column("unit"), index))
            gold_id = _lookup(sid, unit_gold, "sentence_id", "label_id")
            label_id = pc.coalesce(gold_id, majority_id, single_id)
            source = pc.if_else(
                pc.is_valid(gold_id),
                "gold",
                pc.if_else(
                    pc.is_valid(majority_id),
                    "majority",
                    pc.if_else(pc.is_valid(single_id), "single", _NO_TEXT),
                ),
            )
            names = _array(list(unit.categories), pa.string())
            column = unit.column
            out[column] = pc.fill_null(label_id, NO_LABEL).cast(pa.int64())
            out[column + "_value"] = names.take(label_id)
            out[column + "_source"] = source
            out[column + "_majority"] = names.take(majority_id)
            out[column + "_n_labels"] = n_labels.cast(pa.int32())
            units_sources.append(source)
            if index == 0:
                claim_ids = label_id
        included = self._included(units_sources)
        out["included"] = included

        external = dict(
            zip(
                articles.column("id").to_pylist(),
                articles.column("external_id").to_pylist(),
                strict=True,
            )
        )
        self._assign(aid, included, claim_ids, external)
        ids = list(external)
        split = _array([self.splits.get(a) for a in ids], pa.string()).take(
            pc.index_in(aid, value_set=_array(ids, pa.int64()))
        )
        out["split"] = split
        table = pa.table({name: out[name] for name in self.record_names()})
        annotations = self._annotations_out(annotations, sid, aid, out, split)
        self._count(table, annotations, articles.num_rows)
        return ChunkColumns(sentences=table, annotations=annotations)

    def _unit_and_label(self, table: pa.Table) -> tuple[pa.Array, pa.Array]:
        """Unit (0 claim type, 1.. stance targets in order) and label id in its categories."""
        target = table.column("target_id")
        choice = table.column("choice_id")
        is_claim = pc.is_null(target)
        unit = pc.if_else(
            is_claim, _ZERO, pc.add(pc.index_in(target, value_set=self._target_ids), 1)
        )
        label = pc.if_else(
            is_claim,
            pc.index_in(choice, value_set=self._claim_ids),
            pc.index_in(choice, value_set=self._stance_ids),
        )
        return unit, label

    def _annotation_table(self, chunk: ReleaseChunk) -> pa.Table:
        annotations = chunk.annotations
        unit, label_id = self._unit_and_label(annotations)
        return (
            annotations.append_column("unit", unit)
            .append_column("label_id", label_id)
            .filter(pc.is_valid(unit))
        )

    def _gold_table(self, chunk: ReleaseChunk) -> pa.Table:
        gold = chunk.gold
        unit, label_id = self._unit_and_label(gold)
        return pa.table(
            {"sentence_id": gold.column("sentence_id"), "unit": unit, "label_id": label_id}
        )

    def _included(self, sources: list[pa.Array]) -> pa.Array:
        include = self.options.include
        if include == "all":
            return pa.array([True] * len(sources[0]), pa.bool_())
        wanted = ("gold", "majority") if include == "gold_or_majority" else SOURCES
        result = pc.is_in(sources[0], value_set=pa.array(wanted))
        for source in sources[1:]:
            result = pc.or_(result, pc.is_in(source, value_set=pa.array(wanted)))
        return pc.fill_null(result, False)

    def _annotations_out(
        self,
        annotations: pa.Table,
        sid: pa.Array,
        aid: pa.Array,
        out: dict[str, pa.Array],
        split: pa.Array,
    ) -> pa.Table:
        """One row per annotation, in the release's columns."""
        position = pc.index_in(annotations.column("sentence_id"), value_set=sid)
        users = annotations.column("annotator")
        unique = pc.unique(users)
        shown = _array([self.names[name] for name in unique.to_pylist()], pa.string())
        slugs = _array([slug for _, slug, _ in self.schema.targets], pa.string())
        target = annotations.column("target_id")
        is_claim = pc.is_null(target)
        label_id = annotations.column("label_id")
        label = pc.if_else(
            is_claim,
            self._claim_values.take(pc.if_else(is_claim, label_id, _NO_ID)),
            self._stance_values.take(pc.if_else(is_claim, _NO_ID, label_id)),
        )
        self.tally.annotations += annotations.num_rows
        return pa.table(
            {
                "sentence_id": annotations.column("sentence_id"),
                "article_id": aid.take(position),
                "external_id": out["external_id"].take(position),
                "sentence_index": out["sentence_index"].take(position),
                "split": split.take(position),
                "annotator": shown.take(pc.index_in(users, value_set=unique)),
                "layer": pc.if_else(is_claim, CLAIM_TYPE, STANCE),
                "target": slugs.take(pc.index_in(target, value_set=self._target_ids)),
                "label": label,
                "label_id": pc.fill_null(label_id, NO_LABEL).cast(pa.int64()),
                "seconds_spent": annotations.column("seconds_spent"),
            }
        )

    def _assign(
        self,
        article_ids: pa.Array,
        included: pa.Array,
        claim_ids: pa.Array | None,
        external: Mapping[int, str],
    ) -> None:
        """Split the chunk's articles that have records but no split yet, by stratum."""
        kept = pa.table({"article": article_ids, "label": claim_ids}).filter(included)
        if not kept.num_rows:
            return
        per_label = kept.group_by(["article", "label"]).aggregate([([], "count_all")])
        dominant: dict[int, Counter[int | None]] = defaultdict(Counter)
        for article, label, n in zip(
            *(per_label.column(name).to_pylist() for name in ("article", "label", "count_all")),
            strict=True,
        ):
            dominant[article][label] += n
        values = self.schema.claim_types
        new = []
        for article_id in sorted(dominant):
            if article_id in self.splits:
                continue
            named = {label: n for label, n in dominant[article_id].items() if label is not None}
            # Most records first, then the label earliest in the schema.
            stratum = values[min(named, key=lambda v: (-named[v], v))] if named else ""
            new.append((article_id, external[article_id], stratum))
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

    def _count(self, table: pa.Table, annotations: pa.Table, n_articles: int) -> None:
        tally = self.tally
        tally.sentences += table.num_rows
        records = table.filter(table.column("included"))
        for row in records.group_by(["split"]).aggregate([([], "count_all")]).to_pylist():
            tally.records[row["split"]] += row["count_all"]
        per_article = records.group_by(["split", "article_id"]).aggregate([])
        for row in per_article.group_by(["split"]).aggregate([([], "count_all")]).to_pylist():
            tally.articles[row["split"]] += row["count_all"]
        for unit in self.units:
            column = unit.column
            grouped = records.group_by(["split", column + "_value", column + "_source"])
            for row in grouped.aggregate([([], "count_all")]).to_pylist():
                n = row["count_all"]
                tally.labels[(row["split"], column, row[column + "_value"])] += n
                tally.sources[(column, row[column + "_source"])] += n
        people = annotations.group_by(["article_id", "annotator"]).aggregate([])
        counted = people.group_by(["article_id"]).aggregate([([], "count_all")])
        for n in counted.column("count_all").to_pylist():
            tally.annotators_per_article[n] += 1
        if n_articles > counted.num_rows:
            tally.annotators_per_article[0] += n_articles - counted.num_rows

    def record_names(self) -> tuple[str, ...]:
        return self.schema.record_columns(context=self.options.context) + ("included",)


def _context(article_ids: pa.Array, text: pa.Array) -> dict[str, pa.Array]:
    """The sentence before and after each one, within its article only."""
    none = pa.nulls(1, pa.string())
    no_id = pa.nulls(1, pa.int64())
    before = pa.concat_arrays([none, text[:-1]])
    before_id = pa.concat_arrays([no_id, article_ids[:-1]])
    after = pa.concat_arrays([text[1:], none])
    after_id = pa.concat_arrays([article_ids[1:], no_id])
    return {
        "previous_text": pc.if_else(pc.equal(before_id, article_ids), before, _NO_TEXT),
        "next_text": pc.if_else(pc.equal(after_id, article_ids), after, _NO_TEXT),
    }
