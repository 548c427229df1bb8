"""Fixtures for the fault suite: real PostgreSQL, real processes, faults made from outside.

Faults are made the way an operator or an outage makes them: from a separate superuser
connection (`maintenance`: pg_terminate_backend, LOCK TABLE, ALTER ROLE ... CONNECTION LIMIT),
or by killing a process. Nothing here mocks the database.

- `web`: a signed-in annotator's test client whose connection opens with the web timeouts and
  is reused between requests with health checks, as a gunicorn thread's is (Django's test
  client otherwise skips the per-request connection handling a WSGI server does).
- `app_role`: a login role of its own with the app's privileges on the test database.
  PostgreSQL exempts superusers from connection limits, so connection exhaustion is made on
  this role.
- `start_worker`: `manage.py db_worker` as a subprocess on the test database, with a short
  heartbeat and lease so recovery happens within seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.contrib.auth.models import AbstractUser
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from pytest_django.fixtures import Settings

from annotator.db_timeouts import Timeouts
from annotator.models import Article, Assignment, Corpus, LabelChoice, Layer, Sentence

ROOT = Path(__file__).resolve().parents[2]
# Short web limits so that the suite stays quick; production's are in settings.py.
WEB_TIMEOUTS = Timeouts(statement_ms=2500, lock_ms=1000, idle_in_transaction_ms=5000)
ARTICLE_TEXT = (
    "Pyongyang announced new missile tests on Monday. Officials in Seoul said the launches "
    "broke earlier agreements. Beijing called for calm on all sides.\n\n"
    "Analysts expect more talks this spring. Markets in the region barely moved. "
    "A spokesman declined to comment further."
)
DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def database_name() -> str:
    return connection.settings_dict["NAME"]


def database_url(*, user: str | None = None) -> str:
    params = connection.settings_dict
    credentials = quote(user or params["USER"] or "")
    if not user and params.get("PASSWORD"):
        credentials += ":" + quote(params["PASSWORD"])
    host = params["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{params['PORT'] or 5432}/{database_name()}"


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll `condition` until it is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _wsgi_connection_handling(**kwargs: object) -> None:
    close_old_connections()


@pytest.fixture
def wsgi_connections(transactional_db: None, settings: Settings) -> Iterator[None]:
    """Connections opened with the web timeouts, reused and health-checked per request."""
    settings.DEBUG = False
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(
        OPTIONS={
            **connection.settings_dict.get("OPTIONS", {}),
            "options": WEB_TIMEOUTS.startup_options(),
        },
        CONN_MAX_AGE=60,
        CONN_HEALTH_CHECKS=True,
    )
    request_started.connect(_wsgi_connection_handling)
    request_finished.connect(_wsgi_connection_handling)
    try:
        yield
    finally:
        request_started.disconnect(_wsgi_connection_handling)
        request_finished.disconnect(_wsgi_connection_handling)
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def web(wsgi_connections: None, annotator: AbstractUser) -> Client:
    """A signed-in annotator's client (see the module docstring)."""
    client = Client(raise_request_exception=False)
    client.force_login(annotator)
    return client


@pytest.fixture
def maintenance() -> Iterator[Callable[..., list[tuple]]]:
    """Runs SQL as the superuser on the `postgres` database, beside the app's connections.

    Whatever a test does, the test database accepts connections again afterwards.
    """
    admin = psycopg2.connect(**{**superuser_params(), "dbname": "postgres"})
    admin.autocommit = True

    def run(sql: str, args: tuple = ()) -> list[tuple]:
        with admin.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall() if cursor.description else []

    try:
        yield run
    finally:
        run(f'ALTER DATABASE "{database_name()}" ALLOW_CONNECTIONS true')
        admin.close()


