"""Database faults on a real PostgreSQL: killed connections, a short outage, no lost labels.

Backends are terminated with `pg_terminate_backend` and the outage is made with
`ALTER DATABASE ... ALLOW_CONNECTIONS false`, both from a separate maintenance connection.

Django's test client turns off the per-request connection handling a WSGI server has
(`close_old_connections` on request start and finish, where CONN_MAX_AGE and
CONN_HEALTH_CHECKS act); the `app` fixture puts it back, so each request here sees the
persistent connection exactly as a gunicorn thread does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg2
import pytest
from django.contrib.auth.models import AbstractUser
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from pytest_django.fixtures import Settings

from annotator.middleware import RETRY_AFTER_SECONDS
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Assignment,
    Corpus,
    LabelChoice,
    Layer,
    Sentence,
)

ARTICLE_TEXT = (
    "Pyongyang announced new missile tests on Monday. Officials in Seoul said the launches "
    "broke earlier agreements. Beijing called for calm on all sides.\n\n"
    "Analysts expect more talks this spring. Markets in the region barely moved. "
    "A spokesman declined to comment further."
)


def _wsgi_connection_handling(**kwargs: object) -> None:
    close_old_connections()


@pytest.fixture
def app(transactional_db: None, settings: Settings, annotator: AbstractUser) -> Iterator[Client]:
    """A signed-in annotator's client whose requests reuse one health-checked connection."""
    settings.DEBUG = False
    connection.close()
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    request_started.connect(_wsgi_connection_handling)
    request_finished.connect(_wsgi_connection_handling)
    client = Client(raise_request_exception=False)
    client.force_login(annotator)
    try:
        yield client
    finally:
        request_started.disconnect(_wsgi_connection_handling)
        request_finished.disconnect(_wsgi_connection_handling)
        connection.close()
        connection.settings_dict.update(saved)


@pytest.fixture
def maintenance() -> Iterator[Callable[[str], None]]:
    """Runs SQL as the superuser on the `postgres` database, beside the app's connections.

    Whatever the test does, connections to the test database are allowed again afterwards so
    pytest-django can flush and drop it.
    """
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    params.pop("cursor_factory", None)
    admin = psycopg2.connect(**params)
    admin.autocommit = True

    def run(sql: str) -> None:
        with admin.cursor() as cursor:
            cursor.execute(sql)

    try:
        yield run
    finally:
        run(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" ALLOW_CONNECTIONS true')
        admin.close()


def terminate_app_connections(run: Callable[[str], None]) -> None:
    name = connection.settings_dict["NAME"]
    run(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


def set_outage(run: Callable[[str], None], *, down: bool) -> None:
    allow = "false" if down else "true"
    run(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" ALLOW_CONNECTIONS {allow}')
    if down:
        terminate_app_connections(run)


@pytest.fixture
def article(
    corpus: Corpus, annotator: AbstractUser, make_article: Callable[..., Article]
) -> Article:
    article = make_article(corpus=corpus, text=ARTICLE_TEXT, title="Missile tests")
    Assignment.objects.create(article=article, annotator=annotator)
    return article


def backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.get_backend_pid()


def label(client: Client, sentence: Sentence, choice: LabelChoice) -> int:
    """Posts one claim-type label the way the workspace does (htmx); returns the status."""
    response = client.post(
        f"/sentences/{sentence.pk}/label/",
        {"label": str(choice.pk), "seconds": "3"},
        HTTP_HX_REQUEST="true",
    )
    return response.status_code


def claim_choices(corpus: Corpus) -> list[LabelChoice]:
    return list(LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE))


def test_killed_connections_cost_no_request(
    app: Client, maintenance: Callable[[str], None], article: Article
) -> None:
    page = article.get_absolute_url()
    assert app.get(page).status_code == 200
    first_pid = backend_pid()
    # The connection outlived the request: this is the state a killed backend hurts.
    assert app.get(page).status_code == 200
    assert backend_pid() == first_pid

    terminate_app_connections(maintenance)

    # The health check at the start of the request finds the dead connection and reconnects.
    assert app.get(page).status_code == 200
    assert backend_pid() != first_pid
    sentence = article.sentences.first()
    choice = claim_choices(article.corpus)[0]
    terminate_app_connections(maintenance)
    assert label(app, sentence, choice) == 200
    assert Annotation.objects.filter(sentence=sentence, choice=choice).count() == 1


def test_without_health_checks_a_killed_connection_answers_503_once(
    app: Client, maintenance: Callable[[str], None], article: Article
) -> None:
    # The control for the test above: it is the health check that saves the request.
    connection.close()
    connection.settings_dict["CONN_HEALTH_CHECKS"] = False
    page = article.get_absolute_url()
    assert app.get(page).status_code == 200

    terminate_app_connections(maintenance)

    response = app.get(page)
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    # The middleware closed the broken connection, so the next request reconnects by itself.
    assert app.get(page).status_code == 200


def test_short_outage_answers_503_and_recovers_without_losing_acknowledged_labels(
    app: Client, maintenance: Callable[[str], None], article: Article
) -> None:
    sentences = list(article.sentences.order_by("ordinal"))
    assert len(sentences) >= 5
    choices = claim_choices(article.corpus)
    page = article.get_absolute_url()
    acknowledged: dict[int, LabelChoice] = {}
    acknowledged_changes = 0

    def label_and_record(sentence: Sentence, choice: LabelChoice) -> int:
        nonlocal acknowledged_changes
        status = label(app, sentence, choice)
        if 200 <= status < 300:
            acknowledged[sentence.pk] = choice
            acknowledged_changes += 1
        return status

    assert label_and_record(sentences[0], choices[0]) == 200
    assert label_and_record(sentences[1], choices[1]) == 200

    set_outage(maintenance, down=True)

    page_response = app.get(page)
    assert page_response.status_code == 503
    assert page_response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = page_response.content.decode()
    assert "Temporarily unavailable" in body
    assert "Traceback" not in body
    assert label_and_record(sentences[1], choices[2]) == 503
    assert label_and_record(sentences[2], choices[0]) == 503

    set_outage(maintenance, down=False)

    # No restart, no intervention: the next requests simply work again.
    assert app.get(page).status_code == 200
    assert label_and_record(sentences[2], choices[1]) == 200
    assert label_and_record(sentences[3], choices[3]) == 200
    assert label_and_record(sentences[0], choices[2]) == 200

    mine = Annotation.objects.filter(sentence__article=article, layer=Layer.CLAIM_TYPE)
    saved = {row.sentence_id: row.choice_id for row in mine}
    assert saved == {pk: choice.pk for pk, choice in acknowledged.items()}
    # Exactly once: one current label per sentence and one history entry per acknowledged change.
    assert mine.count() == len(acknowledged) == 4
    assert (
        AnnotationHistory.objects.filter(sentence__article=article).count()
        == acknowledged_changes
        == 5
    )
