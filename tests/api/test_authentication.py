"""Who gets in: bearer and Token headers, session; missing, wrong, revoked, basic and
query-string tokens are refused with 401 in the error format, and so is a token whose user
changed password or was deactivated."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse
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


# --- A token lives only as long as its user's password and active account -----------------


class QuickPBKDF2Hasher(PBKDF2PasswordHasher):
    """A stronger hasher than the tests' MD5 that is still cheap, to trigger Django's upgrade."""

    algorithm = "pbkdf2_quick"
    iterations = 2


def status_with(raw: str) -> int:
    return get_with(f"Bearer {raw}").status_code


def test_a_valid_token_keeps_working_across_requests(
    corpus: Corpus, annotator: AbstractUser
) -> None:
    _, raw = create_token(user=annotator, name="t")

    assert [status_with(raw), status_with(raw)] == [200, 200]


def test_password_change_through_the_admin_form_ends_the_token(
    corpus: Corpus, annotator: AbstractUser, make_user: Callable[..., AbstractUser]
) -> None:
    _, raw = create_token(user=annotator, name="t")
    admin = Client()
    admin.force_login(make_user(is_staff=True, is_superuser=True))

    response = admin.post(
        reverse("admin:auth_user_password_change", args=[annotator.pk]),
        {
            "usable_password": "true",
            "password1": "a new long passphrase",
            "password2": "a new long passphrase",
        },
    )

    assert response.status_code == 302, response.content.decode()
    annotator.refresh_from_db()
    assert annotator.check_password("a new long passphrase")
    assert status_with(raw) == 401
    assert "password" in get_with(f"Bearer {raw}").json()["error"]["message"]


def test_set_password_and_save_ends_the_token(corpus: Corpus, annotator: AbstractUser) -> None:
    _, raw = create_token(user=annotator, name="t")
    assert status_with(raw) == 200

    annotator.set_password("another passphrase")
    annotator.save()

    assert status_with(raw) == 401


def test_password_written_by_a_queryset_update_ends_the_token(
    corpus: Corpus, annotator: AbstractUser
) -> None:
    # No signal fires for update(): the check happens when the token is used.
    _, raw = create_token(user=annotator, name="t")

    get_user_model().objects.filter(pk=annotator.pk).update(password=make_password("x y z w"))

    assert status_with(raw) == 401


def test_an_unusable_password_ends_the_token(corpus: Corpus, annotator: AbstractUser) -> None:
    _, raw = create_token(user=annotator, name="t")

    annotator.set_unusable_password()
    annotator.save(update_fields=["password"])

    assert status_with(raw) == 401


def test_a_token_made_after_the_change_works(corpus: Corpus, annotator: AbstractUser) -> None:
    _, old = create_token(user=annotator, name="before")
    annotator.set_password("another passphrase")
    annotator.save()
    _, new = create_token(user=annotator, name="after")

    assert (status_with(old), status_with(new)) == (401, 200)


@pytest.mark.parametrize("how", ["save", "update"])
def test_deactivation_ends_the_token_and_reactivation_restores_it(
    corpus: Corpus, annotator: AbstractUser, how: str
) -> None:
    # Like Django's sessions: is_active is read on every use, so an account that comes back
    # gets its unrevoked tokens back (revoking them, or a new password, ends them for good).
    _, raw = create_token(user=annotator, name="t")
    users = get_user_model().objects.filter(pk=annotator.pk)

    if how == "save":
        annotator.is_active = False
        annotator.save()
    else:
        users.update(is_active=False)
    refused = get_with(f"Bearer {raw}")
    users.update(is_active=True)

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert status_with(raw) == 200


def test_a_hash_upgrade_at_sign_in_is_not_a_password_change(
    corpus: Corpus, annotator: AbstractUser, settings: object
) -> None:
    # Django re-hashes a password with its preferred hasher when the user signs in; the
    # password is the same, so the user's current tokens must keep working.
    _, current = create_token(user=annotator, name="current")
    settings.PASSWORD_HASHERS = [
        f"{__name__}.QuickPBKDF2Hasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    assert Client().login(username=annotator.username, password="pw")

    annotator.refresh_from_db()
    assert annotator.password.startswith("pbkdf2_quick$")
    assert status_with(current) == 200


def test_a_hash_upgrade_does_not_revive_a_token_of_an_older_password(
    corpus: Corpus, annotator: AbstractUser, settings: object
) -> None:
    _, stale = create_token(user=annotator, name="old password")
    annotator.set_password("second passphrase")
    annotator.save()
    _, current = create_token(user=annotator, name="current password")
    settings.PASSWORD_HASHERS = [
        f"{__name__}.QuickPBKDF2Hasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    assert Client().login(username=annotator.username, password="second passphrase")

    assert (status_with(stale), status_with(current)) == (401, 200)
