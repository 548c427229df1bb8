"""The pure release modules: splits, label resolution, records, files, card, diff (no database)."""

from __future__ import annotations

import ast
import gzip
import json
from collections import Counter
from pathlib import Path

import orjson
import pandas
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.exporting import ExportChunk
from annotator.releases import card, diff, files, records, splits
from annotator.releases.records import (
    RecordBuilder,
    RecordOptions,
    ReleaseChunk,
    ReleaseSchema,
    resolve_label,
)
from annotator.releases.splits import assign_splits, split_hash, validate_proportions

PURE = (splits, records, files, card, diff)

SCHEMA = ReleaseSchema(
    corpus="korea",
    schema_version=3,
    claim_types=("factual_claim", "opinion", "not_a_claim"),
    stances=("favor", "against", "neutral"),
    targets=((7, "alliance", "China–North Korea alliance"),),
    claim_ids=(101, 102, 103),
    stance_ids=(201, 202, 203),
)


def chunk(*articles: tuple[int, str, list[str]], annotations=(), gold=()) -> ReleaseChunk:
    """Articles as (id, external id, sentence texts); sentence ids are article id * 10 + index."""
    sentence_rows = [
        (aid * 10 + i, aid, i, 0, 0, len(text), text)
        for aid, _, texts in articles
        for i, text in enumerate(texts)
    ]
    rows = ExportChunk(
        articles=[(aid, ext, f"Title {aid}", "") for aid, ext, _ in articles],
        sentences=sentence_rows,
        annotations=list(annotations),
        gold=list(gold),
    )
    return ReleaseChunk.from_export(rows, SCHEMA)


def ann(sentence: int, who: str, label: str, target: int | None = None) -> tuple:
    layer = "stance" if target is not None else "claim_type"
    return (sentence, who, layer, target, label, 1.5, "")


@pytest.mark.parametrize("module", PURE, ids=lambda m: m.__name__)
def test_pure_modules_do_not_import_django(module: object) -> None:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not [name for name in names if name.split(".")[0] == "django"]


# --- Splits -----------------------------------------------------------------------------------


def test_split_hash_is_seeded_and_stable() -> None:
    assert split_hash("0", "a.txt") == split_hash("0", "a.txt")
    assert split_hash("0", "a.txt") != split_hash("1", "a.txt")
    # A fixed value: the rule must not change between versions, or splits would move.
    assert split_hash("0", "a.txt") == int.from_bytes(
        __import__("hashlib").sha256(b"0\x00a.txt").digest()[:8], "big"
    )


@pytest.mark.parametrize(
    "proportions",
    [
        {"train": 0.5, "validation": 0.5, "test": 0.5},
        {"train": 0, "validation": 0.5, "test": 0.5},
        {"train": 1.2, "validation": -0.2, "test": 0},
        {"train": 0.8, "dev": 0.2},
    ],
)
def test_bad_proportions_are_refused(proportions: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        validate_proportions(proportions)


def test_each_stratum_is_split_in_the_proportions() -> None:
    new = [(f"a{i}", f"a{i}.txt", "opinion") for i in range(50)]
    new += [(f"b{i}", f"b{i}.txt", "factual_claim") for i in range(30)]
    result = assign_splits(
        new, existing={}, proportions={"train": 0.8, "validation": 0.1, "test": 0.1}, seed="7"
    )
    per = Counter((key[0], split) for key, split in result.items())
    assert (per["a", "train"], per["a", "validation"], per["a", "test"]) == (40, 5, 5)
    assert (per["b", "train"], per["b", "validation"], per["b", "test"]) == (24, 3, 3)


def test_new_articles_even_out_a_stratum_with_earlier_assignments() -> None:
    existing = {"opinion": {"train": 10, "validation": 0, "test": 0}}
    new = [(i, f"n{i}.txt", "opinion") for i in range(10)]
    result = assign_splits(
        new,
        existing=existing,
        proportions={"train": 0.5, "validation": 0.25, "test": 0.25},
        seed="0",
    )
    assert Counter(result.values()) == {"validation": 5, "test": 5}


def test_assignment_depends_on_seed_and_ids_only() -> None:
    new = [(i, f"n{i}.txt", "x") for i in range(40)]
    shares = {"train": 0.6, "validation": 0.2, "test": 0.2}
    first = assign_splits(new, existing={}, proportions=shares, seed="s")
    assert assign_splits(list(reversed(new)), existing={}, proportions=shares, seed="s") == first
    assert assign_splits(new, existing={}, proportions=shares, seed="t") != first


# --- Label resolution and records --------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "gold", "expected"),
    [
        ({}, None, (None, None, None)),
        ({"opinion": 1}, None, ("opinion", "single", None)),
        ({"opinion": 2}, None, ("opinion", "majority", "opinion")),
        ({"opinion": 1, "factual_claim": 1}, None, (None, None, None)),
        ({"opinion": 2, "factual_claim": 1}, None, ("opinion", "majority", "opinion")),
        ({"opinion": 1}, "factual_claim", ("factual_claim", "gold", None)),
        ({"opinion": 2}, "factual_claim", ("factual_claim", "gold", "opinion")),
    ],
)
def test_resolve_label(counts: dict[str, int], gold: str | None, expected: tuple) -> None:
    assert resolve_label(counts, gold) == expected


