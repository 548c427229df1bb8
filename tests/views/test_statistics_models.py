"""The baseline models on the statistics page: readiness, the train button, scores, confusion
matrix, and agreement with shown against hidden suggestions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import Annotation, Corpus, LabelChoice, Layer, ModelStatus, ModelVersion, Role
from tests.assist_corpus import load_generated
from tests.claim_corpus import generate_corpus


def page_url(slug: str = "korea") -> str:
    return reverse("annotator:corpus-statistics", kwargs={"slug": slug})


def train_url(slug: str = "korea") -> str:
    return reverse("annotator:corpus-train-models", kwargs={"slug": slug})


def test_without_enough_labels_the_page_says_how_many_more_are_needed(
    client: Client, manager: AbstractUser, corpus: Corpus, make_article: Callable,
    make_annotation: Callable, annotator: AbstractUser,
) -> None:  # fmt: skip
    for sentence in make_article(corpus=corpus).sentences.all():
        make_annotation(sentence=sentence, annotator=annotator, value="opinion")
    client.force_login(manager)
    html = client.get(page_url()).content.decode()
    assert "Baseline model" in html
    assert "Needs 197 more labelled sentences (has 3 of the 200 needed)." in html
    assert "Train new models now" in html


def test_a_manager_trains_models_and_the_page_shows_scores_beside_agreement(
    client: Client, manager: AbstractUser, corpus: Corpus, make_member: Callable
) -> None:
    labeller = make_member(corpus=corpus)
    load_generated(corpus, generate_corpus(n_articles=20, seed=8), annotators=[labeller])
    client.force_login(manager)

    response = client.post(train_url(), follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Training 2 models in the background" in html
    claim = ModelVersion.objects.get(layer=Layer.CLAIM_TYPE)
    assert claim.status == ModelStatus.DONE and claim.requested_by == manager
    # No stance labels: that version fails with what is missing, and the page says so.
    stance = ModelVersion.objects.get(layer=Layer.STANCE)
    assert stance.status == ModelStatus.FAILED
    assert "Needs 200 more labelled sentences" in html
    assert f"<strong>{claim.scores['macro_f1']:.3f}</strong>" in html
    assert "Model confusion matrix" in html
    assert "Factual claim" in html and "majority" in html


def test_a_curator_sees_the_models_but_may_not_train(
    client: Client, curator: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(curator)
    assert "Train new models now" not in client.get(page_url()).content.decode()
    assert client.post(train_url()).status_code == 403
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("who", ["annotator", "outsider"])
def test_annotators_and_outsiders_cannot_train(
    client: Client, request: pytest.FixtureRequest, corpus: Corpus, who: str
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.post(train_url()).status_code == 404
    assert not ModelVersion.objects.exists()


def test_training_needs_post(client: Client, manager: AbstractUser, corpus: Corpus) -> None:
    client.force_login(manager)
    assert client.get(train_url()).status_code == 405


def test_agreement_with_shown_and_hidden_suggestions_is_shown_with_intervals(
    client: Client, manager: AbstractUser, corpus: Corpus, make_article: Callable,
    make_member: Callable,
) -> None:  # fmt: skip
    article = make_article(corpus=corpus, text=" ".join(f"Line {i} is here." for i in range(8)))
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    factual = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="factual_claim")
    user = make_member(corpus=corpus, role=Role.ANNOTATOR)
    for i, sentence in enumerate(article.sentences.order_by("ordinal")):
        Annotation.objects.create(
            sentence=sentence,
            annotator=user,
            layer=Layer.CLAIM_TYPE,
            choice=opinion if i in (0, 1, 2, 4) else factual,
            suggestion_visible=i < 4,
            suggested_choice=opinion,
        )
    client.force_login(manager)
    html = client.get(page_url()).content.decode()
    assert "3 of 4" in html and "1 of 4" in html
    assert "<strong>0.500</strong>" in html  # 3/4 - 1/4


def import_url(slug: str = "korea") -> str:
    return reverse("annotator:corpus-predictions-import", kwargs={"slug": slug})


def test_a_curator_uploads_predictions_and_bad_lines_are_listed(
    client: Client, curator: AbstractUser, corpus: Corpus, make_article: Callable
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from annotator.models import Prediction

    sentence = make_article(corpus=corpus).sentences.first()
    good = (
        f'{{"sentence": {sentence.pk}, "layer": "claim_type", "label": "opinion", '
        '"score": 0.8, "model": "bert", "model_version": "1"}'
    )
    client.force_login(curator)
    assert "Predictions (JSONL)" in client.get(import_url()).content.decode()

    bad = SimpleUploadedFile(
        "mine.jsonl", f"{good}\n{good.replace('opinion', '<b>x</b>')}\n".encode()
    )
    response = client.post(import_url(), {"file": bad})

    assert response.status_code == 400
    html = response.content.decode()
    assert "1 bad line: nothing was imported" in html
    assert "<td>mine.jsonl</td><td>2</td><td><code>label</code></td>" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert not Prediction.objects.exists()

    response = client.post(
        import_url(), {"file": SimpleUploadedFile("mine.jsonl", good.encode())}, follow=True
    )
    assert "Stored 1 new prediction(s) and replaced 0 (bert 1)." in response.content.decode()
    assert Prediction.objects.count() == 1


def test_an_uploaded_prediction_file_above_the_line_limit_is_refused_whole(
    client: Client,
    curator: AbstractUser,
    corpus: Corpus,
    make_article: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from annotator.models import Prediction
    from annotator.views import statistics

    monkeypatch.setattr(statistics, "MAX_UPLOAD_LINES", 3)
    sentence = make_article(corpus=corpus).sentences.first()
    good = (
        f'{{"sentence": {sentence.pk}, "layer": "claim_type", "label": "opinion", '
        '"score": 0.8, "model": "bert", "model_version": "1"}'
    )
    client.force_login(curator)
    upload = SimpleUploadedFile("many.jsonl", "\n".join([good] * 4).encode())
    response = client.post(import_url(), {"file": upload})

    assert response.status_code == 400
    html = response.content.decode()
    assert "<td>many.jsonl</td><td>4</td><td><code>file</code></td>" in html
    assert "more than 3 lines; split the file, or import it with manage.py" in html
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("who", ["annotator", "outsider"])
def test_only_managers_and_curators_import_predictions(
    client: Client, request: pytest.FixtureRequest, corpus: Corpus, who: str
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get(import_url()).status_code == 404
    assert client.post(import_url()).status_code == 404


def test_pressing_train_again_while_versions_are_queued_queues_nothing_more(
    client: Client, manager: AbstractUser, corpus: Corpus, settings: object
) -> None:
    # With the real queue (not run at once, as elsewhere in the tests) the first press leaves
    # a queued version per layer; a second press finds them on their way.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client.force_login(manager)
    client.post(train_url())
    first = sorted(ModelVersion.objects.values_list("pk", "status"))
    response = client.post(train_url(), follow=True)

    assert response.status_code == 200
    assert sorted(ModelVersion.objects.values_list("pk", "status")) == first
    assert [status for _, status in first] == [ModelStatus.QUEUED, ModelStatus.QUEUED]


def test_the_upload_page_refuses_no_file_and_a_file_over_the_size_limit(
    client: Client, curator: AbstractUser, corpus: Corpus, settings: object
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from annotator.models import Prediction

    settings.IMPORT_MAX_FILE_BYTES = 10
    client.force_login(curator)
    empty = client.post(import_url(), {})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    big = client.post(import_url(), {"file": SimpleUploadedFile("big.jsonl", b"x" * 11)})
    assert big.status_code == 400
    assert "use manage.py import_predictions for bigger files" in big.content.decode()
    assert not Prediction.objects.exists()
