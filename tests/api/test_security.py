"""Parameters that try to reach other fields or rows: unknown filters and orderings are 400s."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from rest_framework.test import APIClient

from annotator.models import Article

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "/api/v1/corpora/",
    "/api/v1/memberships/",
    "/api/v1/articles/",
    "/api/v1/sentences/",
    "/api/v1/annotations/",
    "/api/v1/gold-labels/",
]
PROBES = [
    "annotator__password__startswith=pbkdf2",
    "ordering=annotator__password",
    "ordering=-id",
    "user__password=x",
    "sentence__article__corpus__memberships__user__username=manager",
    "search=x",
]


@pytest.mark.parametrize("url", LIST_URLS)
@pytest.mark.parametrize("probe", PROBES)
def test_unknown_filter_and_ordering_params_are_400(
    url: str,
    probe: str,
    labelled_article: Article,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(manager).get(f"{url}?{probe}")

    assert response.status_code == 400
    name = probe.split("=")[0]
    assert name in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "url", ["/api/v1/corpora/korea/agreement/?level=", "/api/v1/corpora/korea/export/?format="]
)
def test_an_empty_option_of_an_action_is_400_not_the_default(
    url: str,
    labelled_article: Article,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(manager).get(url)

    assert response.status_code == 400
    name = url.rsplit("?", 1)[1].rstrip("=")
    assert response.json()["error"]["fields"] == {name: ["Must not be empty."]}


def test_known_filter_with_bad_value_is_400(
    manager: AbstractUser, token_client: Callable[[AbstractUser], APIClient]
) -> None:
    response = token_client(manager).get("/api/v1/annotations/?layer=password")

    assert response.status_code == 400
    assert "layer" in response.json()["error"]["fields"]


def test_filtering_by_another_users_name_never_widens_an_annotators_view(
    labelled_article: Article,
    annotator: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(annotator).get("/api/v1/annotations/?annotator=other-annotator")

    assert response.status_code == 200 and response.json()["results"] == []


def test_page_size_is_capped_and_cursor_tampering_is_rejected(
    labelled_article: Article,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    client = token_client(manager)

    capped = client.get("/api/v1/sentences/?page_size=100000")
    tampered = client.get("/api/v1/sentences/?cursor=not-a-cursor")

    assert capped.status_code == 200
    for bad in ("0", "%C2%B2", "9" * 5000, "1&page_size=2"):
        answer = client.get(f"/api/v1/sentences/?page_size={bad}")
        assert answer.status_code == 400, bad
        assert "page_size" in answer.json()["error"]["fields"]
    assert tampered.status_code == 404
    assert tampered.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing/",
        "/api/v1/corpora/a%0Ab/releases/1/",  # found by test_schema.py: a newline in a slug
        "/api/v1/corpora/x/releases/%C3%98%0A/",
    ],
)
def test_unknown_api_addresses_answer_json_404(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("url", ["/api/v1/annotations/", "/api/v1/articles/"])
def test_a_body_nested_too_deeply_is_a_parse_error_not_a_500(
    url: str,
    labelled_article: Article,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(manager).post(url, data="[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "parse_error",
        "JSON parse error - nested too deeply",
    )
