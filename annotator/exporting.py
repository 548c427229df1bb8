"""Dataset encoders: plain rows in, one JSON record (or CSV row) per sentence out.

Pure computation, no Django: `export_queries.py` reads the database in chunks of articles and
hands each chunk here as tuples. Everything a record needs (majority label, label distribution,
per-sentence agreement, pseudonyms) is computed from the chunk itself, so an export costs a fixed
number of queries per chunk whatever the number of sentences or annotations.

Record fields are described once, in `FIELD_DESCRIPTIONS`, which the dataset card repeats.
Every record, wide or long, JSON Lines or CSV, ends with the label schema's version and the
segmenter (and its version) that split the sentence's article, so a dataset says which
boundaries its offsets belong to.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from annotator.agreement import unit_agreement

CLAIM_TYPE = "claim_type"
STANCE = "stance"
LAYERS = (CLAIM_TYPE, STANCE)

Shape = Literal["wide", "long"]
Encoding = Literal["jsonl", "csv"]

# The sentence splitter of annotator/segmentation.py; each article records the SEGMENTER_VERSION
# it was split with (Article.segmenter_version).
SEGMENTER = "annotator.segmentation"

# Spreadsheet programs run a cell starting with one of these as a formula (CSV injection);
# tab and carriage return are on OWASP's list because they can hide the leading character.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

FIELD_DESCRIPTIONS: dict[str, str] = {
    "corpus": "Slug of the corpus.",
    "article_id": "Database id of the article (stable).",
    "external_id": "File name or JSONL id the article was imported from.",
    "title": "Article title ('' when unknown).",
    "url": "Article URL ('' when unknown).",
    "sentence_id": "Database id of the sentence (stable).",
    "sentence_index": "0-based position of the sentence in its article.",
    "paragraph": "0-based paragraph number of the sentence in its article.",
    "start": "Offset of the sentence's first character in the article text.",
    "end": "Offset just past the sentence's last character: text == article_text[start:end].",
    "text": "The sentence, verbatim.",
    "previous_text": "The sentence before it in the article (null for the first).",
    "next_text": "The sentence after it in the article (null for the last).",
    "labels": (
        "One entry per annotator: annotator (username, or a stable pseudonym with "
        "anonymize=1), claim_type, stance (target name -> label or null), seconds (time spent "
        "on the sentence, all layers), flagged (marked unsure), note."
    ),
    "claim_type": (
        "Claim-type summary: gold (settled label or null), gold_method (unanimous, majority, "
        "adjudicated), majority (most frequent annotator label, null on a tie or no labels), "
        "distribution (label -> number of annotators, every label listed), agreement (share of "
        "annotator pairs that agree; null with fewer than two labels), n_labels."
    ),
    "stance": "Target name -> the same summary as claim_type, for the stance layer.",
    "schema_version": "Version of the corpus's label schema the labels belong to.",
    "segmenter": f"Sentence splitter that split the article ({SEGMENTER!r}).",
    "segmenter_version": (
        "Version of that splitter the article was split with; sentence boundaries and offsets "
        "of one version never change."
    ),
}
# Fields an export adds with include_predictions (the dataset card lists them too).
PREDICTION_FIELD_DESCRIPTIONS: dict[str, str] = {
    "predictions": (
        "Wide records: one entry per model prediction of the sentence: layer, target (name, "
        "null for claim type), model, model_version, label, score (the model's probability of "
        "its label). The models are the current baseline of each layer and the newest version "
        "of each external model."
    ),
    "labels[].suggestions": (
        "Wide records, per annotator: layer key (claim_type, or stance:<target name>) -> "
        "{visible, label, model_version_id}: the model's suggestion when the label was made; "
        "visible false means it was computed but hidden as a control. Absent when none was."
    ),
    "suggestion_visible": "Long rows: true if a suggestion was shown, false if hidden, null.",
    "suggested_label": "Long rows: the label the model suggested (null when none).",
    "suggestion_model_version_id": "Long rows: the model version that made the suggestion.",
}
# Fields that close every record (wide and long), in this order.
TRAILING_FIELDS = ("schema_version", "segmenter", "segmenter_version")
LONG_FIELDS = (
    "corpus",
    "article_id",
    "external_id",
    "sentence_id",
    "sentence_index",
    "annotator",
    "layer",
    "target",
    "label",
    "seconds_spent",
    "updated_at",
    *TRAILING_FIELDS,
)


@dataclass(frozen=True)
class ExportSchema:
    """What every record of one export shares: the corpus and its label schema."""

    corpus: str
    schema_version: int
    claim_types: tuple[str, ...]
    stances: tuple[str, ...]
    targets: tuple[tuple[int, str], ...]  # (target id, name) in display order
    layers: tuple[str, ...] = LAYERS

    @property
    def target_names(self) -> dict[int, str]:
        return dict(self.targets)


@dataclass(frozen=True)
class ExportOptions:
    anonymize: bool = False
    pseudonym_key: bytes = b""
    only_gold: bool = False
    # With a date range, only annotations changed in it count and unlabelled sentences drop out.
    require_annotation: bool = False
    include_predictions: bool = False


# Row shapes handed over by export_queries.py (plain tuples, in this order).
ArticleRow = tuple[int, str, str, str, str]  # id, external_id, title, url, segmenter_version
SentenceRow = tuple[
    int, int, int, int, int, int, str
]  # id, article, ordinal, para, start, end, text
AnnotationRow = tuple[int, str, str, int | None, str, float, str]
# sentence id, annotator, layer, target id, label value, seconds, updated_at (ISO 8601)
NoteRow = tuple[int, str, bool, str]  # sentence id, annotator, unsure, note
GoldRow = tuple[int, str, int | None, str, str]  # sentence id, layer, target id, label, method


@dataclass
class ExportChunk:
    articles: Sequence[ArticleRow]
    sentences: Sequence[SentenceRow]  # ordered by article, then ordinal
    annotations: Sequence[AnnotationRow] = ()
    notes: Sequence[NoteRow] = ()
    gold: Sequence[GoldRow] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def pseudonym(username: str, *, key: bytes) -> str:
    """A stable stand-in for `username`: the same name and key give the same pseudonym."""
    digest = hmac.new(key, username.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"annotator-{digest[:12]}"


def majority(counts: Mapping[str, int]) -> str | None:
    """The single most frequent label; None when there is no label or the top is a tie."""
    best: str | None = None
    best_count = 0
    tied = False
    for label, count in counts.items():
        if count > best_count:
            best, best_count, tied = label, count, False
        elif count == best_count:
            tied = True
    return None if tied else best


def summarize_labels(
    labels: Iterable[str], *, categories: Sequence[str], gold: tuple[str, str] | None
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return summarize_counts(counts, categories=categories, gold=gold)


def summarize_counts(
    counts: Mapping[str, int], *, categories: Sequence[str], gold: tuple[str, str] | None
) -> dict[str, Any]:
    """Majority, distribution and agreement of one sentence's labels (label -> annotators)."""
    # Every category is listed (zeros too) so each record has the same keys: Arrow and
    # pandas then infer one schema for the whole file. Labels outside the schema follow.
    distribution = dict.fromkeys(categories, 0)
    distribution.update(counts)
    return {
        "gold": gold[0] if gold else None,
        "gold_method": gold[1] if gold else None,
        "majority": majority(counts),
        "distribution": distribution,
        "agreement": unit_agreement(counts.values()),
        "n_labels": sum(counts.values()),
    }


