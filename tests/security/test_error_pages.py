"""Error pages are generic: no traceback, no exception text, and 500/503 need no database.
Each shows the request's id, the one in its X-Request-ID header and on its JSON log records.

The test URLconf below adds views that fail on purpose to the real URLs.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from pytest_django.fixtures import Settings

from annotator.logs import JsonFormatter
from annotator.middleware import RETRY_AFTER_SECONDS, login_locked_out, server_error
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


def raise_too_big(request: HttpRequest) -> HttpResponse:
    raise RequestDataTooBig("The upload is larger than the 10-byte limit.")


def locked_out(request: HttpRequest) -> HttpResponse:
    return login_locked_out(request, None, None)


def log_hostile_text(request: HttpRequest) -> HttpResponse:
    logging.getLogger("annotator.test").warning("note was %r\nforged line", "a\nb\x1b[2J")
    return HttpResponse("logged")


urlpatterns = [
    path("test-errors/runtime/", raise_runtime_error),
    path("test-errors/forbidden/", raise_permission_denied),
    path("test-errors/database/", raise_lost_database),
    path("test-errors/interface/", raise_interface_error),
    path("test-errors/too-big/", raise_too_big),
    path("test-errors/locked-out/", locked_out),
    path("test-errors/log/", log_hostile_text),
    path("api/v1/test-errors/database/", raise_lost_database),
    path("api/v1/test-errors/runtime/", raise_runtime_error),
    *real_urlpatterns,
]
handler400 = "annotator.middleware.bad_request"
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


# --- Request ids -------------------------------------------------------------------------


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the configured JSON log handler (settings.LOGGING) writes, one record per line."""
    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, JsonFormatter)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def shown_request_id(body: str) -> str:
    match = re.search(r'<code class="request-id">([^<]+)</code>', body)
    assert match, body
    return match.group(1)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/test-errors/runtime/", 500),
        ("/articles/987654/", 404),
        ("/test-errors/forbidden/", 403),
        ("/test-errors/too-big/", 413),
        ("/test-errors/locked-out/", 429),
        ("/test-errors/database/", 503),
    ],
)
def test_error_pages_show_the_request_id_of_the_response_header(
    client_without_reraise: Client, manager: AbstractUser, url: str, status: int
) -> None:
    client_without_reraise.force_login(manager)

    response = client_without_reraise.get(url)

    assert response.status_code == status
    assert len(response["X-Request-ID"]) == 32
    assert shown_request_id(response.content.decode()) == response["X-Request-ID"]


def test_the_400_page_shows_the_request_id(client_without_reraise: Client) -> None:
    response = client_without_reraise.get("/accounts/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert shown_request_id(response.content.decode()) == response["X-Request-ID"]


def test_a_safe_incoming_request_id_is_echoed_and_an_unsafe_one_replaced(
    client_without_reraise: Client, db: None
) -> None:
    kept = client_without_reraise.get("/no-such-page/", HTTP_X_REQUEST_ID="proxy-7f3a.1")
    replaced = client_without_reraise.get("/no-such-page/", HTTP_X_REQUEST_ID="<b>id</b>")

    assert kept["X-Request-ID"] == "proxy-7f3a.1"
    assert shown_request_id(kept.content.decode()) == "proxy-7f3a.1"
    assert replaced["X-Request-ID"] != "<b>id</b>" and "<b>id" not in replaced.content.decode()


def test_the_logged_500_is_one_json_record_with_the_request_id(
    client_without_reraise: Client, db: None, log_lines: io.StringIO
) -> None:
    response = client_without_reraise.get("/test-errors/runtime/")

    logged = [r for r in records(log_lines) if r["logger"] == "django.request"]
    assert len(logged) == 1
    assert logged[0]["level"] == "ERROR"
    assert logged[0]["request_id"] == response["X-Request-ID"]
    assert "RuntimeError: boom" in logged[0]["exc_info"]


def test_the_not_found_warning_logged_after_the_middleware_has_the_request_id(
    client: Client, manager: AbstractUser, log_lines: io.StringIO
) -> None:
    client.force_login(manager)

    response = client.get("/api/v1/corpora/no-such-corpus/")

    [logged] = [r for r in records(log_lines) if r["logger"] == "django.request"]
    assert logged["message"] == "Not Found: /api/v1/corpora/no-such-corpus/"
    assert logged["request_id"] == response["X-Request-ID"]


def test_a_log_message_with_control_characters_stays_one_record(
    client: Client, db: None, log_lines: io.StringIO
) -> None:
    response = client.get("/test-errors/log/")

    lines = log_lines.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == "note was 'a\\nb\\x1b[2J'\nforged line"
    assert record["request_id"] == response["X-Request-ID"]


def test_api_errors_carry_the_request_id_of_the_response_header(
    client_without_reraise: Client, manager: AbstractUser
) -> None:
    client_without_reraise.force_login(manager)

    missing = client_without_reraise.get("/api/v1/no-such-endpoint/")
    invalid = client_without_reraise.get("/api/v1/articles/?unknown=1")
    lost_database = client_without_reraise.get("/api/v1/test-errors/database/")
    crashed = client_without_reraise.get("/api/v1/test-errors/runtime/")

    for response, status in ((missing, 404), (invalid, 400), (lost_database, 503), (crashed, 500)):
        assert response.status_code == status
        assert response.json()["error"]["request_id"] == response["X-Request-ID"]
    assert crashed.json()["error"]["code"] == "server_error"
    assert_generic(crashed.content.decode())
