"""The worker's recovery sweep, status and backoff (annotator/worker.py), on rows made by hand;
and one import through `manage.py db_worker` on SQLite, as `make run` runs it.

tests/faults/test_worker.py kills real worker processes; these tests pin each decision.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotator.models import Corpus, ImportJob, ImportStatus, WorkerHeartbeat
from annotator.tasks import start_import
from annotator.worker import recover_lost_tasks, retry_delay, worker_status

ROOT = Path(__file__).resolve().parent.parent
HOST = "this-host"


@pytest.fixture
def queue(settings: object) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.WORKER_LEASE_SECONDS = 30
    settings.IMPORT_MAX_ATTEMPTS = 3


def heartbeat(worker_id: str, *, seconds_ago: float, running: UUID | None = None) -> None:
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname="another-host",
        pid=1,
        started_at=seen,
        seen_at=seen,
        running_task=running,
    )


def running_import(
    corpus: Corpus, *, worker_id: str, attempts: int = 1, started_ago: float = 120
) -> tuple[ImportJob, DBTaskResult]:
    """A job a worker claimed `started_ago` seconds ago, as db_worker and the task leave it."""
    job = start_import(
        corpus=corpus, created_by=None, file_name="a.txt", content=ContentFile(b"One. Two.")
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, attempts=attempts, processed=3
    )
    task = DBTaskResult.objects.get()
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(seconds=started_ago),
        worker_ids=[worker_id],
    )
    return job, task


def states(job: ImportJob, task: DBTaskResult) -> tuple[str, str]:
    job.refresh_from_db()
    task.refresh_from_db()
    return job.status, task.status


def sweep() -> int:
    return recover_lost_tasks(backend_name="default", hostname=HOST)


@pytest.mark.usefixtures("queue")
def test_import_of_a_worker_gone_silent_is_queued_again_from_the_start(corpus: Corpus) -> None:
    heartbeat("dead", seconds_ago=60)
    job, task = running_import(corpus, worker_id="dead")
    assert sweep() == 1
    assert states(job, task) == (ImportStatus.QUEUED, "READY")
    assert (job.processed, job.attempts, task.started_at) == (0, 1, None)
    assert sweep() == 0  # nothing left to recover


@pytest.mark.usefixtures("queue")
def test_after_the_last_attempt_the_lost_import_fails_with_the_reason(corpus: Corpus) -> None:
    heartbeat("dead", seconds_ago=60)
    job, task = running_import(corpus, worker_id="dead", attempts=3)
    assert sweep() == 1
    assert states(job, task) == (ImportStatus.FAILED, "FAILED")
    assert job.error.startswith("The background worker running this import stopped")
    assert "3 times" in job.error and job.can_retry
    assert task.exception_class_path == "annotator.worker.WorkerLost"


@pytest.mark.usefixtures("queue")
def test_a_live_worker_keeps_its_task_and_a_fresh_claim_gets_time_to_beat(
    corpus: Corpus,
) -> None:
    job, task = running_import(corpus, worker_id="alive")
    heartbeat("alive", seconds_ago=2, running=task.pk)
    assert sweep() == 0
    DBTaskResult.objects.filter(pk=task.pk).update(
        started_at=timezone.now(), worker_ids=["unknown"]
    )
    assert sweep() == 0  # claimed a moment ago by a worker that has not beaten yet
    assert states(job, task) == (ImportStatus.RUNNING, "RUNNING")


@pytest.mark.usefixtures("queue")
def test_a_task_its_live_worker_no_longer_runs_is_recovered(corpus: Corpus) -> None:
    job, task = running_import(corpus, worker_id="alive")
    heartbeat("alive", seconds_ago=2, running=None)
    assert sweep() == 1
    assert states(job, task) == (ImportStatus.QUEUED, "READY")


@pytest.mark.usefixtures("queue")
def test_another_kind_of_task_is_failed_not_run_again(corpus: Corpus) -> None:
    _, task = running_import(corpus, worker_id="dead")
    DBTaskResult.objects.filter(pk=task.pk).update(task_path="annotator.tasks.other")
    assert sweep() >= 1
    task.refresh_from_db()
    assert task.status == "FAILED" and "WorkerLost" in task.traceback


def claimed_by(worker_id: str, *, started_ago: float = 120) -> DBTaskResult:
    """The one queued task, as a worker that claimed it `started_ago` seconds ago leaves it."""
    task = DBTaskResult.objects.get()
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(seconds=started_ago),
        worker_ids=[worker_id],
    )
    return task


@pytest.mark.usefixtures("queue")
def test_a_lost_training_run_fails_saying_why_and_the_next_request_trains_afresh(
    corpus: Corpus,
) -> None:
    from annotator.assisting import request_training
    from annotator.curating import Unit
    from annotator.models import Layer, ModelStatus, ModelVersion

    claim = Unit(layer=Layer.CLAIM_TYPE, target=None)
    version = request_training(corpus=corpus, unit=claim)
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelStatus.RUNNING)
    heartbeat("dead", seconds_ago=60)
    task = claimed_by("dead")

    assert sweep() == 1
    version.refresh_from_db()
    task.refresh_from_db()
    assert (version.status, task.status) == (ModelStatus.FAILED, "FAILED")
    assert version.error.startswith("The background worker training this model stopped: its")
    assert request_training(corpus=corpus, unit=claim).number == version.number + 1


@pytest.mark.usefixtures("queue")
def test_a_lost_release_build_fails_and_its_stored_files_are_removed(
    corpus: Corpus, release_storage: Path
) -> None:
    from annotator.models import Release, ReleaseStatus
    from annotator.releases.catalog import ReleaseOptions, cut_release

    release = cut_release(corpus=corpus, options=ReleaseOptions())
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.BUILDING)
    folder = release_storage / corpus.slug / str(release.number)
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "train.parquet").write_bytes(b"half")
    (folder / "sentences.jsonl.gz").write_bytes(b"half")
    kept = release_storage / corpus.slug / "10" / "README.md"
    kept.parent.mkdir()
    kept.write_text("another release")
    heartbeat("dead", seconds_ago=60)
    claimed_by("dead")

    assert sweep() == 1
    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED
    assert release.error.startswith("The background worker building this release stopped")
    assert not [path for path in folder.rglob("*") if path.is_file()]
    assert kept.read_text() == "another release"


def test_a_build_that_finished_after_all_keeps_its_files(
    corpus: Corpus, release_storage: Path
) -> None:
    # The worker was slow, not gone: the recovery finds the release ready and leaves it.
    from annotator.models import Release, ReleaseStatus
    from annotator.releases.catalog import ReleaseOptions, cut_release, fail_lost_build

    release = cut_release(corpus=corpus, options=ReleaseOptions(), enqueue=False)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.READY)
    stored = release_storage / corpus.slug / str(release.number) / "README.md"
    stored.parent.mkdir(parents=True)
    stored.write_text("the card")

    assert fail_lost_build(release.pk, reason="no heartbeat from its worker") is False
    release.refresh_from_db()
    assert release.status == ReleaseStatus.READY and stored.read_text() == "the card"


@pytest.mark.usefixtures("queue")
def test_a_job_no_task_will_finish_is_queued_again_and_old_heartbeats_are_forgotten(
    corpus: Corpus,
) -> None:
    job = ImportJob.objects.create(
        corpus=corpus,
        file_name="a.txt",
        status=ImportStatus.RUNNING,
        attempts=1,
        created_at=timezone.now() - timedelta(minutes=5),
    )
    heartbeat("long-gone", seconds_ago=3 * 24 * 3600)
    assert sweep() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    assert DBTaskResult.objects.filter(status="READY", args_kwargs__args__0=job.pk).exists()
    assert not WorkerHeartbeat.objects.exists()
    assert sweep() == 0  # its new task is waiting: nothing to do


@pytest.mark.django_db
def test_worker_status_reads_the_latest_heartbeat(settings: object) -> None:
    settings.WORKER_LEASE_SECONDS = 30
    assert worker_status().alive is False and worker_status().last_seen is None
    heartbeat("old", seconds_ago=45)
    assert worker_status().alive is False and worker_status().last_seen is not None
    heartbeat("new", seconds_ago=1)
    assert worker_status().alive is True


def test_retry_delay_doubles_up_to_the_ceiling(settings: object) -> None:
    settings.WORKER_RETRY_MAX_SECONDS = 4
    for failures, ceiling in [(1, 0.5), (2, 1), (3, 2), (4, 4), (9, 4)]:
        delays = [retry_delay(failures) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)


@pytest.mark.slow
def test_worker_imports_an_upload_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    environment = {
        key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(DEBUG="1", DATABASE_URL=f"sqlite:///{database}")

    # One process: migrate, upload, then the worker until the queue is empty.
    script = (
        "from django.core.files.base import ContentFile\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0, interactive=False)\n"
        "from annotator.models import Corpus\n"
        "from annotator.tasks import start_import\n"
        "corpus = Corpus.objects.create(name='Demo', slug='demo')\n"
        "start_import(corpus=corpus, created_by=None, file_name='a.jsonl',"
        ' content=ContentFile(b\'{"id": "a", "text": "One. Two."}\\n\'))\n'
        "call_command('db_worker', batch=True, startup_delay=False, reload=False)\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    with sqlite3.connect(database) as connection:
        job = connection.execute(
            "SELECT status, attempts, upload_bytes FROM annotator_importjob"
        ).fetchone()
        articles = connection.execute("SELECT COUNT(*) FROM annotator_article").fetchone()[0]
        beats = connection.execute("SELECT COUNT(*) FROM annotator_workerheartbeat").fetchone()
    assert job == ("done", 1, 0) and articles == 1 and beats == (1,)