class _Names(dict):
    """Annotator display names for one export: usernames, or pseudonyms computed once each."""

    def __init__(self, options: ExportOptions) -> None:
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


def sentence_records(
    chunk: ExportChunk, *, schema: ExportSchema, options: ExportOptions, names: _Names | None = None
) -> Iterator[dict[str, Any]]:
    """One record per sentence of `chunk`, in article and sentence order.

    This loop is most of an export's CPU time, hence plain dicts, templates copied per
    annotator and counts kept while grouping rather than a second pass.
    """
    names = names if names is not None else _Names(options)
    target_names = schema.target_names
    with_claim = CLAIM_TYPE in schema.layers
    with_stance = STANCE in schema.layers
    claim_types, stances, targets = schema.claim_types, schema.stances, schema.targets
    corpus, version = schema.corpus, schema.schema_version
    articles = {row[0]: row for row in chunk.articles}
    # Key order of every annotator entry: annotator, claim_type, stance, seconds, flagged, note.
    entry_template: dict[str, Any] = {"annotator": ""}
    if with_claim:
        entry_template[CLAIM_TYPE] = None
    if with_stance:
        entry_template[STANCE] = None
    entry_template.update(seconds=0.0, flagged=False, note="")
    stance_template = dict.fromkeys(target_names.values())

    def new_entry(username: str) -> dict[str, Any]:
        entry = entry_template.copy()
        entry["annotator"] = names[username]
        if with_stance:
            entry[STANCE] = stance_template.copy()
        return entry

    by_sentence: dict[int, list[AnnotationRow]] = defaultdict(list)
    for row in chunk.annotations:
        by_sentence[row[0]].append(row)
    notes: dict[int, list[NoteRow]] = defaultdict(list)
    for row in chunk.notes:
        notes[row[0]].append(row)
    gold: dict[tuple[int, str, int | None], tuple[str, str]] = {
        (row[0], row[1], row[2]): (row[3], row[4]) for row in chunk.gold
    }
    gold_keys = _layer_keys(schema, with_claim, with_stance)
    require_annotation, only_gold = options.require_annotation, options.only_gold
    with_predictions = options.include_predictions
    suggestions = chunk.extra.get("suggestions", {}) if with_predictions else {}
    predictions = chunk.extra.get("predictions", {}) if with_predictions else {}

    sentences = chunk.sentences
    last = len(sentences) - 1
    for position, sentence in enumerate(sentences):
        sentence_id, article_id = sentence[0], sentence[1]
        annotations = by_sentence.get(sentence_id, ())
        if require_annotation and not annotations:
            continue
        if only_gold and not any((sentence_id, lay, tgt) in gold for lay, tgt in gold_keys):
            continue
        previous = sentences[position - 1] if position else None
        following = sentences[position + 1] if position < last else None
        article = articles[article_id]

        per_annotator: dict[str, dict[str, Any]] = {}
        claim_counts: dict[str, int] = {}
        stance_counts: dict[int, dict[str, int]] = {}
        for _, username, layer, target, label, seconds, _ in annotations:
            entry = per_annotator.get(username)
            if entry is None:
                entry = per_annotator[username] = new_entry(username)
            entry["seconds"] += seconds
            if suggestions:
                seen = suggestions.get((sentence_id, username, layer, target))
                if seen is not None:
                    key = (
                        CLAIM_TYPE
                        if layer == CLAIM_TYPE
                        else f"{STANCE}:{target_names.get(target, target)}"
                    )
                    entry.setdefault("suggestions", {})[key] = {
                        "visible": seen[0],
                        "label": seen[1],
                        "model_version_id": seen[2],
                    }
            if layer == CLAIM_TYPE:
                entry[CLAIM_TYPE] = label
                claim_counts[label] = claim_counts.get(label, 0) + 1
            else:
                entry[STANCE][target_names.get(target, str(target))] = label
                counts = stance_counts.get(target)
                if counts is None:
                    counts = stance_counts[target] = {}
                counts[label] = counts.get(label, 0) + 1
        for _, username, unsure, note in notes.get(sentence_id, ()):
            entry = per_annotator.get(username)
            if entry is None:
                if require_annotation:
                    continue
                entry = per_annotator[username] = new_entry(username)
            entry["flagged"] = unsure
            entry["note"] = note

        record: dict[str, Any] = {
            "corpus": corpus,
            "article_id": article_id,
            "external_id": article[1],
            "title": article[2],
            "url": article[3],
            "sentence_id": sentence_id,
            "sentence_index": sentence[2],
            "paragraph": sentence[3],
            "start": sentence[4],
            "end": sentence[5],
            "text": sentence[6],
            "previous_text": previous[6] if previous and previous[1] == article_id else None,
            "next_text": following[6] if following and following[1] == article_id else None,
            "labels": list(per_annotator.values()),
        }
        if with_claim:
            record[CLAIM_TYPE] = summarize_counts(
                claim_counts, categories=claim_types, gold=gold.get((sentence_id, CLAIM_TYPE, None))
            )
        if with_stance:
            record[STANCE] = {
                name: summarize_counts(
                    stance_counts.get(target_id, {}),
                    categories=stances,
                    gold=gold.get((sentence_id, STANCE, target_id)),
                )
                for target_id, name in targets
            }
        if with_predictions:
            record["predictions"] = [
                {
                    "layer": layer,
                    "target": target_names.get(target) if target is not None else None,
                    "model": model,
                    "model_version": model_version,
                    "label": label,
                    "score": score,
                }
                for layer, target, model, model_version, label, score in predictions.get(
                    sentence_id, ()
                )
            ]
        record["schema_version"] = version
        record["segmenter"] = SEGMENTER
        record["segmenter_version"] = article[4] or None
        yield record


