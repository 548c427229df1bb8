"""`manage.py agreement` on files (Krippendorff's published example) and on stored corpora."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotator.agreement import LEVELS, krippendorff_alpha
from annotator.management.commands import agreement as agreement_command
from annotator.models import Layer

ROOT = Path(__file__).resolve().parent.parent

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


@pytest.mark.parametrize(
    "spelling", ["", "NaN", "nan", "None", "NONE", "NA", "null", " Null ", "  "]
)
def test_missing_label_spellings_are_refused_with_file_and_line(tmp_path, spelling):
    path = write_csv(
        tmp_path / "r.csv", [("u1", "a", "x"), ("u1", "b", "x"), ("u2", "a", spelling)]
    )
    message = rf"r\.csv, line 4: label '{spelling}' is a missing value, not a category; "
    with pytest.raises(CommandError, match=message + ".*--missing drop"):
        run("--ratings", str(path))


# Two annotators who agree on every unit both rated; "None" marks the ratings they did not make.
# Counted as a category, "None" disagrees with every label: alpha 0.333 instead of 1.0.
NONE_FOR_MISSING = [
    ("u1", "A", "x"),
    ("u1", "B", "x"),
    ("u2", "A", "y"),
    ("u2", "B", "y"),
    ("u3", "A", "None"),
    ("u3", "B", "y"),
    ("u4", "A", "x"),
    ("u4", "B", "None"),
]


def test_none_labels_are_refused_then_dropped_and_counted_on_request(tmp_path):
    path = write_csv(tmp_path / "r.csv", NONE_FOR_MISSING)
    assert krippendorff_alpha(NONE_FOR_MISSING).value == pytest.approx(1 / 3)  # the old figure

    with pytest.raises(CommandError, match="line 6: label 'None' is a missing value"):
        run("--ratings", str(path))
    result = run("--ratings", str(path), "--missing", "drop")

    assert result["krippendorff_alpha"] == 1.0
    assert result["n_missing_dropped"] == 2
    assert (result["n_units"], result["n_units_dropped"], result["n_ratings"]) == (2, 2, 4)


def test_a_file_of_missing_labels_only_has_no_ratings(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a", "NA"), ("u1", "b", "nan")])
    with pytest.raises(CommandError, match=r"no ratings found \(2 with a missing label left out\)"):
        run("--ratings", str(path), "--missing", "drop")


def test_jsonl_null_and_missing_spellings_are_missing_labels(tmp_path):
    rows = [("u1", "a", "x"), ("u1", "b", "x"), ("u2", "a", None), ("u2", "b", "NaN")]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    with pytest.raises(CommandError, match="line 3: label None is a missing value"):
        run("--ratings", str(path))
    assert run("--ratings", str(path), "--missing", "drop")["n_missing_dropped"] == 2


def test_empty_unit_or_annotator_is_named(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a", "x"), ("u1", " ", "y")])
    with pytest.raises(CommandError, match="line 3: annotator is empty"):
        run("--ratings", str(path), "--missing", "drop")


def test_jsonl_ids_are_compared_as_text(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"unit": 1, "annotator": 7, "label": "x"}\n'
        '{"unit": "1", "annotator": "b", "label": "x"}\n'
        '{"unit": 2, "annotator": "7", "label": "y"}\n'
        '{"unit": "2", "annotator": "b", "label": "y"}\n'
    )
    result = run("--ratings", str(path))
    assert (result["n_units"], result["n_annotators"]) == (2, 2)
    assert result["krippendorff_alpha"] == 1.0
    assert result["pairwise"][0]["annotators"] == ["7", "b"]


def test_jsonl_duplicate_across_id_types_names_both_lines(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"unit": 1, "annotator": "a", "label": "x"}\n'
        "\n"
        '{"unit": 1, "annotator": "b", "label": "x"}\n'
        '{"unit": "1", "annotator": "a", "label": "y"}\n'
    )
    with pytest.raises(
        CommandError, match=r"r\.jsonl, line 4: annotator 'a' already rated unit '1' on line 1"
    ):
        run("--ratings", str(path))


@pytest.mark.parametrize("value", ["1.5", "true", "null", "[1]"])
def test_jsonl_id_must_be_text_or_an_integer(tmp_path, value):
    path = tmp_path / "r.jsonl"
    path.write_text(f'{{"unit": {value}, "annotator": "a", "label": "x"}}\n')
    with pytest.raises(CommandError, match="line 1: unit must be a string or an integer"):
        run("--ratings", str(path))


def test_csv_with_quotes_crlf_and_a_byte_order_mark_reads_like_a_plain_one(tmp_path):
    plain = run("--ratings", str(write_csv(tmp_path / "plain.csv", example_rows())))
    lines = ["unit,annotator,label"] + [f'"{u}",{a},"{label}"' for u, a, label in example_rows()]
    quoted = tmp_path / "quoted.csv"
    quoted.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    assert run("--ratings", str(quoted)) == plain


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('unit,annotator,label\nu1,a,x\n\n"u\n2",a,x\nu3,a\n')
    with pytest.raises(CommandError, match="line 6: expected 3 fields as in the header, found 2"):
        run("--ratings", str(path))


def test_extra_columns_are_ignored_in_any_order(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "label,note,annotator,unit\n" + "".join(f"{v},n,{a},{u}\n" for u, a, v in example_rows())
    )
    result = run("--ratings", str(path), "--level", "interval")
    assert result["krippendorff_alpha"] == pytest.approx(0.849, abs=5e-4)


def test_ratio_level_reproduces_krippendorffs_published_alpha(tmp_path):
    # Krippendorff (2011) gives .797 for the ratio metric on the same data; the krippendorff
    # package computes 0.7974 too (tests/test_agreement.py).
    path = write_csv(tmp_path / "ratings.csv", example_rows())
    assert run("--ratings", str(path), "--level", "ratio")["krippendorff_alpha"] == pytest.approx(
        0.797, abs=5e-4
    )


def test_ratio_level_refuses_negative_numbers(tmp_path):
    path = write_csv(tmp_path / "r.csv", [("u1", "a", -1), ("u1", "b", 1)])
    with pytest.raises(CommandError, match="ratio level needs numbers of at least 0"):
        run("--ratings", str(path), "--level", "ratio")


def test_the_command_lists_the_levels_the_module_computes():
    assert agreement_command.LEVELS == LEVELS


def test_missing_option_is_for_files(corpus):
    with pytest.raises(CommandError, match="--missing applies to files"):
        run("--corpus", "korea", "--missing", "drop")


def test_help_starts_without_numpy_or_the_statistics_modules():
    # Import time is what made `manage.py <command> --help` slow; which modules load is
    # deterministic where seconds are not. bench/bench_agreement_command.py times it.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "manage.py", "agreement", "--help"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--missing {error,drop}" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "django.core.management" in imported
    assert not imported & {"numpy", "annotator.agreement", "annotator.statistics", "tqdm"}


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
