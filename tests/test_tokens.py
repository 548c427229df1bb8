"""Personal API tokens: hashing, revocation, the hourly limit, and the page that manages them."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import ApiToken
from annotator.tokens import (
    TOKEN_PREFIX,
    TokenLimitReached,
    create_token,
    find_active_token,
    revoke_token,
)

pytestmark = pytest.mark.django_db


def test_only_the_hash_of_a_new_token_is_stored(annotator: AbstractUser) -> None:
    token, raw = create_token(user=annotator, name="laptop")

    assert raw.startswith(TOKEN_PREFIX) and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    assert raw.startswith(stored.prefix)


def test_found_while_active_and_not_after_revocation(annotator: AbstractUser) -> None:
    token, raw = create_token(user=annotator, name="laptop")

    assert find_active_token(raw) == token
    assert revoke_token(token=token) is True
    assert revoke_token(token=token) is False
    assert find_active_token(raw) is None
    assert find_active_token(raw + "x") is None


def test_token_of_an_inactive_user_is_refused(annotator: AbstractUser) -> None:
    _, raw = create_token(user=annotator, name="laptop")
    annotator.is_active = False
    annotator.save()

    assert find_active_token(raw) is None


def test_name_is_required(annotator: AbstractUser) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        create_token(user=annotator, name="  ")


def test_hourly_limit(annotator: AbstractUser, settings: object) -> None:
    settings.API_TOKEN_CREATE_PER_HOUR = 2
    create_token(user=annotator, name="one")
    create_token(user=annotator, name="two")

    with pytest.raises(TokenLimitReached):
        create_token(user=annotator, name="three")
    assert ApiToken.objects.filter(user=annotator).count() == 2


def logged_in(user: AbstractUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_token_page_needs_login() -> None:
    response = Client().get(reverse("annotator:token-list"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_created_token_is_shown_once(annotator: AbstractUser) -> None:
    client = logged_in(annotator)

    created = client.post(reverse("annotator:token-list"), {"name": "pipeline"})
    raw = created.context["created_raw"]
    later = client.get(reverse("annotator:token-list"))

    assert created.status_code == 200 and raw in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert find_active_token(raw).user == annotator
    assert raw not in later.content.decode() and "pipeline" in later.content.decode()


def test_empty_state_explains_tokens(annotator: AbstractUser) -> None:
    response = logged_in(annotator).get(reverse("annotator:token-list"))

    assert "You have no API tokens yet" in response.content.decode()


def test_page_lists_only_own_tokens_and_escapes_names(
    annotator: AbstractUser, other_annotator: AbstractUser
) -> None:
    create_token(user=annotator, name="<script>mine</script>")
    create_token(user=other_annotator, name="theirs")

    page = logged_in(annotator).get(reverse("annotator:token-list")).content.decode()

    assert "&lt;script&gt;mine&lt;/script&gt;" in page and "<script>mine" not in page
    assert "theirs" not in page


def test_revoke_own_token(annotator: AbstractUser) -> None:
    token, raw = create_token(user=annotator, name="laptop")

    response = logged_in(annotator).post(reverse("annotator:token-revoke", args=[token.pk]))

    assert response.status_code == 302
    assert find_active_token(raw) is None


def test_cannot_revoke_someone_elses_token(
    annotator: AbstractUser, other_annotator: AbstractUser
) -> None:
    token, raw = create_token(user=other_annotator, name="theirs")

    response = logged_in(annotator).post(reverse("annotator:token-revoke", args=[token.pk]))

    assert response.status_code == 404
    assert find_active_token(raw) is not None


def test_revoke_needs_post(annotator: AbstractUser) -> None:
    token, _ = create_token(user=annotator, name="laptop")

    response = logged_in(annotator).get(reverse("annotator:token-revoke", args=[token.pk]))

    assert response.status_code == 405


def test_token_creation_is_throttled_in_the_web_ui(
    annotator: AbstractUser, settings: object
) -> None:
    settings.API_TOKEN_CREATE_PER_HOUR = 1
    client = logged_in(annotator)

    first = client.post(reverse("annotator:token-list"), {"name": "one"})
    second = client.post(reverse("annotator:token-list"), {"name": "two"})

    assert first.status_code == 200
    assert second.status_code == 429 and "per hour" in second.content.decode()
    assert ApiToken.objects.filter(user=annotator).count() == 1


def test_csrf_is_enforced_on_token_creation(annotator: AbstractUser) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)

    response = client.post(reverse("annotator:token-list"), {"name": "forged"})

    assert response.status_code == 403
    assert not ApiToken.objects.exists()