def _layer_keys(
    schema: ExportSchema, with_claim: bool, with_stance: bool
) -> list[tuple[str, int | None]]:
    keys: list[tuple[str, int | None]] = [(CLAIM_TYPE, None)] if with_claim else []
    if with_stance:
        keys.extend((STANCE, target_id) for target_id, _ in schema.targets)
    return keys


def long_rows(
    chunk: ExportChunk, *, schema: ExportSchema, options: ExportOptions, names: _Names | None = None
) -> Iterator[dict[str, Any]]:
    """One row per annotation (the long format statistics software expects)."""
    names = names if names is not None else _Names(options)
    target_names = schema.target_names
    articles = {row[0]: row for row in chunk.articles}
    sentences = {row[0]: row for row in chunk.sentences}
    suggestions = chunk.extra.get("suggestions", {})
    for sentence_id, username, layer, target, label, seconds, updated_at in chunk.annotations:
        sentence = sentences[sentence_id]
        article = articles[sentence[1]]
        row = {
            "corpus": schema.corpus,
            "article_id": sentence[1],
            "external_id": article[1],
            "sentence_id": sentence_id,
            "sentence_index": sentence[2],
            "annotator": names[username],
            "layer": layer,
            "target": target_names.get(target) if target is not None else None,
            "label": label,
            "seconds_spent": seconds,
            "updated_at": updated_at,
        }
        if options.include_predictions:
            seen = suggestions.get((sentence_id, username, layer, target), (None, None, None))
            row["suggestion_visible"] = seen[0]
            row["suggested_label"] = seen[1]
            row["suggestion_model_version_id"] = seen[2]
        row["schema_version"] = schema.schema_version
        row["segmenter"] = SEGMENTER
        row["segmenter_version"] = article[4] or None
        yield row


