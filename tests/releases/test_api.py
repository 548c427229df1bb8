"""/api/v1/corpora/{slug}/releases/: list, cut, retrieve, file, diff; access; query counts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from annotator.models import Corpus, Release, ReleaseStatus
from annotator.tokens import create_token

pytestmark = pytest.mark.django_db

BASE = "/api/v1/corpora/korea/releases/"


@pytest.fixture
def api() -> Callable[[AbstractUser], APIClient]:
    def make(user: AbstractUser) -> APIClient:
        _, raw = create_token(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


def test_a_manager_cuts_a_release_and_reads_it_back(labelled_corpus: Corpus, manager, api) -> None:
    client = api(manager)
    response = client.post(
        BASE,
        {
            "note": "Via the API.",
            "include": "all",
            "context": True,
            "proportions": {"train": 0.6, "validation": 0.2, "test": 0.2},
            "license": "cc-by-4.0",
        },
        format="json",
    )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["number"] == 1 and body["created_by"] == "manager"
    assert body["proportions"] == {"train": 0.6, "validation": 0.2, "test": 0.2}
    detail = client.get(f"{BASE}1/").json()
    assert detail["status"] == ReleaseStatus.READY
    assert detail["counts"]["records"] == 36  # include=all: every sentence
    assert [unit["column"] for unit in detail["units"]] == [
        "claim_type",
        "stance_china-north-korea-alliance",
    ]
    files = {entry["name"]: entry for entry in detail["files"]}
    url = files["sentences.jsonl.gz"]["url"]
    assert url == f"{BASE}1/files/sentences.jsonl.gz/"
    download = client.get(url)
    body = b"".join(download.streaming_content)
    assert download.status_code == 200 and download["Content-Type"] == "application/gzip"
    assert hashlib.sha256(body).hexdigest() == files["sentences.jsonl.gz"]["sha256"]


def test_options_left_out_come_from_the_last_release(
    labelled_corpus: Corpus, manager, api, release_of
) -> None:
    release_of(
        labelled_corpus, seed="abc", proportions={"train": 0.5, "validation": 0.25, "test": 0.25}
    )
    response = api(manager).post(BASE, {"note": "Again."}, format="json")
    assert response.status_code == 202
    assert response.json()["seed"] == "abc" and response.json()["proportions"]["train"] == 0.5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"include": "everything"}, "include"),
        ({"context": "yes"}, "context"),
        ({"proportions": {"train": 0.5, "validation": 0.1, "test": 0.1}}, "non_field_errors"),
        ({"proportions": {"train": "a", "validation": 0.1, "test": 0.1}}, "proportions"),
    ],
)
def test_bad_options_are_a_400_naming_the_field(
    labelled_corpus: Corpus, manager, api, payload, field
) -> None:
    response = api(manager).post(BASE, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Release.objects.exists()


def test_curators_read_but_may_not_cut(labelled_corpus: Corpus, curator, api, release_of) -> None:
    release_of(labelled_corpus)
    client = api(curator)
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}1/files/README.md/").status_code == 200
    assert client.post(BASE, {}, format="json").status_code == 403


def test_annotators_get_403_and_outsiders_404(
    labelled_corpus: Corpus, annotator, outsider, api, release_of
) -> None:
    release_of(labelled_corpus)
    for path in (BASE, f"{BASE}1/", f"{BASE}1/files/README.md/", f"{BASE}1/diff/?from=1"):
        assert api(annotator).get(path).status_code == 403, path
        assert api(outsider).get(path).status_code == 404, path
    assert api(annotator).post(BASE, {}, format="json").status_code == 403
    assert api(outsider).post(BASE, {}, format="json").status_code == 404


def test_diff_as_json(labelled_corpus: Corpus, manager, gold, api, release_of) -> None:
    release_of(labelled_corpus)
    sentence = labelled_corpus.articles.get(external_id="article-01.txt").sentences.get(ordinal=1)
    gold(sentence=sentence, value="user_comment", by=manager)
    release_of(labelled_corpus)

    response = api(manager).get(f"{BASE}2/diff/?from=1")
    assert response.status_code == 200
    body = response.json()
    assert body["from"] == 1 and body["to"] == 2
    assert body["counts"]["gold_settled"] == 1 and body["counts"]["labels_changed"] == 1
    change = body["labels_changed"][0]
    assert (change["sentence_id"], change["from"], change["to"]) == (
        sentence.pk,
        None,
        "user_comment",
    )
    assert api(manager).get(f"{BASE}2/diff/?from=7").status_code == 400
    assert api(manager).get(f"{BASE}2/diff/").status_code == 400
    assert api(manager).get(f"{BASE}2/diff/?from=1&limit=-1").status_code == 400
    assert api(manager).get(f"{BASE}2/diff/?from=1&colour=red").status_code == 400


def test_list_queries_do_not_grow_with_releases(
    labelled_corpus: Corpus, manager, api, django_assert_num_queries
) -> None:
    from annotator.releases.catalog import ReleaseOptions, cut_release

    client = api(manager)
    for _ in range(2):
        cut_release(corpus=labelled_corpus, options=ReleaseOptions(), enqueue=False)
    client.get(BASE)  # token's last_used_at is written on first use
    # token with its user, the corpus, the caller's role, one page of releases
    with django_assert_num_queries(4) as first:
        assert len(client.get(BASE).json()["results"]) == 2
    for _ in range(3):
        cut_release(corpus=labelled_corpus, options=ReleaseOptions(), enqueue=False)
    with django_assert_num_queries(len(first.captured_queries)):
        assert len(client.get(BASE).json()["results"]) == 5
