"""A release as an ML practitioner loads it: Hugging Face datasets and pandas, from the files
`manage.py release download` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from annotator.models import Corpus, Release
from annotator.releases.files import pandas_csv_arguments

pytestmark = pytest.mark.django_db


@pytest.fixture
def downloaded(split_corpus: Corpus, release_of: object, tmp_path: Path) -> tuple[Release, Path]:
    release = release_of(split_corpus, context=True)
    folder = tmp_path / "release"
    call_command("release", "download", split_corpus.slug, str(release.number), str(folder))
    return release, folder


def test_hugging_face_datasets_loads_the_parquet_splits(
    downloaded: tuple[Release, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    release, folder = downloaded
    data_files = {
        split: str(folder / f"data/{split}.parquet") for split in ("train", "validation", "test")
    }
    dataset = datasets.load_dataset(
        "parquet", data_files=data_files, cache_dir=str(tmp_path / "hf")
    )

    assert {name: len(part) for name, part in dataset.items()} == release.counts[
        "records_per_split"
    ]
    features = dataset["train"].features
    claim = features["claim_type"]
    assert isinstance(claim, datasets.ClassLabel)
    assert claim.names == ["factual_claim", "opinion", "user_comment", "not_a_claim"]
    assert features["stance_china-north-korea-alliance"].names == ["favor", "against", "neutral"]
    assert features["text"] == datasets.Value("string")
    assert features["sentence_index"] == datasets.Value("int32")
    first = dataset["train"][0]
    assert claim.int2str(first["claim_type"]) == first["claim_type_value"]
    assert set(dataset["train"]["split"]) == {"train"}
    # No article in two splits.
    articles = [set(part["article_id"]) for part in dataset.values()]
    assert not (articles[0] & articles[1] or articles[0] & articles[2] or articles[1] & articles[2])


def test_the_card_header_matches_the_files(downloaded: tuple[Release, Path]) -> None:
    import yaml

    release, folder = downloaded
    header = yaml.safe_load((folder / "README.md").read_text().split("---\n")[1])
    splits = {s["name"]: s["num_examples"] for s in header["dataset_info"]["splits"]}
    assert splits == release.counts["records_per_split"]
    for entry in header["configs"][0]["data_files"]:
        assert (folder / entry["path"]).exists()
    facts = json.loads((folder / "release.json").read_text())
    assert facts["number"] == release.number and facts["counts"] == release.counts


def test_pandas_reads_parquet_jsonl_and_csv_alike(downloaded: tuple[Release, Path]) -> None:
    release, folder = downloaded
    parquet = pandas.concat(
        [pandas.read_parquet(folder / f"data/{s}.parquet") for s in ("train", "validation", "test")]
    ).sort_values("sentence_id", ignore_index=True)
    jsonl = pandas.read_json(folder / "sentences.jsonl.gz", lines=True, dtype={"url": str})
    schema = pq.read_schema(folder / "data/train.parquet")
    csv = pandas.read_csv(folder / "sentences.csv.gz", **pandas_csv_arguments(schema)).sort_values(
        "sentence_id", ignore_index=True
    )

    assert len(parquet) == len(jsonl) == len(csv) == release.counts["records"]
    # The empty url stays an empty string, not a float NaN.
    assert csv["url"].tolist() == [""] * len(csv)
    assert csv["url"].dtype == object or str(csv["url"].dtype) == "str"
    assert csv["claim_type"].tolist() == parquet["claim_type"].tolist()
    assert csv["text"].tolist() == parquet["text"].tolist()
    assert csv["split"].tolist() == parquet["split"].tolist()
    assert str(csv["claim_type"].dtype) == "int64"
    assert set(jsonl.columns) == set(parquet.columns)


def test_the_card_pandas_line_is_the_one_that_works(downloaded: tuple[Release, Path]) -> None:
    _, folder = downloaded
    card = (folder / "README.md").read_text()
    line = next(line for line in card.splitlines() if line.startswith("STRING_COLUMNS = "))
    columns = json.loads(line.split("=", 1)[1])
    frame = pandas.read_csv(
        folder / "sentences.csv.gz", keep_default_na=False, dtype=dict.fromkeys(columns, "str")
    )
    assert frame["url"].tolist() == [""] * len(frame)
    assert frame["previous_text"].iloc[0] == ""  # a first sentence has no previous one


def test_the_readme_training_example_runs_on_a_release(
    downloaded: tuple[Release, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    # The example uses the default cache; keep it out of the home folder.
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    _, folder = downloaded
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    after = readme.split("Training a classifier on a downloaded release:", 1)[1]
    code = after.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'release = "korea-2"' in code
    exec(code.replace('release = "korea-2"', f"release = {str(folder)!r}"), {})  # noqa: S102

    report = capsys.readouterr().out
    assert "opinion" in report and "not_a_claim" in report and "accuracy" in report
