"""Label saves under database faults: killed backends and exhausted connections.

The invariant every test checks, whatever the fault: each acknowledged save (a 2xx answer) is
stored, exactly once, with the last acknowledged value unless a later save whose answer was
lost may have replaced it; no save is stored twice (one current row per key, at most one
history entry per save sent). A save that was refused may or may not be stored.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg2
import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection, connections
from django.test import Client

from annotator.db_timeouts import Timeouts
from annotator.models import Annotation, AnnotationHistory, Article, Assignment, Layer
from annotator.tokens import create_token
from tests.faults.conftest import (
    backends_of,
    claim_choices,
    database_name,
    save_label,
    superuser_params,
    wait_for,
)

# Saves per annotator at most in the killed-backends test (it stops once three saves met a
# killed backend, or after a minute).
MAX_SAVES = 20_000


@dataclass
class Ledger:
    """What the clients were told, per (annotator, sentence): the saves sent, in order, and
    which of them were acknowledged."""

    sent: dict[tuple[int, int], list[tuple[int, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, annotator: int, sentence: int, choice: int, status: int) -> None:
        with self.lock:
            self.sent[(annotator, sentence)].append((choice, 200 <= status < 300))
            self.statuses[status] += 1

    @property
    def acknowledged(self) -> int:
        return sum(ok for saves in self.sent.values() for _, ok in saves)

    def check(self) -> None:
        """The invariant of the module docstring, against the database."""
        stored = defaultdict(list)
        for annotator, sentence, choice in Annotation.objects.filter(
            layer=Layer.CLAIM_TYPE
        ).values_list("annotator_id", "sentence_id", "choice_id"):
            stored[(annotator, sentence)].append(choice)
        history = defaultdict(int)
        for annotator, sentence in AnnotationHistory.objects.filter(
            layer=Layer.CLAIM_TYPE
        ).values_list("annotator_id", "sentence_id"):
            history[(annotator, sentence)] += 1
        assert set(stored) <= set(self.sent), "a label nobody sent"
        for key, saves in self.sent.items():
            rows = stored.get(key, [])
            assert len(rows) <= 1, f"{key}: stored twice"
            acked = [index for index, (_, ok) in enumerate(saves) if ok]
            if acked:
                assert rows, f"{key}: acknowledged, then missing"
                last = acked[-1]
                possible = {choice for choice, _ in saves[last:]}
                assert rows[0] in possible, f"{key}: {rows[0]} is not {saves[last][0]}"
            # One history entry per change stored (saving the same value again is no change):
            # at least one per change among the acknowledged saves, never more than were sent.
            acked_values = [saves[index][0] for index in acked]
            changes = sum(
                1
                for index, value in enumerate(acked_values)
                if index == 0 or value != acked_values[index - 1]
            )
            assert changes <= history[key] <= len(saves), f"{key}: history {history[key]}"


def pids_waiting_on_a_lock(run: Callable[..., list[tuple]]) -> list[int]:
    rows = run(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        (database_name(),),
    )
    return [pid for (pid,) in rows]


def test_save_whose_backend_is_terminated_while_it_waits_is_refused_and_redone_once(
    web: Client,
    annotator: AbstractUser,
    article: Article,
    maintenance: Callable[..., list[tuple]],
    table_lock: Callable,
) -> None:
    # Long enough a lock wait that the backend is terminated, not timed out.
    connection.settings_dict["OPTIONS"]["options"] = Timeouts(
        statement_ms=30_000, lock_ms=30_000, idle_in_transaction_ms=30_000
    ).startup_options()
    connection.close()
    ledger = Ledger()
    first, second = article.sentences.order_by("ordinal")[:2]
    opinion, fact = claim_choices(article.corpus)[:2]

    def save(sentence: object, choice: object) -> int:
        status = save_label(web, sentence, choice).status_code
        ledger.record(annotator.pk, sentence.pk, choice.pk, status)
        return status

    assert save(first, opinion) == 200
    release = table_lock("annotator_annotation")
    outcome: list[int] = []
    saver = threading.Thread(
        target=lambda: (outcome.append(save(second, fact)), connections.close_all())
    )
    saver.start()
    (pid,) = wait_for(
        lambda: pids_waiting_on_a_lock(maintenance), timeout=20, what="the save to wait"
    )
    maintenance("SELECT pg_terminate_backend(%s)", (pid,))
    saver.join(20)
    release()

    assert outcome == [503]
    assert save(second, fact) == 200
    assert save(first, fact) == 200
    ledger.check()
    assert Annotation.objects.filter(layer=Layer.CLAIM_TYPE).count() == 2


@pytest.mark.slow
def test_concurrent_saves_while_backends_are_killed_lose_and_double_nothing(
    wsgi_connections: None,
    article: Article,
    make_member: Callable[..., AbstractUser],
    maintenance: Callable[..., list[tuple]],
) -> None:
    annotators = [make_member(corpus=article.corpus) for _ in range(3)]
    for person in annotators:
        Assignment.objects.create(article=article, annotator=person)
    sentences = list(article.sentences.order_by("ordinal"))
    choices = claim_choices(article.corpus)
    ledger = Ledger()
    stop = threading.Event()
    connection.ensure_connection()
    spared = (connection.connection.get_backend_pid(),)

    clients = {}
    for person in annotators:  # signed in before the killing starts
        clients[person.pk] = Client(raise_request_exception=False)
        clients[person.pk].force_login(person)

    def annotate(person: AbstractUser, seed: int) -> None:
        rng = random.Random(seed)
        client = clients[person.pk]
        try:
            # At least 25 saves each, and on until enough of them met a killed backend: on a
            # quiet machine a save takes a few milliseconds and most kills hit idle backends.
            for number in range(MAX_SAVES):
                if number >= 25 and stop.is_set():
                    break
                sentence, choice = rng.choice(sentences), rng.choice(choices)
                status = save_label(client, sentence, choice).status_code
                ledger.record(person.pk, sentence.pk, choice.pk, status)
        finally:
            connections.close_all()

    def kill() -> None:
        rng = random.Random(7)
        deadline = time.monotonic() + 60
        while not stop.wait(0.05):
            pids = backends_of(maintenance, exclude=spared)
            if pids:
                maintenance("SELECT pg_terminate_backend(%s)", (rng.choice(pids),))
            if ledger.statuses[503] >= 3 or time.monotonic() > deadline:
                stop.set()

    killer = threading.Thread(target=kill)
    threads = [
        threading.Thread(target=annotate, args=(person, number))
        for number, person in enumerate(annotators)
    ]
    killer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    stop.set()
    killer.join()

    assert set(ledger.statuses) <= {200, 503}, dict(ledger.statuses)  # never a 500
    assert ledger.statuses[503] > 0, "no save met a killed backend: the test proved nothing"
    assert ledger.acknowledged > 0
    ledger.check()


def test_saves_when_no_connection_is_left_answer_503_then_succeed(
    wsgi_connections: None,
    annotator: AbstractUser,
    article: Article,
    app_role: str,
    maintenance: Callable[..., list[tuple]],
) -> None:
    web = Client(raise_request_exception=False)
    web.force_login(annotator)
    _, token = create_token(user=annotator, name="fault test")
    api = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})
    first, second = article.sentences.order_by("ordinal")[:2]
    opinion, fact = claim_choices(article.corpus)[:2]
    ledger = Ledger()

    def save(sentence: object, choice: object, **headers: str) -> object:
        connection.close()  # a request on a fresh connection, as after a restart
        response = save_label(web, sentence, choice, **headers)
        ledger.record(annotator.pk, sentence.pk, choice.pk, response.status_code)
        return response

    # The app runs as a role of its own, limited to one connection, which another holds.
    connection.close()
    connection.settings_dict["USER"] = app_role
    assert save(first, opinion).status_code == 200
    connection.close()
    maintenance(f'ALTER ROLE "{app_role}" CONNECTION LIMIT 1')
    holder = psycopg2.connect(**{**superuser_params(), "user": app_role})
    try:
        refused = save(second, fact)
        page = save(second, fact, **{"HX-Request": ""})
        connection.close()
        listing = api.get("/api/v1/annotations/")
    finally:
        holder.close()
    assert refused.status_code == 503
    assert refused.content.decode().startswith("The database is unavailable for a moment")
    assert page.status_code == 503 and "Temporarily unavailable" in page.content.decode()
    assert listing.status_code == 503
    assert listing.json()["error"]["code"] == "database_unavailable"

    wait_for(
        lambda: not maintenance("SELECT pid FROM pg_stat_activity WHERE usename = %s", (app_role,)),
        timeout=10,
        what="the holder's connection to go",
    )
    assert save(second, fact).status_code == 200
    assert save(first, fact).status_code == 200
    ledger.check()
    assert Annotation.objects.filter(layer=Layer.CLAIM_TYPE).count() == 2
