"""The OpenAPI schema: valid, served with its docs from our own static files, and honoured by
the API under Schemathesis (no 5xx, no answer outside the schema) with a real token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import schemathesis
from django.contrib.auth.models import AbstractUser
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings

from annotator.models import Article
from annotator.tokens import create_token


def _schema_dict() -> dict:
    # Generated in-process (no request, no database) so collection needs neither.
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


SCHEMA = schemathesis.openapi.from_dict(_schema_dict())
SCHEMA.app = get_wsgi_application()


def test_schema_validates_without_warnings(tmp_path: object) -> None:
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_every_operation_documents_its_error_answers() -> None:
    document = _schema_dict()
    missing = [
        (method.upper(), path, code)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for code in ("401", "403", "404")
        if code not in operation["responses"]
    ]
    assert missing == []
    export = document["paths"]["/api/v1/corpora/{slug}/export/"]["get"]
    names = {parameter["name"] for parameter in export["parameters"]}
    assert {"format", "shape", "layer", "anonymize", "only_gold", "since", "until"} <= names


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_cdn(annotator: AbstractUser) -> None:
    client = Client()
    client.force_login(annotator)

    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    page = docs.content.decode()
    assert docs.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    # The set-up script is a file of its own (the split view), so the page fits a CSP that
    # forbids inline scripts.
    assert "<script>" not in page.replace(" ", "")
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_anonymous_requests_for_the_schema_get_401() -> None:
    response = Client().get("/api/schema/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"
    assert b"openapi" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/docs/?script="])
def test_anonymous_visitors_of_the_docs_are_sent_to_sign_in(url: str) -> None:
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + quote(url)


@pytest.mark.django_db
def test_a_wrong_token_gets_no_docs() -> None:
    client = Client(HTTP_AUTHORIZATION="Bearer csa_wrong")

    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert (schema.status_code, docs.status_code) == (401, 401)
    assert docs.json()["error"]["code"] == "authentication_failed"
    assert b"SwaggerUIBundle" not in docs.content and b"swagger-ui" not in docs.content


@pytest.mark.django_db
def test_a_token_reads_the_schema(annotator: AbstractUser) -> None:
    _, raw = create_token(user=annotator, name="codegen")

    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    assert json.loads(response.content)["openapi"].startswith("3.")


@pytest.fixture
def token_headers(manager: AbstractUser, labelled_article: Article) -> Iterator[dict[str, str]]:
    _, raw = create_token(user=manager, name="schemathesis")
    # The WSGI handler closes the database connection after each request; Django's test
    # Client stops that so the test transaction survives, and so must we.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {raw}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@SCHEMA.parametrize()
@settings(
    max_examples=8,
    # The same examples on every run: a CI failure is then reproducible, never a fluke.
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_honours_its_schema(case: object, token_headers: dict[str, str]) -> None:
    # Every built-in check but "schema-valid data must be accepted": a label value or stance
    # target that fits the schema's types can still be wrong for the corpus, and that 400 is
    # the API working, not breaking its schema.
    case.call_and_validate(
        headers=token_headers, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )
