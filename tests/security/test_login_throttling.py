"""Login throttling (django-axes): repeated failures lock one username from one address out.

tests/settings.py turns throttling off for every other test; these turn it back on.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

LOGIN_URL = "/accounts/login/"
ATTACKER_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def throttling(settings: Settings) -> Settings:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def sign_in(client: Client, username: str, password: str, *, ip: str = ATTACKER_IP) -> int:
    response = client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)
    return response.status_code


def fail_until_locked(client: Client, username: str, *, ip: str = ATTACKER_IP) -> None:
    for _ in range(4):
        assert sign_in(client, username, "wrong", ip=ip) == 200  # the form again, with an error
    # The fifth failure is the one that locks.
    assert sign_in(client, username, "wrong", ip=ip) == 429


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_username_out_even_with_the_right_password(
    client: Client, annotator: AbstractUser
) -> None:
    fail_until_locked(client, "annotator")

    response = client.post(
        LOGIN_URL, {"username": "annotator", "password": "pw"}, REMOTE_ADDR=ATTACKER_IP
    )

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    body = response.content.decode()
    assert "Too many sign-in attempts" in body
    assert "15 minutes" in body
    assert not is_signed_in(client)


def test_four_failures_do_not_lock_out(client: Client, annotator: AbstractUser) -> None:
    for _ in range(4):
        sign_in(client, "annotator", "wrong")

    assert sign_in(client, "annotator", "pw") == 302
    assert is_signed_in(client)


def test_lockout_is_per_username_and_address(
    client: Client, annotator: AbstractUser, other_annotator: AbstractUser
) -> None:
    fail_until_locked(client, "annotator")

    # Another person behind the same address still signs in...
    assert sign_in(Client(), "other-annotator", "pw") == 302
    # ...and so does the locked-out user from their own address.
    assert sign_in(Client(), "annotator", "pw", ip="198.51.100.20") == 302


def test_lockout_ends_after_the_cool_off(client: Client, annotator: AbstractUser) -> None:
    fail_until_locked(client, "annotator")
    assert sign_in(client, "annotator", "pw") == 429

    # Age the recorded failures past the cool-off instead of waiting for it.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert sign_in(client, "annotator", "pw") == 302
    assert is_signed_in(client)


def test_successful_sign_in_resets_the_failure_count(
    client: Client, annotator: AbstractUser
) -> None:
    for _ in range(4):
        sign_in(client, "annotator", "wrong")
    assert sign_in(client, "annotator", "pw") == 302
    client.logout()

    # Four more failures: without the reset this would be the eighth, well past the limit.
    for _ in range(4):
        sign_in(client, "annotator", "wrong")
    assert sign_in(client, "annotator", "pw") == 302


def test_admin_login_is_throttled_too(client: Client, make_user: object) -> None:
    make_user(username="admin", password="pw", is_staff=True, is_superuser=True)
    for _ in range(5):
        client.post(
            "/admin/login/", {"username": "admin", "password": "wrong"}, REMOTE_ADDR=ATTACKER_IP
        )

    response = client.post(
        "/admin/login/", {"username": "admin", "password": "pw"}, REMOTE_ADDR=ATTACKER_IP
    )

    assert response.status_code == 429