# --- Encoders ------------------------------------------------------------------------------


def _encode_json(value: object) -> str:
    # orjson: compact UTF-8 JSON several times faster than the standard library's encoder,
    # which is most of an export's CPU time.
    return orjson.dumps(value).decode("utf-8")


def jsonl_line(record: Mapping[str, Any]) -> bytes:
    """One JSON Lines record as UTF-8 bytes, newline included."""
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def neutralise_cell(value: object) -> object:
    """Prefix a text cell a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def long_header(options: ExportOptions) -> tuple[str, ...]:
    if not options.include_predictions:
        return LONG_FIELDS
    at = LONG_FIELDS.index("updated_at") + 1
    added = ("suggestion_visible", "suggested_label", "suggestion_model_version_id")
    return (*LONG_FIELDS[:at], *added, *LONG_FIELDS[at:])


def wide_csv_header(schema: ExportSchema, *, predictions: bool = False) -> list[str]:
    header = [
        name
        for name in FIELD_DESCRIPTIONS
        if name not in {"labels", CLAIM_TYPE, STANCE, *TRAILING_FIELDS}
    ]
    header.append("labels")
    summary_keys = ("gold", "gold_method", "majority", "distribution", "agreement", "n_labels")
    if CLAIM_TYPE in schema.layers:
        header.extend(f"claim_type_{key}" for key in summary_keys)
    if STANCE in schema.layers:
        for _, name in schema.targets:
            header.extend(f"stance[{name}]_{key}" for key in summary_keys)
    if predictions:
        header.append("predictions")
    header.extend(TRAILING_FIELDS)
    return header


def flatten_record(record: Mapping[str, Any]) -> list[Any]:
    """A wide record as one CSV row, in `wide_csv_header` order; nested values become JSON."""
    row: list[Any] = [
        record[name]
        for name in FIELD_DESCRIPTIONS
        if name not in {"labels", CLAIM_TYPE, STANCE, *TRAILING_FIELDS}
    ]
    row.append(_encode_json(record["labels"]))
    summaries: list[Mapping[str, Any]] = []
    if CLAIM_TYPE in record:
        summaries.append(record[CLAIM_TYPE])
    if STANCE in record:
        summaries.extend(record[STANCE].values())
    for summary in summaries:
        row.extend(
            (
                summary["gold"],
                summary["gold_method"],
                summary["majority"],
                _encode_json(summary["distribution"]),
                summary["agreement"],
                summary["n_labels"],
            )
        )
    if "predictions" in record:
        row.append(_encode_json(record["predictions"]))
    row.extend(record[name] for name in TRAILING_FIELDS)
    return row


class CsvEncoder:
    """CSV lines with formula cells neutralised; one reusable buffer, no whole-file state."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def line(self, cells: Iterable[object]) -> str:
        self._writer.writerow(["" if cell is None else neutralise_cell(cell) for cell in cells])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate(0)
        return text


