"""The REST API refuses labels on excluded sentences, single and in bulk: the labelling rule
(annotating.LABELLING_RULE) holds for every entry point."""

from __future__ import annotations

import io
import json

import pytest

from annotator.models import Annotation, Assignment
from annotator.resegmenting import set_excluded
from tests.factories import sentence_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(corpus, make_article, annotator, manager):
    article = make_article(
        corpus=corpus, text="Real news here. Share this story. More news.", external_id="a.txt"
    )
    Assignment.objects.create(article=article, annotator=annotator)
    set_excluded(
        article_id=article.pk, sentence_ids=sentence_ids(article, 1), excluded=True, by=manager
    )
    return article


def test_single_label_on_an_excluded_sentence_is_refused(held, annotator, token_client):
    client = token_client(annotator)
    furniture, news = held.sentences.get(ordinal=1), held.sentences.get(ordinal=0)
    refused = client.post(
        "/api/v1/annotations/",
        {"sentence": furniture.pk, "layer": "claim_type", "label": "opinion"},
        format="json",
    )
    assert refused.status_code == 403
    assert "excluded from labelling" in refused.json()["error"]["message"]
    accepted = client.post(
        "/api/v1/annotations/",
        {"sentence": news.pk, "layer": "claim_type", "label": "opinion"},
        format="json",
    )
    assert accepted.status_code == 201
    assert list(Annotation.objects.values_list("sentence_id", flat=True)) == [news.pk]


def test_bulk_import_refuses_the_excluded_line_and_writes_nothing(held, annotator, token_client):
    lines = [
        {"external_id": "a.txt", "sentence_index": index, "layer": "claim_type", "label": "opinion"}
        for index in (0, 1)
    ]
    file = io.BytesIO("\n".join(json.dumps(line) for line in lines).encode())
    file.name = "labels.jsonl"
    response = token_client(annotator).post(
        "/api/v1/annotations/import/", {"corpus": "korea", "file": file}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "line 2": ["annotator: the sentence is excluded from labelling (not article text)"]
    }
    assert not Annotation.objects.exists()


def test_sentences_say_their_zone_and_whether_they_are_excluded(held, annotator, token_client):
    furniture = held.sentences.get(ordinal=1)
    body = token_client(annotator).get(f"/api/v1/sentences/{furniture.pk}/").json()
    assert (body["zone"], body["zone_confirmed"], body["excluded"]) == ("boilerplate", True, True)