def build(chunks: list[ReleaseChunk], **options: object) -> tuple[RecordBuilder, list]:
    builder = RecordBuilder(schema=SCHEMA, options=RecordOptions(**options), seed="0")
    return builder, [builder.columns(c) for c in chunks]


def test_one_annotator_is_single_never_a_majority_of_one() -> None:
    data = chunk((1, "a.txt", ["One.", "Two."]), annotations=[ann(10, "ann", "opinion")])
    builder, (columns,) = build([data], include="all")
    rows = columns.sentences.to_pydict()
    assert rows["claim_type_source"] == ["single", None]
    assert rows["claim_type_majority"] == [None, None]
    assert rows["claim_type"] == [1, -1]
    assert rows["claim_type_n_labels"] == [1, 0]


def test_default_records_need_gold_or_a_majority() -> None:
    data = chunk(
        (1, "a.txt", ["Agreed.", "Single.", "Tie.", "Gold."]),
        annotations=[
            ann(10, "a", "opinion"),
            ann(10, "b", "opinion"),
            ann(11, "a", "opinion"),
            ann(12, "a", "opinion"),
            ann(12, "b", "not_a_claim"),
        ],
        gold=[(13, "claim_type", None, "factual_claim", "adjudicated")],
    )
    for include, expected in (
        ("gold_or_majority", [True, False, False, True]),
        ("any_label", [True, True, False, True]),
        ("all", [True, True, True, True]),
    ):
        _, (columns,) = build([data], include=include)
        assert columns.sentences.column("included").to_pylist() == expected, include


def test_stance_is_keyed_by_the_target_slug_and_ids_follow_the_schema_order() -> None:
    data = chunk(
        (1, "a.txt", ["One."]),
        annotations=[ann(10, "a", "neutral", target=7), ann(10, "b", "neutral", target=7)],
    )
    _, (columns,) = build([data])
    assert columns.sentences.column("stance_alliance").to_pylist() == [
        SCHEMA.stances.index("neutral")
    ]
    assert columns.sentences.column("stance_alliance_value").to_pylist() == ["neutral"]
    assert columns.annotations.column("target").to_pylist() == ["alliance", "alliance"]


def test_context_only_within_the_article_and_only_when_asked() -> None:
    data = chunk((1, "a.txt", ["One.", "Two."]), (2, "b.txt", ["Three."]))
    _, (plain,) = build([data], include="all")
    assert "previous_text" not in plain.sentences.column_names
    _, (columns,) = build([data], include="all", context=True)
    assert columns.sentences.column("previous_text").to_pylist() == [None, "One.", None]
    assert columns.sentences.column("next_text").to_pylist() == ["Two.", None, None]


def test_an_article_is_in_one_split_and_keeps_a_stored_split() -> None:
    articles = [(i, f"a{i}.txt", ["X.", "Y."]) for i in range(1, 21)]
    labels = [ann(i * 10 + j, who, "opinion") for i in range(1, 21) for j in (0, 1) for who in "ab"]
    builder = RecordBuilder(
        schema=SCHEMA, options=RecordOptions(), splits={1: ("test", "opinion")}, seed="0"
    )
    columns = builder.columns(chunk(*articles, annotations=labels)).sentences.to_pydict()
    per_article: dict[int, set[str]] = {}
    for article_id, split in zip(columns["article_id"], columns["split"], strict=True):
        per_article.setdefault(article_id, set()).add(split)
    assert all(len(found) == 1 for found in per_article.values())
    assert per_article[1] == {"test"}
    assert {a for a, _, _ in builder.new_splits} == set(range(2, 21))


