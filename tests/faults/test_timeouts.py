"""Bounded waits: a request behind a table lock answers 503 within the web lock timeout, in the
format of its kind (page, htmx, API), and the label saved afterwards is stored exactly once.

The lock is ACCESS EXCLUSIVE on the annotation table, held by another connection, as a
migration or a bulk UPDATE would hold it. Each request runs in a thread that the test waits on
for a bounded time, so a missing timeout fails the test instead of hanging it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg2
import pytest
from django.contrib.auth.models import AbstractUser
from django.db import OperationalError, connection, connections
from django.test import Client

from annotator.background_stream import at_low_priority
from annotator.middleware import BUSY_MESSAGE, BUSY_RETRY_AFTER_SECONDS
from annotator.models import Annotation, AnnotationHistory, Article, Layer
from annotator.tokens import create_token
from tests.faults.conftest import WEB_TIMEOUTS, claim_choices, save_label, superuser_params

# Far above the 1 s web lock timeout of these tests, far below "waits for the lock's holder".
ANSWER_WITHIN_SECONDS = 15


def answered_within(seconds: float, request: Callable[[], object]) -> tuple[object, float]:
    """Run `request` in a thread; its result and how long it took, or fail after `seconds`."""
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["result"] = request()
        finally:
            outcome["elapsed"] = time.monotonic() - started
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s: the request waits on the lock"
    return outcome["result"], outcome["elapsed"]


def test_label_save_behind_a_table_lock_answers_503_then_saves_exactly_once(
    web: Client, article: Article, table_lock: Callable
) -> None:
    sentence = article.sentences.order_by("ordinal").first()
    first, second = claim_choices(article.corpus)[:2]
    assert save_label(web, sentence, first).status_code == 200

    release = table_lock("annotator_annotation")
    response, elapsed = answered_within(
        ANSWER_WITHIN_SECONDS, lambda: save_label(web, sentence, second)
    )
    release()

    assert response.status_code == 503
    assert response["Retry-After"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == BUSY_MESSAGE  # the workspace shows it as it is
    assert "temporary" in BUSY_MESSAGE
    assert elapsed >= WEB_TIMEOUTS.lock_ms / 1000 * 0.9  # it did wait for the lock, then gave up

    assert save_label(web, sentence, second).status_code == 200
    mine = Annotation.objects.filter(sentence=sentence, layer=Layer.CLAIM_TYPE)
    assert list(mine.values_list("choice_id", flat=True)) == [second.pk]
    # Two acknowledged saves, two history entries: the refused one left nothing behind.
    assert AnnotationHistory.objects.filter(sentence=sentence).count() == 2


def test_page_and_api_behind_a_lock_answer_503_in_their_own_format(
    web: Client, article: Article, annotator: AbstractUser, table_lock: Callable
) -> None:
    _, token = create_token(user=annotator, name="fault test")
    api = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})
    page_url = article.get_absolute_url()
    assert web.get(page_url).status_code == 200
    release = table_lock("annotator_annotation")
    try:
        page, _ = answered_within(ANSWER_WITHIN_SECONDS, lambda: web.get(page_url))
        listing, _ = answered_within(ANSWER_WITHIN_SECONDS, lambda: api.get("/api/v1/annotations/"))
    finally:
        release()

    assert page.status_code == 503
    body = page.content.decode()
    assert "<html" in body and "The database is busy for a moment" in body
    assert "Traceback" not in body and "lock" not in body.lower().replace("block", "")
    assert listing.status_code == 503
    assert listing.json()["error"]["code"] == "database_busy"
    assert "temporary" in listing.json()["error"]["message"]
    # The connection was healthy (only the statement was cancelled) and serves the next request.
    assert web.get(page_url).status_code == 200


def show(cursor: object, name: str) -> int:
    """A timeout of the session, in milliseconds."""
    cursor.execute("SELECT setting::int FROM pg_settings WHERE name = %s", [name])
    return cursor.fetchone()[0]


def test_web_connections_open_with_the_web_limits(web: Client) -> None:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        assert show(cursor, "lock_timeout") == WEB_TIMEOUTS.lock_ms
        assert show(cursor, "statement_timeout") == WEB_TIMEOUTS.statement_ms
        assert (
            show(cursor, "idle_in_transaction_session_timeout")
            == WEB_TIMEOUTS.idle_in_transaction_ms
        )
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"):
            cursor.execute("SELECT pg_sleep(30)")
        assert time.monotonic() - started < ANSWER_WITHIN_SECONDS


def test_an_idle_transaction_is_ended_by_the_server(web: Client) -> None:
    raw = psycopg2.connect(
        **superuser_params(), options="-c idle_in_transaction_session_timeout=300"
    )
    with raw.cursor() as cursor:
        cursor.execute("SELECT 1")  # opens a transaction (psycopg2 is not in autocommit)
    time.sleep(1)
    with pytest.raises(psycopg2.OperationalError), raw.cursor() as cursor:
        cursor.execute("SELECT 1")
    raw.close()


def test_export_thread_switches_to_the_background_limits(
    wsgi_connections: None, settings: object
) -> None:
    # A web process: its connections open with the web limits (wsgi_connections).
    settings.DATABASE_TIMEOUTS_ROLE = "web"
    background = settings.DATABASE_TIMEOUTS["background"]
    names = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")

    def pieces() -> object:
        with connection.cursor() as cursor:
            for name in names:
                yield str(show(cursor, name)).encode()

    seen = [int(piece) for piece in at_low_priority(pieces(), niceness=1)]
    assert seen == [
        background.statement_ms,
        background.lock_ms,
        background.idle_in_transaction_ms,
    ]
    # The request's own connection keeps the web limits.
    with connection.cursor() as cursor:
        assert show(cursor, "lock_timeout") == WEB_TIMEOUTS.lock_ms
