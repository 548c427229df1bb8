"""Schemathesis stateful testing: sequences of API calls chained by the schema's OpenAPI links
(annotator/api/schema.py LINKS), e.g. create an article -> read it -> read a sentence -> label it
-> read the label -> remove it. Every answer must fit the schema and none may be a 5xx.

Requests authenticate as the role the operation is for: label operations as an annotator, the
rest as a manager of the same corpus, so chains reach the end instead of stopping at a 403.
Bounded (few steps, fixed seed) to stay a fast part of the suite; the non-stateful run over
every operation is tests/api/test_schema.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import AbstractUser
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, settings

from annotator.models import Article, Corpus
from annotator.tokens import create_token
from tests.api.test_schema import _schema_dict

# The walk covers the resources the links connect (corpora, articles, sentences, labels, gold,
# members). A corpus's reports and downloads (agreement, export, releases, schema) lead nowhere
# by links; every new one would only dilute the walk, so they are left to test_schema.py.
SCHEMA = schemathesis.openapi.from_dict(_schema_dict()).exclude(
    path_regex=r"^/api/v1/corpora/\{slug\}/.+"
)
SCHEMA.app = get_wsgi_application()
LABEL_OPERATIONS = ("/api/v1/annotations/",)


def test_schema_declares_the_links_the_workflow_follows() -> None:
    document = _schema_dict()
    create = document["paths"]["/api/v1/articles/"]["post"]["responses"]["201"]
    label = document["paths"]["/api/v1/annotations/"]["post"]["responses"]["201"]

    assert create["links"]["GetArticle"]["operationId"] == "articles_retrieve"
    assert label["links"]["GetLabel"]["parameters"] == {"id": "$response.body#/id"}
    operation_ids = {
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    }
    for operations in document["paths"].values():
        for operation in operations.values():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in operation_ids


@pytest.fixture
def tokens(
    manager: AbstractUser, annotator: AbstractUser, labelled_article: Article
) -> Iterator[dict[str, str]]:
    headers = {
        role: f"Bearer {create_token(user=user, name='stateful')[1]}"
        for role, user in (("manager", manager), ("annotator", annotator))
    }
    # The WSGI handler closes the connection after each request; the test transaction must
    # survive (as in tests/api/test_schema.py).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield headers
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Hypothesis replays the walk from a fixed seed, but which calls succeed depends on the ids in
# the answers; restarting the sequences makes the walk the same whatever ran before it.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_api_workflows_follow_links_without_errors(
    tokens: dict[str, str], labelled_article: Article
) -> None:
    corpus_slug = labelled_article.corpus.slug
    calls: list[tuple[str, str, int]] = []

    class Workflow(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from the same rows, so Hypothesis can replay and shrink it.
            self.scenario = transaction.atomic()
            self.scenario.__enter__()

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.scenario.__exit__(None, None, None)

        def before_call(self, case: Any) -> None:
            # Random slugs and filters mostly meet nothing; point them at the test corpus (or
            # a corpus a link made) so chains start from real rows. Plain fuzzing of every
            # parameter is test_schema.py's job.
            known = set(Corpus.objects.values_list("slug", flat=True))
            if (case.path_parameters or {}).get("slug") not in known | {None}:
                case.path_parameters["slug"] = corpus_slug
            if isinstance(case.body, dict) and case.body.get("corpus") not in known | {None}:
                case.body["corpus"] = corpus_slug
            if case.method == "GET" and case.path.endswith("s/"):
                case.query = {}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            role = "annotator" if case.path.startswith(LABEL_OPERATIONS) else "manager"
            return {"headers": {"Authorization": tokens[role]}}

        def after_call(self, response: Any, case: Any) -> None:
            calls.append((case.method, case.path, response.status_code))

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            # As in test_schema.py: schema-valid input can still be wrong for the corpus (an
            # unknown label value), and that 400 is the API working. `ignored_auth` is left out
            # because the requests carry a real token beside the random session cookie the
            # schema's cookie scheme makes Schemathesis send; the token rightly wins.
            # Authentication is tested in test_authentication.py and tests/test_url_access.py.
            case.validate_response(
                response,
                excluded_checks=[
                    schemathesis.checks.positive_data_acceptance,
                    schemathesis.checks.ignored_auth,
                ],
                transport_kwargs=kwargs,
            )

    Workflow.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=8,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )

    assert all(status < 500 for _, _, status in calls)
    # The links were followed: random ids never exist, so a successful call on an `{id}` or
    # `{slug}` address got its id from an earlier answer through a link.
    followed = {(method, path) for method, path, status in calls if status in (200, 201, 204)}
    # Which chains a bounded walk completes still varies with what ran before it in the
    # process, so the test asks for several, not for particular ones.
    by_id = {(method, path) for method, path in followed if "{id}" in path}
    assert len(by_id) >= 3, by_id


@pytest.mark.parametrize("level", ["interval", "ordinal", "nominal"])
def test_any_level_on_any_layer_answers_figures_not_a_server_error(
    client: Client, curator: AbstractUser, labelled_article: Article, level: str
) -> None:
    """Found by the workflow above: ?level=interval on claim types (choices without numeric
    codes) raised a 500 in the API and on the statistics pages. The layer now falls back to
    its own level and says why."""
    slug = labelled_article.corpus.slug
    client.force_login(curator)
    _, raw = create_token(user=curator, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})

    page = client.get(f"/corpora/{slug}/statistics/?level={level}")
    data = client.get(f"/corpora/{slug}/statistics.json?level={level}", follow=True)
    figures = api.get(f"/api/v1/corpora/{slug}/agreement/?level={level}&replicates=10")

    assert (page.status_code, data.status_code, figures.status_code) == (200, 200, 200)
    claim_type = next(layer for layer in data.json()["layers"] if layer["layer"] == "claim_type")
    if level == "interval":
        assert claim_type["level"] == "nominal"
        assert "numeric code" in claim_type["level_note"]
    else:
        assert (claim_type["level"], claim_type["level_note"]) == (level, "")