def test_anonymised_annotators_are_pseudonyms() -> None:
    data = chunk((1, "a.txt", ["One."]), annotations=[ann(10, "alice", "opinion")])
    _, (columns,) = build([data], anonymize=True, pseudonym_key=b"k")
    assert columns.annotations.column("annotator")[0].as_py().startswith("annotator-")
    _, (named,) = build([data], anonymize=False)
    assert named.annotations.column("annotator").to_pylist() == ["alice"]


# --- Files --------------------------------------------------------------------------------------


def write_release(folder: Path, data: ReleaseChunk, **options: object) -> list[files.FileInfo]:
    builder = RecordBuilder(schema=SCHEMA, options=RecordOptions(**options), seed="0")
    writer = files.ReleaseWriter(folder, schema=SCHEMA, context=bool(options.get("context")))
    writer.write(builder.columns(data))
    return writer.close()


def test_formats_hold_the_same_records_and_csv_keeps_empty_strings(tmp_path: Path) -> None:
    data = chunk(
        (1, "007", ["=SUM(A1) says a reader.", "NA"]),
        annotations=[ann(s, who, "opinion") for s in (10, 11) for who in "ab"],
    )
    infos = write_release(tmp_path, data, include="all")
    names = {info.name for info in infos}
    assert {"sentences.jsonl.gz", "sentences.csv.gz", "snapshot.parquet"} <= names
    with gzip.open(tmp_path / "sentences.jsonl.gz") as lines:
        jsonl = [json.loads(line) for line in lines]
    parquet = pq.read_table(tmp_path / f"data/{jsonl[0]['split']}.parquet").to_pylist()
    assert jsonl == parquet
    schema = pq.read_schema(tmp_path / f"data/{jsonl[0]['split']}.parquet")
    frame = pandas.read_csv(tmp_path / "sentences.csv.gz", **files.pandas_csv_arguments(schema))
    assert frame["url"].tolist() == ["", ""] and frame["url"].dtype in (object, "str")
    assert frame["external_id"].tolist() == ["007", "007"]  # not the number 7
    assert frame["text"].tolist() == ["'=SUM(A1) says a reader.", "NA"]  # neutralised; NA kept
    assert frame["claim_type"].dtype == "int64"
    assert jsonl[0]["text"] == "=SUM(A1) says a reader."  # verbatim outside CSV


def test_parquet_carries_hugging_face_class_labels(tmp_path: Path) -> None:
    data = chunk((1, "a.txt", ["One."]), annotations=[ann(10, w, "opinion") for w in "ab"])
    write_release(tmp_path, data)
    split = next((tmp_path / "data").glob("*.parquet"))
    metadata = json.loads(pq.read_schema(split).metadata[b"huggingface"])
    assert metadata["info"]["features"]["claim_type"] == {
        "names": list(SCHEMA.claim_types),
        "_type": "ClassLabel",
    }


def test_equal_input_gives_equal_bytes(tmp_path: Path) -> None:
    data = chunk((1, "a.txt", ["One."]), annotations=[ann(10, w, "opinion") for w in "ab"])
    first = write_release(tmp_path / "a", data)
    second = write_release(tmp_path / "b", data)
    assert [i.sha256 for i in first] == [i.sha256 for i in second]


# --- Card ---------------------------------------------------------------------------------------


