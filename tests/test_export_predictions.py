"""Exports with include_predictions: each sentence's model predictions, each label's suggestion
(shown or hidden), and the model versions named on the dataset card."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.management import call_command

from annotator.assisting import PredictionRecord, import_predictions
from annotator.export_options import export_request
from annotator.export_queries import dataset_card, stream_export
from annotator.models import Annotation, Corpus, LabelChoice, Layer, ModelVersion


@pytest.fixture
def assisted(
    corpus: Corpus, make_article: Callable, annotator: AbstractUser
) -> tuple[Corpus, list[int]]:
    article = make_article(corpus=corpus, external_id="a1.txt")
    sentences = list(article.sentences.order_by("ordinal"))
    target = corpus.stance_targets.get()
    import_predictions(
        corpus=corpus,
        by=None,
        records=[
            PredictionRecord(
                data={"sentence": sentences[0].pk, "layer": "claim_type", "label": "opinion",
                      "score": 0.75, "model": "roberta", "model_version": "2"},
                line=1,
            ),
            PredictionRecord(
                data={"sentence": sentences[0].pk, "layer": "stance", "target": target.slug,
                      "label": "favor", "score": 0.5, "model": "roberta", "model_version": "2"},
                line=2,
            ),
        ],
    )  # fmt: skip
    version = ModelVersion.objects.get(layer=Layer.CLAIM_TYPE)
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    factual = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="factual_claim")
    Annotation.objects.create(
        sentence=sentences[0], annotator=annotator, layer=Layer.CLAIM_TYPE, choice=factual,
        suggestion_visible=False, suggested_choice=opinion, suggestion_model=version,
    )  # fmt: skip
    Annotation.objects.create(
        sentence=sentences[1], annotator=annotator, layer=Layer.CLAIM_TYPE, choice=factual
    )
    return corpus, [s.pk for s in sentences]


def _export(corpus: Corpus, **options: str) -> bytes:
    return b"".join(stream_export(corpus, export_request(options)))


def test_wide_records_carry_predictions_and_each_labels_suggestion(
    assisted: tuple[Corpus, list[int]],
) -> None:
    corpus, ids = assisted
    records = [json.loads(line) for line in _export(corpus, include_predictions="1").splitlines()]
    first = next(r for r in records if r["sentence_id"] == ids[0])
    assert first["predictions"] == [
        {"layer": "claim_type", "target": None, "model": "roberta", "model_version": "2",
         "label": "opinion", "score": 0.75},
        {"layer": "stance", "target": "China–North Korea alliance", "model": "roberta",
         "model_version": "2", "label": "favor", "score": 0.5},
    ]  # fmt: skip
    (entry,) = first["labels"]
    version = ModelVersion.objects.get(layer=Layer.CLAIM_TYPE)
    assert entry["suggestions"] == {
        "claim_type": {"visible": False, "label": "opinion", "model_version_id": version.pk}
    }
    second = next(r for r in records if r["sentence_id"] == ids[1])
    assert second["predictions"] == [] and "suggestions" not in second["labels"][0]
    # Without the option, records are as before.
    plain = [json.loads(line) for line in _export(corpus).splitlines()]
    assert "predictions" not in plain[0] and "suggestions" not in plain[0]["labels"][0]


def test_long_csv_has_the_suggestion_columns(assisted: tuple[Corpus, list[int]]) -> None:
    corpus, ids = assisted
    text = _export(corpus, include_predictions="1", shape="long", format="csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    by_sentence = {int(row["sentence_id"]): row for row in rows}
    assert by_sentence[ids[0]]["suggestion_visible"] == "False"
    assert by_sentence[ids[0]]["suggested_label"] == "opinion"
    assert by_sentence[ids[1]]["suggestion_visible"] == ""
    wide = _export(corpus, include_predictions="1", format="csv").decode()
    assert "predictions" in next(csv.reader(io.StringIO(wide)))


def test_the_command_and_the_card_know_the_option(
    assisted: tuple[Corpus, list[int]], tmp_path: Path
) -> None:
    corpus, ids = assisted
    output = tmp_path / "export.jsonl"
    call_command(
        "export_dataset", corpus.slug, "--include-predictions", "--output", str(output),
        stderr=io.StringIO(),
    )  # fmt: skip
    first = json.loads(output.read_text().splitlines()[0])
    assert first["sentence_id"] == ids[0] and len(first["predictions"]) == 2

    card = dataset_card(corpus)
    claim, stance = card["models"]
    assert (claim["name"], claim["version"], claim["kind"], claim["layer"]) == (
        "roberta",
        "2",
        "external",
        "claim_type",
    )
    assert claim["labels_with_its_suggestion"] == 1 and claim["predictions_exported"]
    assert stance["layer"] == "stance"
    assert "predictions" in card["prediction_fields"]