def encode_chunks(
    chunks: Iterable[ExportChunk],
    *,
    schema: ExportSchema,
    options: ExportOptions,
    encoding: Encoding = "jsonl",
    shape: Shape = "wide",
) -> Iterator[bytes]:
    """The whole export as UTF-8 pieces: one piece per chunk (plus the CSV header).

    Bytes rather than text: JSON Lines come out of orjson as UTF-8 already, and a response
    or file takes them as they are.
    """
    names = _Names(options)
    csv_encoder = CsvEncoder() if encoding == "csv" else None
    if csv_encoder is not None:
        header = (
            long_header(options)
            if shape == "long"
            else wide_csv_header(schema, predictions=options.include_predictions)
        )
        yield csv_encoder.line(header).encode("utf-8")
    for chunk in chunks:
        if shape == "long":
            rows = long_rows(chunk, schema=schema, options=options, names=names)
            if csv_encoder is None:
                piece = b"".join(map(jsonl_line, rows))
            else:
                piece = "".join(csv_encoder.line(row.values()) for row in rows).encode("utf-8")
        else:
            records = sentence_records(chunk, schema=schema, options=options, names=names)
            if csv_encoder is None:
                piece = b"".join(map(jsonl_line, records))
            else:
                piece = "".join(csv_encoder.line(flatten_record(r)) for r in records).encode(
                    "utf-8"
                )
        if piece:
            yield piece
