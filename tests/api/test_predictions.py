"""POST and GET /api/v1/predictions/ and the JSONL import: who may, what is checked, and that a
bad record stores nothing."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotator.models import Article, Corpus, ModelVersion, Prediction
from tests.factories import prediction_record

URL = "/api/v1/predictions/"


@pytest.fixture
def article(corpus: Corpus, make_article: Callable) -> Article:
    return make_article(corpus=corpus, external_id="a1.txt")


def test_a_manager_posts_predictions_and_lists_them_with_filters(
    token_client: Callable[[AbstractUser], APIClient],
    manager: AbstractUser,
    corpus: Corpus,
    article: Article,
) -> None:
    first, second = article.sentences.order_by("ordinal")[:2]
    target = corpus.stance_targets.get()
    client = token_client(manager)

    response = client.post(
        URL,
        {
            "corpus": corpus.slug,
            "predictions": [
                prediction_record(sentence=first.pk),
                prediction_record(
                    article="a1.txt", sentence_index=1, label="factual_claim", score=0.6
                ),
                prediction_record(
                    sentence=first.pk,
                    layer="stance",
                    target=target.slug,
                    label="against",
                    probabilities={"against": 0.7, "favor": 0.2, "neutral": 0.1},
                    score=0.7,
                ),
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 3
    listed = client.get(URL, {"corpus": corpus.slug, "layer": "claim_type"}).json()["results"]
    assert [(p["sentence"], p["label"], p["model"], p["model_version"]) for p in listed] == [
        (first.pk, "opinion", "roberta-claims", "3"),
        (second.pk, "factual_claim", "roberta-claims", "3"),
    ]
    assert listed[0]["article"] == article.pk and listed[0]["kind"] == "external"
    stance = client.get(URL, {"target": target.slug}).json()["results"]
    assert [p["probabilities"] for p in stance] == [{"against": 0.7, "favor": 0.2, "neutral": 0.1}]
    assert client.get(URL, {"model": "roberta-claims:3", "sentence": second.pk}).json()["results"][
        0
    ]["score"] == pytest.approx(0.6)
    assert client.get(URL, {"model": "other"}).json()["results"] == []
    assert client.get(URL, {"article": article.pk, "page_size": 1}).json()["next"]


def test_bad_records_are_named_by_position_and_field_and_nothing_is_stored(
    token_client: Callable[[AbstractUser], APIClient],
    curator: AbstractUser,
    corpus: Corpus,
    article: Article,
) -> None:
    sentence = article.sentences.first()
    response = token_client(curator).post(
        URL,
        {
            "corpus": corpus.slug,
            "predictions": [
                prediction_record(sentence=sentence.pk),
                prediction_record(sentence=sentence.pk, label="favor"),
                prediction_record(sentence=sentence.pk, score=2),
                prediction_record(article="a1.txt", sentence_index=50),
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"predictions[1]", "predictions[2]", "predictions[3]"}
    assert fields["predictions[1]"][0].startswith("label: must be one of factual_claim")
    assert fields["predictions[2]"][0].startswith("score:")
    assert fields["predictions[3]"][0].startswith("sentence_index:")
    assert not Prediction.objects.exists() and not ModelVersion.objects.exists()


def test_the_jsonl_import_reports_every_bad_line(
    token_client: Callable[[AbstractUser], APIClient],
    manager: AbstractUser,
    corpus: Corpus,
    article: Article,
) -> None:
    sentence = article.sentences.first()
    lines = [
        json.dumps(prediction_record(sentence=sentence.pk)),
        "",
        "{not json",
        json.dumps(prediction_record(sentence=sentence.pk, layer="stance", target="nobody")),
    ]
    upload = SimpleUploadedFile("predictions.jsonl", "\n".join(lines).encode())

    response = token_client(manager).post(
        URL + "import/", {"corpus": corpus.slug, "file": upload}, format="multipart"
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["line 3"][0].startswith("line: not JSON")
    assert fields["line 4"] == ["target: no stance target with slug 'nobody' in this corpus"]
    assert not Prediction.objects.exists()

    good = SimpleUploadedFile("predictions.jsonl", lines[0].encode())
    response = token_client(manager).post(
        URL + "import/", {"corpus": corpus.slug, "file": good}, format="multipart"
    )
    assert response.status_code == 200 and response.json()["created"] == 1


def test_an_annotator_may_not_post_or_list_predictions(
    token_client: Callable[[AbstractUser], APIClient],
    annotator: AbstractUser,
    corpus: Corpus,
    article: Article,
) -> None:
    client = token_client(annotator)
    response = client.post(
        URL,
        {
            "corpus": corpus.slug,
            "predictions": [prediction_record(sentence=article.sentences.first().pk)],
        },
        format="json",
    )
    assert response.status_code == 403
    assert "managers and curators" in response.json()["error"]["message"]
    assert not Prediction.objects.exists()
    Prediction.objects.create(
        sentence=article.sentences.first(),
        model_version=ModelVersion.objects.create(
            corpus=corpus, layer="claim_type", kind="external", name="m", version="1"
        ),
        layer="claim_type",
        choice=corpus.choices.get(layer="claim_type", value="opinion"),
        score=0.9,
    )
    assert client.get(URL).json()["results"] == []


def test_a_non_member_gets_404_and_sees_nothing(
    token_client: Callable[[AbstractUser], APIClient],
    outsider: AbstractUser,
    manager: AbstractUser,
    corpus: Corpus,
    article: Article,
) -> None:
    sentence = article.sentences.first()
    token_client(manager).post(
        URL,
        {"corpus": corpus.slug, "predictions": [prediction_record(sentence=sentence.pk)]},
        format="json",
    )
    client = token_client(outsider)
    response = client.post(
        URL,
        {"corpus": corpus.slug, "predictions": [prediction_record(sentence=sentence.pk)]},
        format="json",
    )
    assert response.status_code == 404
    assert client.get(URL).json()["results"] == []
    prediction = Prediction.objects.get()
    assert client.get(f"{URL}{prediction.pk}/").status_code == 404


def test_unknown_list_parameters_are_refused(
    token_client: Callable[[AbstractUser], APIClient], manager: AbstractUser
) -> None:
    response = token_client(manager).get(URL, {"colour": "red"})
    assert response.status_code == 400


@pytest.mark.parametrize("url", [URL + "import/", "/api/v1/annotations/import/"])
def test_an_upload_above_the_import_limit_is_refused_naming_the_field(
    token_client: Callable[[AbstractUser], APIClient],
    manager: AbstractUser,
    corpus: Corpus,
    article: Article,
    settings: object,
    url: str,
) -> None:
    settings.IMPORT_MAX_FILE_BYTES = 64
    upload = SimpleUploadedFile("big.jsonl", b"{}\n" * 40)  # 120 bytes

    response = token_client(manager).post(
        url, {"corpus": corpus.slug, "file": upload}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["Larger than 64 bytes."]}
    assert not Prediction.objects.exists()


def test_a_prediction_file_above_the_line_limit_is_refused_naming_the_field(
    token_client: Callable[[AbstractUser], APIClient],
    manager: AbstractUser,
    corpus: Corpus,
    article: Article,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from annotator.api import views

    monkeypatch.setattr(views, "MAX_UPLOAD_LINES", 3)
    line = json.dumps(prediction_record(sentence=article.sentences.first().pk))
    upload = SimpleUploadedFile("many.jsonl", "\n".join([line] * 4).encode())

    response = token_client(manager).post(
        URL + "import/", {"corpus": corpus.slug, "file": upload}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "line 4": [
            "file: more than 3 lines; split the file, or import it with "
            "manage.py import_predictions"
        ]
    }
    assert not Prediction.objects.exists()


def test_a_line_nested_too_deeply_is_reported_as_bad_json(
    token_client: Callable[[AbstractUser], APIClient],
    manager: AbstractUser,
    corpus: Corpus,
    article: Article,
) -> None:
    good = json.dumps(prediction_record(sentence=article.sentences.first().pk))
    upload = SimpleUploadedFile("deep.jsonl", f"{good}\n{'[' * 100_000}\n".encode())

    response = token_client(manager).post(
        URL + "import/", {"corpus": corpus.slug, "file": upload}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"line 2": ["line: not JSON: nested too deeply"]}
    assert not Prediction.objects.exists()