@pytest.fixture
def table_lock() -> Iterator[Callable[[str], Callable[[], None]]]:
    """`lock("annotator_annotation")` holds ACCESS EXCLUSIVE on a table of the test database
    from a connection of its own until the returned function (or the test's end) releases it."""
    holders: list[psycopg2.extensions.connection] = []

    def lock(table: str) -> Callable[[], None]:
        holder = psycopg2.connect(**superuser_params())
        holders.append(holder)
        with holder.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        return holder.rollback

    yield lock
    for holder in holders:
        holder.close()


def backends_of(run: Callable[..., list[tuple]], *, exclude: tuple[int, ...] = ()) -> list[int]:
    """Client backends on the test database, except `exclude` and the caller's own."""
    rows = run(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'",
        (database_name(),),
    )
    return [pid for (pid,) in rows if pid not in exclude]


def superuser_params() -> dict:
    """Connection parameters of the test database without the app's session options."""
    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params.pop("options", None)
    return params


@pytest.fixture
def app_role(transactional_db: None, maintenance: Callable[..., list[tuple]]) -> Iterator[str]:
    """A role like a production app's: owns nothing, may read and write every table."""
    role = f"{database_name()}_app"[:63]
    maintenance(f'DROP ROLE IF EXISTS "{role}"')
    maintenance(f'CREATE ROLE "{role}" LOGIN')
    owner = psycopg2.connect(**superuser_params())
    owner.autocommit = True
    with owner.cursor() as cursor:
        cursor.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"; '
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'
        )
    try:
        yield role
    finally:
        maintenance(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
        )
        with owner.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')  # its privileges on the test tables
        owner.close()
        maintenance(f'DROP ROLE IF EXISTS "{role}"')


class WorkerProcess:
    """A `manage.py db_worker` subprocess; its output goes to a log file for failures."""

    def __init__(self, log: Path, env: dict[str, str], *, cwd: Path = ROOT) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "manage.py"),
                    "db_worker",
                    "--no-reload",
                    "--no-startup-delay",
                    "--interval=0.2",
                    "--verbosity=2",
                ],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, and reap it so that it no longer exists even as a zombie."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    workers: list[WorkerProcess] = []

    def start(*, user: str | None = None, cwd: Path = ROOT, **env: str) -> WorkerProcess:
        environment = {
            key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"
        }
        environment.update(
            DJANGO_SETTINGS_MODULE="annotator.settings",
            DATABASE_URL=database_url(user=user),
            DEBUG="1",
            WORKER_HEARTBEAT_SECONDS="1",
            WORKER_LEASE_SECONDS="3",
            WORKER_RETRY_MAX_SECONDS="1",
            IMPORT_DUTY_CYCLE="1",
            CONN_MAX_AGE="60",
            PYTHONUNBUFFERED="1",
        )
        environment.update(env)
        log = tmp_path / f"worker-{len(workers) + 1}.log"
        worker = WorkerProcess(log, environment, cwd=cwd)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def jsonl_articles(count: int, *, prefix: str = "Fault") -> bytes:
    """`count` distinct articles of three sentences as JSONL."""
    lines = [
        (
            f'{{"id": "{prefix}-{number}", "text": "{prefix} report {number} opens here. '
            f'Officials in city {number} disagreed sharply. Markets moved {number} points."}}'
        )
        for number in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def article(
    corpus: Corpus, annotator: AbstractUser, make_article: Callable[..., Article]
) -> Article:
    article = make_article(corpus=corpus, text=ARTICLE_TEXT, title="Missile tests")
    Assignment.objects.create(article=article, annotator=annotator)
    return article


def claim_choices(corpus: Corpus) -> list[LabelChoice]:
    return list(LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE).order_by("pk"))


def save_label(client: Client, sentence: Sentence, choice: LabelChoice, **headers: str):
    """POST one claim-type label the way the workspace does (htmx unless told otherwise)."""
    headers = {"HX-Request": "true", **headers}
    return client.post(
        f"/sentences/{sentence.pk}/label/",
        {"label": str(choice.pk), "seconds": "3"},
        headers={key: value for key, value in headers.items() if value},
    )
