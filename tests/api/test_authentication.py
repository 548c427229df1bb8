"""Who gets in: bearer and Token headers, session; missing, wrong, revoked, basic and
query-string tokens are refused with 401 in the error format."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from annotator.models import Corpus
from annotator.tokens import create_token, revoke_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/corpora/"


def get_with(header: str | None, url: str = URL) -> object:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get(url)


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_token_header_authenticates(corpus: Corpus, annotator: AbstractUser, keyword: str) -> None:
    _, raw = create_token(user=annotator, name="t")

    response = get_with(f"{keyword} {raw}")

    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["results"]] == ["korea"]


def test_missing_token_is_401_with_a_challenge() -> None:
    response = get_with(None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header", ["Bearer csa_wrong", "Bearer nonsense", "Bearer", "Bearer a b", "Token "]
)
def test_wrong_or_malformed_token_is_401(annotator: AbstractUser, header: str) -> None:
    response = get_with(header)

    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"authentication_failed", "not_authenticated"}


def test_revoked_token_is_401(annotator: AbstractUser) -> None:
    token, raw = create_token(user=annotator, name="t")
    revoke_token(token=token)

    response = get_with(f"Bearer {raw}")

    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


@pytest.mark.parametrize("name", ["token", "access_token", "api_key"])
def test_token_in_the_query_string_is_refused(annotator: AbstractUser, name: str) -> None:
    _, raw = create_token(user=annotator, name="t")

    response = APIClient().get(f"{URL}?{name}={raw}")
    with_header_too = get_with(f"Bearer {raw}", f"{URL}?{name}={raw}")

    assert response.status_code == 401
    assert with_header_too.status_code == 401
    assert "query string" in response.json()["error"]["message"]


def test_basic_auth_is_not_accepted(annotator: AbstractUser) -> None:
    credentials = base64.b64encode(b"annotator:pw").decode()

    response = get_with(f"Basic {credentials}")

    assert response.status_code == 401


def test_session_authenticates_the_browser(corpus: Corpus, annotator: AbstractUser) -> None:
    client = APIClient()
    client.force_login(annotator)

    assert client.get(URL).status_code == 200


def test_session_writes_need_csrf(corpus: Corpus, manager: AbstractUser) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.patch(f"{URL}{corpus.slug}/", {"name": "Renamed"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_token_use_is_recorded(annotator: AbstractUser) -> None:
    token, raw = create_token(user=annotator, name="t")

    get_with(f"Bearer {raw}")

    token.refresh_from_db()
    assert token.last_used_at is not None