FACTS = {
    "title": "Korea: release 2",
    "corpus": "korea",
    "description": "News.",
    "number": 2,
    "note": "More gold.",
    "license": "cc-by-4.0",
    "snapshot_at": "2026-01-01T00:00:00+00:00",
    "schema_version": 3,
    "segmenter_versions": ["sentencex-1"],
    "guidelines": "# Rules\nLabel *claims*.",
    "include": "gold_or_majority",
    "context": False,
    "anonymize": True,
    "seed": "0",
    "proportions": {"train": 0.8, "validation": 0.1, "test": 0.1},
    "annotators_per_article": 2,
    "annotators_histogram": {"2": 5},
    "units": [
        {
            "column": "claim_type",
            "layer": "claim_type",
            "target": None,
            "name": "Claim type",
            "categories": [{"value": "opinion", "name": "Opinion"}],
        }
    ],
    "features": files.features(SCHEMA, SCHEMA.record_columns(context=False)),
    "splits": [
        {"name": "train", "path": "data/train.parquet", "num_examples": 1500, "num_bytes": 10},
        {"name": "test", "path": "data/test.parquet", "num_examples": 20, "num_bytes": 5},
    ],
    "counts": {
        "articles": 5,
        "sentences": 2000,
        "annotations": 4000,
        "records": 1520,
        "records_per_split": {"train": 1500, "test": 20},
        "articles_per_split": {"train": 4, "test": 1},
    },
    "labels": {"claim_type": {"train": {"opinion": 1500}, "test": {"opinion": 20}}},
    "sources": {"claim_type": {"majority": 1520}},
    "agreement": [
        {
            "label": "Claim type",
            "level": "nominal",
            "n_units": 2000,
            "n_annotators": 2,
            "krippendorff_alpha": 0.71,
            "krippendorff_alpha_ci": [0.69, 0.73],
            "percent_agreement": 0.8,
            "fleiss_kappa": 0.7,
            "mean_pairwise_kappa": 0.7,
        }
    ],
    "files": [],
}


def test_card_yaml_header_is_hugging_face_metadata() -> None:
    text = card.dataset_card(FACTS)
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["license"] == "cc-by-4.0"
    assert header["task_categories"] == ["text-classification"]
    assert header["size_categories"] == ["1K<n<10K"]
    features = {f["name"]: f["dtype"] for f in header["dataset_info"]["features"]}
    assert features["claim_type"] == {
        "class_label": {"names": {"0": "factual_claim", "1": "opinion", "2": "not_a_claim"}}
    }
    assert features["text"] == "string"
    assert header["dataset_info"]["splits"] == [
        {"name": "train", "num_bytes": 10, "num_examples": 1500},
        {"name": "test", "num_bytes": 5, "num_examples": 20},
    ]
    assert header["configs"][0]["data_files"][1] == {"split": "test", "path": "data/test.parquet"}


def test_card_prose_covers_guidelines_agreement_and_distribution() -> None:
    text = card.dataset_card(FACTS)
    assert "> # Rules" in text and "> Label *claims*." in text
    assert "0.710 [0.690, 0.730]" in text
    assert "| opinion | 1500 | 20 |" in text
    assert "| 2 | 5 |" in text  # articles by number of annotators
    assert "`sentencex-1`" in text and "Label schema version: 3" in text
    assert "More gold." in text


