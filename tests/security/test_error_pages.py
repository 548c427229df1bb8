"""Error pages are generic: no traceback, no exception text, and 500/503 need no database.

The test URLconf below adds views that fail on purpose to the real URLs.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from pytest_django.fixtures import Settings

from annotator.middleware import RETRY_AFTER_SECONDS, server_error
from annotator.urls import urlpatterns as real_urlpatterns

SECRET_DETAIL = "s3cret-internal-detail"


def raise_runtime_error(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"boom with {SECRET_DETAIL}")


def raise_permission_denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied(f"denied because {SECRET_DETAIL}")


def raise_lost_database(request: HttpRequest) -> HttpResponse:
    raise OperationalError(f"server closed the connection unexpectedly {SECRET_DETAIL}")


def raise_interface_error(request: HttpRequest) -> HttpResponse:
    raise InterfaceError(f"connection already closed {SECRET_DETAIL}")


urlpatterns = [
    path("test-errors/runtime/", raise_runtime_error),
    path("test-errors/forbidden/", raise_permission_denied),
    path("test-errors/database/", raise_lost_database),
    path("test-errors/interface/", raise_interface_error),
    path("api/v1/test-errors/database/", raise_lost_database),
    *real_urlpatterns,
]
handler500 = "annotator.middleware.server_error"

pytestmark = pytest.mark.urls("tests.security.test_error_pages")


@pytest.fixture
def production(settings: Settings) -> Settings:
    settings.DEBUG = False
    return settings


@pytest.fixture
def client_without_reraise(production: Settings) -> Client:
    """A client that shows the response a browser would get instead of re-raising the error."""
    return Client(raise_request_exception=False)


def assert_generic(body: str) -> None:
    """Nothing about the code: no traceback, exception class or message, no settings."""
    assert "Traceback" not in body
    assert SECRET_DETAIL not in body
    for name in ("RuntimeError", "OperationalError", "InterfaceError", "PermissionDenied"):
        assert name not in body
    assert "DEBUG = True" not in body


def test_unhandled_error_shows_the_generic_500_page(
    client_without_reraise: Client, db: None
) -> None:
    response = client_without_reraise.get("/test-errors/runtime/")

    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert_generic(body)


def test_missing_page_shows_the_generic_404_page(
    client_without_reraise: Client, manager: AbstractUser
) -> None:
    client_without_reraise.force_login(manager)

    response = client_without_reraise.get("/articles/987654/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "No Article matches" not in body
    assert_generic(body)


def test_permission_denied_shows_the_generic_403_page(client_without_reraise: Client) -> None:
    response = client_without_reraise.get("/test-errors/forbidden/")

    assert response.status_code == 403
    body = response.content.decode()
    assert "You are not allowed to do that" in body
    assert_generic(body)


def test_unknown_host_shows_the_generic_400_page(client_without_reraise: Client) -> None:
    response = client_without_reraise.get("/accounts/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    body = response.content.decode()
    assert "could not be understood" in body
    assert "evil.example" not in body
    assert_generic(body)


@pytest.mark.parametrize("url", ["/test-errors/database/", "/test-errors/interface/"])
def test_lost_database_in_a_view_answers_503_with_retry_after(
    client_without_reraise: Client, db: None, url: str
) -> None:
    response = client_without_reraise.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    # A GET can be repeated, so the page offers (and schedules) the retry.
    assert f'href="{url}"' in body
    assert 'http-equiv="refresh"' in body
    assert_generic(body)


def test_lost_database_during_a_post_does_not_reload_the_post(
    client_without_reraise: Client, db: None
) -> None:
    response = client_without_reraise.post("/test-errors/database/")

    assert response.status_code == 503
    body = response.content.decode()
    assert 'http-equiv="refresh"' not in body
    assert "may not have been saved" in body


def test_lost_database_in_the_api_answers_503_json(
    client_without_reraise: Client, db: None
) -> None:
    response = client_without_reraise.get("/api/v1/test-errors/database/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "database_unavailable"
    assert SECRET_DETAIL not in response.content.decode()


def test_server_error_handler_answers_503_for_a_database_error_outside_a_view(
    production: Settings, db: None
) -> None:
    # Middleware errors never reach process_exception; Django hands them to handler500 while
    # the exception is being handled.
    request = RequestFactory().get("/")
    try:
        raise OperationalError("terminating connection due to administrator command")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_server_error_handler_answers_500_for_other_errors(production: Settings) -> None:
    request = RequestFactory().get("/")
    try:
        raise ValueError(SECRET_DETAIL)
    except ValueError:
        response = server_error(request)

    assert response.status_code == 500
    assert_generic(response.content.decode())
