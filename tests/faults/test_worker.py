"""Worker faults: `manage.py db_worker` killed mid-import, and cut off by connection exhaustion.

Real worker processes on the test database (tests/faults/conftest.py, `start_worker`), with a
1 s heartbeat and a 3 s lease. The first worker of a kill test is paced (it believes people are
using the site) so that it is still importing when it is killed; the job must end done or
clearly failed, never "running" for ever, and never half-imported.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.files.base import ContentFile
from django.db.models.functions import Now
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from annotator.models import (
    Article,
    Corpus,
    ImportJob,
    ImportStatus,
    Sentence,
    SiteActivity,
    UploadChunk,
    WorkerHeartbeat,
)
from annotator.tasks import start_import
from tests.faults.conftest import (
    DB_BACKEND,
    WorkerProcess,
    database_name,
    jsonl_articles,
    wait_for,
)

pytestmark = pytest.mark.slow

ARTICLES = 400


@pytest.fixture
def busy_site(transactional_db: None) -> dict[str, str]:
    """Environment for a worker that paces its import: the site looks busy for an hour.

    A person was active just now, by the record every host shares (the database), and the
    worker counts anyone seen within the hour as active.
    """
    SiteActivity.objects.update_or_create(
        id=SiteActivity.SINGLETON_ID, defaults={"last_seen": Now()}
    )
    # One part work in a hundred: on a quiet machine the whole batch is a fraction of a second
    # of work, and at one part in twenty it could end within a test's grace periods.
    return {"ACTIVITY_WINDOW_SECONDS": "3600", "IMPORT_DUTY_CYCLE": "0.01"}


def queue_batch(corpus: Corpus, *, created_by: AbstractUser | None) -> ImportJob:
    """An import of ARTICLES generated articles, queued for a worker."""
    return start_import(
        corpus=corpus,
        created_by=created_by,
        file_name="batch.jsonl",
        content=ContentFile(jsonl_articles(ARTICLES)),
    )


def job_state(job: ImportJob) -> tuple[str, int]:
    job.refresh_from_db()
    return job.status, job.processed


def kill_mid_import(
    job: ImportJob, start_worker: Callable[..., WorkerProcess], busy_site: dict[str, str]
) -> None:
    """Start a paced worker, let it import part of the job, SIGKILL it."""
    first = start_worker(**busy_site)
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.RUNNING and job.processed >= 20,
        timeout=90,
        what=f"the first worker to import part of the job\n{first.output()[-2000:]}",
    )
    first.kill()
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and 0 < job.processed < ARTICLES
    # Killed inside the import's transaction: nothing of it was committed.
    assert Article.objects.count() == 0


def test_worker_killed_mid_import_is_picked_up_again_and_imports_everything_once(
    settings: object,
    corpus: Corpus,
    start_worker: Callable[..., WorkerProcess],
    busy_site: dict[str, str],
) -> None:
    settings.TASKS = DB_BACKEND
    job = queue_batch(corpus, created_by=None)
    kill_mid_import(job, start_worker, busy_site)

    second = start_worker()
    wait_for(
        lambda: job_state(job)[0] in (ImportStatus.DONE, ImportStatus.FAILED),
        timeout=90,
        what=f"the second worker to finish the job\n{second.output()[-2000:]}",
    )
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (ImportStatus.DONE, 2, "")
    assert job.summary["imported"] == ARTICLES and job.processed == ARTICLES
    assert Article.objects.filter(corpus=corpus).count() == ARTICLES
    assert Sentence.objects.filter(article__corpus=corpus).count() == 3 * ARTICLES
    assert not UploadChunk.objects.exists()
    task = DBTaskResult.objects.get()
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2
    assert "was lost" in second.output()


def test_after_the_last_attempt_the_job_fails_clearly_and_retry_imports_it(
    settings: object,
    corpus: Corpus,
    manager: AbstractUser,
    start_worker: Callable[..., WorkerProcess],
    busy_site: dict[str, str],
) -> None:
    settings.TASKS = DB_BACKEND
    job = queue_batch(corpus, created_by=manager)
    kill_mid_import(job, start_worker, busy_site)

    second = start_worker(IMPORT_MAX_ATTEMPTS="1")
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.FAILED,
        timeout=60,
        what=f"the second worker to fail the job\n{second.output()[-2000:]}",
    )
    job.refresh_from_db()
    assert job.error.startswith("The background worker running this import stopped")
    assert "nothing was imported" in job.error and job.can_retry
    assert Article.objects.count() == 0
    assert DBTaskResult.objects.get().status == "FAILED"

    # The manager's job page offers Retry, which queues the job for the running worker.
    client = Client()
    client.force_login(manager)
    progress = reverse("annotator:corpus-import-job", args=[corpus.slug, job.pk])
    retry = reverse("annotator:corpus-import-retry", args=[corpus.slug, job.pk])
    assert f'action="{retry}"' in client.get(progress).content.decode()
    client.post(retry)
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.DONE,
        timeout=60,
        what=f"the retried job to finish\n{second.output()[-2000:]}",
    )
    assert Article.objects.filter(corpus=corpus).count() == ARTICLES
    assert "Imported 400 articles" in client.get(progress).content.decode()


def test_import_whose_connection_is_killed_runs_again_by_itself(
    settings: object,
    corpus: Corpus,
    maintenance: Callable[..., list[tuple]],
    start_worker: Callable[..., WorkerProcess],
    busy_site: dict[str, str],
) -> None:
    settings.TASKS = DB_BACKEND
    job = queue_batch(corpus, created_by=None)
    worker = start_worker(**busy_site)
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.RUNNING and job.processed >= 20,
        timeout=90,
        what=f"the worker to import part of the job\n{worker.output()[-2000:]}",
    )
    # The import's own backend: the one inside the oldest transaction (heartbeats and progress
    # commit at once, though on a loaded machine one of theirs may also pass a second).
    (pid,) = wait_for(
        lambda: maintenance(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND xact_start < now() - interval '1 second' AND pid <> pg_backend_pid() "
            "ORDER BY xact_start LIMIT 1",
            (database_name(),),
        ),
        timeout=30,
        what="the import's transaction",
    )[0]
    maintenance("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.QUEUED,
        timeout=30,
        what=f"the job to be queued again\n{worker.output()[-2000:]}",
    )
    assert Article.objects.count() == 0  # the cut-off run left nothing
    # It waits REQUEUE_DELAY_SECONDS, then the same worker runs it again, now unpaced.
    SiteActivity.objects.all().delete()  # nobody has used the site
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.DONE,
        timeout=90,
        what=f"the job to finish on its second run\n{worker.output()[-2000:]}",
    )
    assert job.attempts == 2 and Article.objects.count() == ARTICLES
    # The job is marked done inside the task, just before the worker records the task's result.
    wait_for(
        lambda: not DBTaskResult.objects.filter(status="RUNNING").exists(),
        timeout=30,
        what="the worker to record the second task's result",
    )
    # The first run handed the job back itself (not the recovery sweep), then a new task ran.
    first, second = DBTaskResult.objects.order_by("enqueued_at")
    assert first.status == "SUCCESSFUL" and "queued_again" in first.return_value
    assert second.status == "SUCCESSFUL" and second.return_value["imported"] == ARTICLES
    assert worker.alive()


def test_worker_stopped_mid_import_puts_the_job_back_uncounted(
    settings: object,
    corpus: Corpus,
    start_worker: Callable[..., WorkerProcess],
    busy_site: dict[str, str],
) -> None:
    settings.TASKS = DB_BACKEND
    job = queue_batch(corpus, created_by=None)
    worker = start_worker(WORKER_STOP_GRACE_SECONDS="1", **busy_site)
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.RUNNING and job.processed >= 20,
        timeout=90,
        what=f"the worker to import part of the job\n{worker.output()[-2000:]}",
    )
    worker.process.send_signal(signal.SIGTERM)  # as `make serve` stops it
    assert worker.process.wait(timeout=60) == 0, worker.output()[-2000:]
    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed) == (ImportStatus.QUEUED, 0, 0)
    assert Article.objects.count() == 0
    assert DBTaskResult.objects.filter(status="READY").count() == 1  # for the next worker


def test_worker_outlives_connection_exhaustion_and_runs_the_next_job(
    settings: object,
    corpus: Corpus,
    app_role: str,
    maintenance: Callable[..., list[tuple]],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    settings.TASKS = DB_BACKEND
    worker = start_worker(user=app_role)
    wait_for(WorkerHeartbeat.objects.exists, timeout=60, what="a first heartbeat")

    # No connection left for the app: the role's limit is reached, its backends are gone.
    maintenance(f'ALTER ROLE "{app_role}" CONNECTION LIMIT 0')
    maintenance(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (app_role,)
    )
    wait_for(
        lambda: "too many connections" in worker.output(),
        timeout=30,
        what="the worker to meet the connection limit",
    )
    time.sleep(3)  # several retries
    assert worker.alive(), worker.output()[-2000:]

    maintenance(f'ALTER ROLE "{app_role}" CONNECTION LIMIT -1')
    job = start_import(
        corpus=corpus, created_by=None, file_name="a.jsonl", content=ContentFile(jsonl_articles(5))
    )
    wait_for(
        lambda: job_state(job)[0] == ImportStatus.DONE,
        timeout=60,
        what=f"the worker to run a job after the outage\n{worker.output()[-2000:]}",
    )
    assert Article.objects.count() == 5
    assert worker.alive() and worker.pid != os.getpid()