def test_hugging_face_reads_the_card_metadata(tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    path = tmp_path / "README.md"
    path.write_text(card.dataset_card(FACTS), encoding="utf-8")
    data = DatasetCard.load(path).data
    assert data.license == "cc-by-4.0"
    assert data.to_dict()["dataset_info"]["splits"][0]["num_examples"] == 1500


# --- Diff ---------------------------------------------------------------------------------------


def snapshot(rows: list[tuple]) -> pa.Table:
    """(sentence id, text, split, value, source) per sentence."""
    return pa.table(
        {
            "sentence_id": [r[0] for r in rows],
            "external_id": ["a.txt"] * len(rows),
            "sentence_index": list(range(len(rows))),
            "text": [r[1] for r in rows],
            "split": [r[2] for r in rows],
            "claim_type_value": [r[3] for r in rows],
            "claim_type_source": [r[4] for r in rows],
        }
    )


def test_diff_finds_added_removed_changed_settled_overturned_withdrawn() -> None:
    old = snapshot(
        [
            (1, "Kept.", "train", "opinion", "majority"),
            (2, "Gone.", "train", None, None),
            (3, "Settled.", "train", "opinion", "majority"),
            (4, "Overturned.", "test", "opinion", "gold"),
            (5, "Withdrawn.", "test", "opinion", "gold"),
        ]
    )
    new = snapshot(
        [
            (1, "Kept.", "train", "opinion", "majority"),
            (3, "Settled.", "train", "factual_claim", "gold"),
            (4, "Overturned.", "test", "not_a_claim", "gold"),
            (5, "Withdrawn.", "test", "opinion", "majority"),
            (6, "New.", None, None, None),
        ]
    )
    result = diff.diff_snapshots(old, new)
    assert result["counts"] == {
        "sentences_before": 5,
        "sentences_after": 5,
        "sentences_added": 1,
        "sentences_removed": 1,
        "labels_changed": 2,
        "gold_settled": 1,
        "gold_overturned": 1,
        "gold_withdrawn": 1,
        "split_moved": 0,
    }
    assert [r["sentence_id"] for r in result["sentences_added"]] == [6]
    assert [r["sentence_id"] for r in result["sentences_removed"]] == [2]
    change = result["labels_changed"][0]
    assert (change["sentence_id"], change["from"], change["to"]) == (3, "opinion", "factual_claim")
    assert (change["from_source"], change["to_source"]) == ("majority", "gold")


def test_diff_lists_are_capped_but_counts_complete() -> None:
    old = snapshot([])
    new = snapshot([(i, "S.", "train", None, None) for i in range(10)])
    result = diff.diff_snapshots(old, new, limit=3)
    assert result["counts"]["sentences_added"] == 10
    assert len(result["sentences_added"]) == 3


# --- Arrow encodings against the plain rules ----------------------------------------------------

LABEL_ROWS = st.lists(
    st.tuples(
        st.integers(0, 5),  # sentence 10..15 of article 1
        st.sampled_from(["a", "b", "c", "d"]),  # annotator
        st.sampled_from([None, 7]),  # claim type, or stance toward target 7
        st.integers(0, 2),  # label position
    ),
    max_size=40,
    unique_by=lambda row: (row[0], row[1], row[2]),
)


@settings(max_examples=150, deadline=None)
@given(rows=LABEL_ROWS, gold=st.dictionaries(st.integers(0, 5), st.integers(0, 2), max_size=3))
def test_arrow_resolution_follows_resolve_label(rows: list, gold: dict) -> None:
    annotations = []
    counts: dict[tuple[int, int | None], dict[str, int]] = {}
    for sentence, who, target, position in rows:
        values = SCHEMA.claim_types if target is None else SCHEMA.stances
        annotations.append(ann(10 + sentence, who, values[position], target=target))
        unit = counts.setdefault((10 + sentence, target), {})
        unit[values[position]] = unit.get(values[position], 0) + 1
    gold_rows = [
        (10 + s, "claim_type", None, SCHEMA.claim_types[p], "adjudicated") for s, p in gold.items()
    ]
    data = chunk(
        (1, "a.txt", [f"S{i}." for i in range(6)]), annotations=annotations, gold=gold_rows
    )
    _, (columns,) = build([data], include="all")
    table = columns.sentences.to_pydict()
    for i in range(6):
        sid = 10 + i
        claim = SCHEMA.claim_types[gold[i]] if i in gold else None
        expected = resolve_label(counts.get((sid, None), {}), claim)
        got = (table["claim_type_value"][i], table["claim_type_source"][i])
        assert got == expected[:2]
        assert table["claim_type_majority"][i] == expected[2]
        assert table["claim_type_n_labels"][i] == sum(counts.get((sid, None), {}).values())
        stance = resolve_label(counts.get((sid, 7), {}), None)
        assert (table["stance_alliance_value"][i], table["stance_alliance_source"][i]) == stance[:2]


TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
) | st.sampled_from(['"quoted"', "back\\slash", "tab\tnew\nline\r", "\x00\x1f\x7f", "\u2028 😀"])


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), TEXTS),
            st.one_of(st.none(), st.integers(-(2**40), 2**40)),
            st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
            st.booleans(),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_arrow_jsonl_is_what_orjson_writes(rows: list) -> None:
    names = ("text", "number", "seconds", "flag")
    table = pa.table(
        {
            "text": pa.array([r[0] for r in rows], pa.string()),
            "number": pa.array([r[1] for r in rows], pa.int64()),
            "seconds": pa.array([r[2] for r in rows], pa.float64()),
            "flag": pa.array([r[3] for r in rows], pa.bool_()),
        }
    )
    lines = files.jsonl_bytes(table).splitlines(keepends=True)
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert line.endswith(b"\n")
        assert json.loads(line) == dict(zip(names, row, strict=True))
        assert orjson.loads(line) == orjson.loads(orjson.dumps(dict(zip(names, row, strict=True))))
