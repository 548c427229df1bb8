"""The pure export encoders: records, summaries, pseudonyms, CSV neutralising (no database)."""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest

from annotator import exporting
from annotator.exporting import (
    CsvEncoder,
    ExportChunk,
    ExportOptions,
    ExportSchema,
    encode_chunks,
    majority,
    neutralise_cell,
    pseudonym,
    sentence_records,
    summarize_labels,
)

SCHEMA = ExportSchema(
    corpus="korea",
    schema_version=3,
    claim_types=("factual_claim", "opinion", "not_a_claim"),
    stances=("favor", "against", "neutral"),
    targets=((7, "Alliance"),),
)
CHUNK = ExportChunk(
    articles=[(1, "a.txt", "A", "", "1"), (2, "b.txt", "B", "https://example.org/b", "2")],
    sentences=[
        (10, 1, 0, 0, 0, 5, "One."),
        (11, 1, 1, 0, 6, 11, "Two."),
        (20, 2, 0, 0, 0, 6, "Three."),
    ],
    annotations=[
        (10, "ann", "claim_type", None, "opinion", 1.5, "2026-01-01T00:00:00+00:00"),
        (10, "ann", "stance", 7, "favor", 2.0, "2026-01-01T00:00:00+00:00"),
        (10, "bob", "claim_type", None, "opinion", 3.0, "2026-01-02T00:00:00+00:00"),
        (11, "bob", "claim_type", None, "not_a_claim", 1.0, "2026-01-02T00:00:00+00:00"),
    ],
    notes=[(11, "bob", True, "hard one")],
    gold=[(10, "claim_type", None, "opinion", "unanimous")],
)


def test_exporting_does_not_import_django() -> None:
    tree = ast.parse(Path(exporting.__file__).read_text(encoding="utf-8"))
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not [name for name in modules if name.split(".")[0] == "django"]


def test_majority_is_none_on_a_tie_or_no_labels() -> None:
    assert majority({"a": 2, "b": 1}) == "a"
    assert majority({"a": 1, "b": 1}) is None
    assert majority({}) is None


def test_summary_lists_every_category_and_keeps_unknown_labels() -> None:
    summary = summarize_labels(["b", "x"], categories=("a", "b"), gold=("b", "majority"))
    assert summary["distribution"] == {"a": 0, "b": 1, "x": 1}
    assert summary["gold"] == "b" and summary["gold_method"] == "majority"
    assert summary["n_labels"] == 2


def test_pseudonyms_are_stable_per_key_and_differ_between_keys() -> None:
    assert pseudonym("alice", key=b"k1") == pseudonym("alice", key=b"k1")
    assert pseudonym("alice", key=b"k1") != pseudonym("alice", key=b"k2")
    assert pseudonym("alice", key=b"k1") != pseudonym("bob", key=b"k1")
    assert "alice" not in pseudonym("alice", key=b"k1")


def test_records_carry_context_within_an_article_only() -> None:
    records = list(sentence_records(CHUNK, schema=SCHEMA, options=ExportOptions()))

    assert [r["sentence_id"] for r in records] == [10, 11, 20]
    assert records[0]["previous_text"] is None and records[0]["next_text"] == "Two."
    # "Three." opens article 2: its neighbours in the chunk belong to article 1.
    assert records[1]["next_text"] is None
    assert records[2]["previous_text"] is None and records[2]["url"] == "https://example.org/b"


def test_records_group_labels_per_annotator_with_notes_and_time() -> None:
    first, second, _ = sentence_records(CHUNK, schema=SCHEMA, options=ExportOptions())

    ann = next(entry for entry in first["labels"] if entry["annotator"] == "ann")
    assert ann == {
        "annotator": "ann",
        "claim_type": "opinion",
        "stance": {"Alliance": "favor"},
        "seconds": 3.5,
        "flagged": False,
        "note": "",
    }
    assert first["claim_type"]["majority"] == "opinion" and first["claim_type"]["agreement"] == 1
    assert first["claim_type"]["gold"] == "opinion"
    assert first["stance"]["Alliance"]["distribution"] == {"favor": 1, "against": 0, "neutral": 0}
    assert second["labels"][0]["flagged"] is True and second["labels"][0]["note"] == "hard one"


def test_only_gold_and_require_annotation_filter_records() -> None:
    gold_only = list(sentence_records(CHUNK, schema=SCHEMA, options=ExportOptions(only_gold=True)))
    labelled = list(
        sentence_records(CHUNK, schema=SCHEMA, options=ExportOptions(require_annotation=True))
    )
    assert [r["sentence_id"] for r in gold_only] == [10]
    assert [r["sentence_id"] for r in labelled] == [10, 11]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+CMD", "'+CMD"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("plain", "plain"),
        ("", ""),
        (-2, -2),
    ],
)
def test_neutralise_cell(cell: object, expected: object) -> None:
    assert neutralise_cell(cell) == expected


def test_csv_encoder_quotes_and_neutralises() -> None:
    encoder = CsvEncoder()
    text = encoder.line(['=HYPERLINK("x")', 'say "hi", ok', None, 1.5])
    assert list(csv.reader(io.StringIO(text))) == [['\'=HYPERLINK("x")', 'say "hi", ok', "", "1.5"]]


def test_wide_csv_and_jsonl_have_the_same_records() -> None:
    options = ExportOptions()
    jsonl = b"".join(encode_chunks([CHUNK], schema=SCHEMA, options=options)).decode()
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    encode_chunks([CHUNK], schema=SCHEMA, options=options, encoding="csv")
                ).decode()
            )
        )
    )
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert [row["text"] for row in rows] == [r["text"] for r in records]
    assert rows[0]["stance[Alliance]_distribution"] == '{"favor":1,"against":0,"neutral":0}'
    assert json.loads(rows[0]["labels"]) == records[0]["labels"]


def test_long_rows_are_one_per_annotation_with_pseudonyms() -> None:
    options = ExportOptions(anonymize=True, pseudonym_key=b"k")
    text = b"".join(encode_chunks([CHUNK], schema=SCHEMA, options=options, shape="long")).decode()
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 4
    assert rows[1]["target"] == "Alliance" and rows[1]["label"] == "favor"
    assert {row["annotator"] for row in rows} == {
        pseudonym("ann", key=b"k"),
        pseudonym("bob", key=b"k"),
    }


@pytest.mark.parametrize("shape", ["wide", "long"])
@pytest.mark.parametrize("encoding", ["jsonl", "csv"])
def test_every_record_names_the_segmenter_version_of_its_article(shape: str, encoding: str) -> None:
    text = b"".join(
        encode_chunks(
            [CHUNK], schema=SCHEMA, options=ExportOptions(), encoding=encoding, shape=shape
        )
    ).decode()
    if encoding == "csv":
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
        assert header[-3:] == ["schema_version", "segmenter", "segmenter_version"]
    else:
        rows = [json.loads(line) for line in text.splitlines()]

    article_of = {"a.txt": "1", "b.txt": "2"}
    assert rows
    for row in rows:
        assert row["segmenter"] == "annotator.segmentation"
        assert str(row["segmenter_version"]) == article_of[row["external_id"]]
        assert str(row["schema_version"]) == "3"
    if shape == "wide":
        assert {row["external_id"] for row in rows} == {"a.txt", "b.txt"}
