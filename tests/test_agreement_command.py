"""`manage.py agreement` on files (Krippendorff's published example) and on stored corpora."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Layer

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with missing
# values: 4 observers, 12 units, values 1-5. Published: nominal .743, ordinal .815, interval .849.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
REQUIRED_KEYS = {
    "n_units",
    "n_annotators",
    "n_ratings",
    "percent_agreement",
    "krippendorff_alpha",
    "krippendorff_alpha_ci",
    "fleiss_kappa",
    "pairwise",
    "per_category",
}


def example_rows() -> list[tuple[str, str, int]]:
    return [
        (f"u{unit + 1}", observer, value)
        for observer, values in KRIPPENDORFF_2011.items()
        for unit, value in enumerate(values)
        if value is not None
    ]


def write_csv(path: Path, rows: list[tuple], header: str = "unit,annotator,label") -> Path:
    path.write_text(header + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))
    return path


def write_jsonl(path: Path, rows: list[tuple]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"unit": u, "annotator": a, "label": label}) + "\n" for u, a, label in rows
        )
    )
    return path


def run(*args: str) -> dict:
    out = StringIO()
    call_command("agreement", *args, "--replicates", "200", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_csv_reproduces_krippendorffs_published_alphas(tmp_path, level, published):
    path = write_csv(tmp_path / "ratings.csv", example_rows())
    result = run("--ratings", str(path), "--level", level)
    assert result["krippendorff_alpha"] == pytest.approx(published, abs=5e-4)
    assert result.keys() >= REQUIRED_KEYS
    assert (result["n_units"], result["n_annotators"]) == (11, 4)


def test_jsonl_gives_the_same_figures_as_csv(tmp_path):
    from_csv = run("--ratings", str(write_csv(tmp_path / "r.csv", example_rows())))
    from_jsonl = run("--ratings", str(write_jsonl(tmp_path / "r.jsonl", example_rows())))
    assert from_jsonl == from_csv


def test_pairwise_entries_have_the_documented_shape(tmp_path):
    result = run("--ratings", str(write_csv(tmp_path / "r.csv", example_rows())))
    pair = result["pairwise"][0]
    assert pair["annotators"] == ["A", "B"]
    assert {"n_units", "percent_agreement", "cohen_kappa"} <= pair.keys()
    assert len(result["pairwise"]) == 6
    low, high = result["krippendorff_alpha_ci"]
    assert low <= result["krippendorff_alpha"] <= high


def test_string_labels_take_their_order_from_the_option(tmp_path):
    names = {1: "never", 2: "rarely", 3: "sometimes", 4: "often", 5: "always"}
    rows = [(u, a, names[v]) for u, a, v in example_rows()]
    path = write_csv(tmp_path / "r.csv", rows)
    result = run(
        "--ratings",
        str(path),
        "--level",
        "ordinal",
        "--order",
        "never,rarely,sometimes,often,always",
    )
    assert result["krippendorff_alpha"] == pytest.approx(0.815, abs=5e-4)
    assert result["categories"] == ["never", "rarely", "sometimes", "often", "always"]


def test_ordinal_strings_without_an_order_are_refused(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a", "low"), ("u1", "b", "high")])
    with pytest.raises(CommandError, match="order"):
        run("--ratings", str(path), "--level", "ordinal")


def test_missing_column_is_named(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a")], header="unit,annotator")
    with pytest.raises(CommandError, match=r"r\.csv, line 1: header lacks column\(s\) label"):
        run("--ratings", str(path))


def test_duplicate_rating_names_both_lines(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a", "x"), ("u1", "b", "y"), ("u1", "a", "z")])
    with pytest.raises(
        CommandError, match="line 4: annotator 'a' already rated unit 'u1' on line 2"
    ):
        run("--ratings", str(path))


def test_unparseable_jsonl_line_is_named(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"unit": 1, "annotator": "a", "label": "x"}\n{"unit": 1, "annot\n')
    with pytest.raises(CommandError, match=r"r\.jsonl, line 2: not valid JSON"):
        run("--ratings", str(path))


def test_jsonl_line_without_a_field_is_named(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"unit": 1, "annotator": "a", "label": "x"}\n{"unit": 1, "label": "y"}\n')
    with pytest.raises(CommandError, match="line 2: missing field.s. annotator"):
        run("--ratings", str(path))


def test_csv_row_with_too_many_fields_is_named(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a", "x"), ("u1", "b", "y", "extra")])
    with pytest.raises(CommandError, match="line 3: expected 3 fields"):
        run("--ratings", str(path))


def test_empty_label_is_named(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a", "x"), ("u1", "b", "")])
    with pytest.raises(CommandError, match="line 3: label is empty"):
        run("--ratings", str(path))


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="cannot open"):
        run("--ratings", str(tmp_path / "absent.csv"))


def test_corpus_layer_prints_the_same_keys(
    corpus, make_article, annotator, other_annotator, make_annotation
):
    sentences = make_article(corpus=corpus).sentences.order_by("ordinal")
    for sentence, (a, b) in zip(
        sentences,
        [("opinion", "opinion"), ("opinion", "not_a_claim"), ("user_comment",) * 2],
        strict=True,
    ):
        make_annotation(sentence=sentence, annotator=annotator, value=a)
        make_annotation(sentence=sentence, annotator=other_annotator, value=b)

    result = run("--corpus", "korea")

    assert result.keys() >= REQUIRED_KEYS
    assert (result["corpus"], result["layer"], result["n_units"]) == ("korea", "claim_type", 3)
    assert result["percent_agreement"] == pytest.approx(2 / 3)
    assert result["pairwise"][0]["annotators"] == ["annotator", "other-annotator"]


def test_corpus_stance_by_target_name(
    corpus, make_article, annotator, other_annotator, make_annotation
):
    sentence = make_article(corpus=corpus).sentences.first()
    make_annotation(sentence=sentence, annotator=annotator, value="favor", layer=Layer.STANCE)
    make_annotation(
        sentence=sentence, annotator=other_annotator, value="against", layer=Layer.STANCE
    )

    result = run("--corpus", "korea", "--layer", "stance", "--target", "China–North Korea alliance")

    assert (result["layer"], result["level"], result["n_ratings"]) == ("stance", "interval", 2)
    assert result["percent_agreement"] == 0.0


def test_unknown_corpus_and_target_are_reported(corpus):
    with pytest.raises(CommandError, match="no corpus with slug 'nope'"):
        run("--corpus", "nope")
    with pytest.raises(CommandError, match="no stance target 'Trade'; targets: China"):
        run("--corpus", "korea", "--layer", "stance", "--target", "Trade")
