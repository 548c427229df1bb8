"""Background tasks (django-tasks, the backport of Django's tasks framework).

A web upload is imported here, out of the request, while its ImportJob row reports progress.
The database backend (django_tasks_db) was chosen because it needs no broker and works the same
on the SQLite demo and on PostgreSQL; `manage.py db_worker` (annotator/worker.py) runs the queue.

An import is all or nothing, so running it again from the beginning is always safe. That is
how the job survives its worker: a run cut off by a lost database connection queues itself
again after a pause; a run whose worker died is found by another worker (annotator/worker.py)
and queued again through `recover_import`, both up to settings.IMPORT_MAX_ATTEMPTS runs. After
that the job fails with the reason, its upload kept, and `retry_import` (the job page's Retry
button) starts it over. Every entry point that starts an import from an upload calls
`start_import`.
"""

from __future__ import annotations

import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import File
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from annotator.importing import ImportRejected, import_articles
from annotator.middleware import close_broken_connections, is_database_unavailable, site_activity
from annotator.models import Corpus, ImportJob, ImportStatus
from annotator.upload_storage import discard_upload, store_upload, write_upload

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.core.files.uploadedfile import UploadedFile

PROGRESS_INTERVAL_SECONDS = 0.5
# Pause before a run cut off by a database error starts again: doubles with each attempt.
REQUEUE_DELAY_SECONDS = 5


def start_import(
    *, corpus: Corpus, created_by: AbstractBaseUser | None, file_name: str, content: File
) -> ImportJob:
    """Store an upload in the database and queue its import; the job is returned.

    One transaction: a failure while storing leaves no job, no chunk and no queued task.
    Several uploaded files become one upload through `bundled_upload`.
    """
    with transaction.atomic():
        job = ImportJob.objects.create(corpus=corpus, created_by=created_by, file_name=file_name)
        store_upload(job, content)
        import_upload.enqueue(job.pk)
    return job


@contextmanager
def bundled_upload(files: list[UploadedFile]) -> Iterator[tuple[str, File]]:
    """The upload as one file for the job: itself, or several files stored in a zip."""
    if len(files) == 1:
        yield files[0].name or "upload", files[0]
        return
    # A temporary file, not memory: the upload may be as big as IMPORT_MAX_TOTAL_BYTES.
    with tempfile.TemporaryFile() as bundle:
        with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_STORED) as archive:
            for upload in files:
                with archive.open(PurePath(upload.name or "upload").name, "w") as member:
                    for chunk in upload.chunks():
                        member.write(chunk)
        bundle.seek(0)
        yield f"{len(files)} files.zip", File(bundle)


def retry_import(job: ImportJob) -> bool:
    """Queue a failed job whose upload was kept again, from the beginning; False if it
    cannot be retried (not failed, or rejected for its content)."""
    with transaction.atomic():
        retried = ImportJob.objects.filter(
            pk=job.pk, status=ImportStatus.FAILED, upload_bytes__gt=0
        ).update(
            status=ImportStatus.QUEUED,
            attempts=0,
            processed=0,
            total=0,
            summary={},
            error="",
            finished_at=None,
        )
        if retried:
            import_upload.enqueue(job.pk)
    return bool(retried)


def recover_import(job_id: int, *, reason: str) -> bool:
    """A run of `job_id` was lost with its worker: queue the job again (True) or, after
    IMPORT_MAX_ATTEMPTS runs, mark it failed with `reason` and keep it for Retry (False).

    Called by the worker's recovery sweep inside its transaction, with the task row locked.
    """
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.finished:
        return False
    if job.attempts < settings.IMPORT_MAX_ATTEMPTS:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, processed=0, total=0)
        return True
    runs = f"{job.attempts} time{'s' if job.attempts != 1 else ''}"
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED,
        error=f"{reason} This happened {runs}; nothing was imported. Retry starts it again.",
        finished_at=timezone.now(),
    )
    return False


@task()
def import_upload(job_id: int) -> dict[str, object]:
    """Import an ImportJob's uploaded file into its corpus; the job row ends done or failed
    (or queued again, when a database error cut the run off)."""
    attempt = _begin(job_id)
    if attempt is None:
        return {"skipped": "the job is not queued"}
    job = ImportJob.objects.select_related("corpus").get(pk=job_id)
    reporter = _ProgressReporter(job.pk, attempt)
    with tempfile.TemporaryDirectory(prefix="annotator-import-") as folder:
        path = Path(folder) / _local_name(job.file_name)
        try:
            write_upload(job, path)
            with reporter:
                summary = import_articles(
                    corpus=job.corpus,
                    sources=[path],
                    on_progress=reporter.update,
                    duty_cycle=settings.IMPORT_DUTY_CYCLE,
                    busy=site_activity().recently_active,
                )
        except ImportRejected as rejected:
            result = _with_upload_name(rejected.summary.as_dict(), str(path), job.file_name)
            error = f"{len(rejected.problems)} problem(s) found; nothing was imported."
            _finish(job, attempt, ImportStatus.FAILED, reporter, result, error)
            discard_upload(job)
            return result
        except (KeyboardInterrupt, SystemExit):
            # The worker is being stopped: the job waits for the next worker, and this run,
            # cut short on purpose, does not count as an attempt.
            _queue_again(job, attempt, counted=False)
            raise
        except Exception as exc:
            if is_database_unavailable(exc) and not connection.in_atomic_block:
                close_broken_connections()
                if attempt < settings.IMPORT_MAX_ATTEMPTS and _queue_again(job, attempt):
                    return {"queued_again": str(exc).strip()[:200]}
            error = f"The import stopped: {exc}. Nothing was imported; Retry starts it again."
            _finish(job, attempt, ImportStatus.FAILED, reporter, {}, error)
            raise
    result = _with_upload_name(summary.as_dict(), str(path), job.file_name)
    _finish(job, attempt, ImportStatus.DONE, reporter, result, "")
    discard_upload(job)
    return result


def _begin(job_id: int) -> int | None:
    """Claim a queued job for this run; its attempt number, or None if it is not queued
    (finished, or already taken by another run)."""
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.RUNNING, attempts=F("attempts") + 1, processed=0, total=0
        )
        if not claimed:
            return None
        return ImportJob.objects.values_list("attempts", flat=True).get(pk=job_id)


def _queue_again(job: ImportJob, attempt: int, *, counted: bool = True) -> bool:
    """After a lost connection: the job waits a moment and runs again from the beginning.
    A run that was not `counted` (its worker was stopped) is queued at once and not counted.
    False when tasks run inline (no queue to hand the job back to)."""
    if not import_upload.get_backend().supports_defer:
        return False
    try:
        with transaction.atomic():
            if not ImportJob.objects.filter(pk=job.pk, attempts=attempt).update(
                status=ImportStatus.QUEUED,
                processed=0,
                total=0,
                attempts=attempt if counted else attempt - 1,
            ):
                return True  # another run took the job over; it finishes it
            queued = import_upload
            if counted:
                delay = timedelta(seconds=REQUEUE_DELAY_SECONDS * 2 ** (attempt - 1))
                queued = queued.using(run_after=timezone.now() + delay)
            queued.enqueue(job.pk)
    except DatabaseError:
        # Still no database: the job stays "running" under this run, and the worker's
        # recovery sweep queues it again once the run is seen to be over.
        close_broken_connections()
        return True
    return True


def _local_name(file_name: str) -> str:
    """The upload's own file name (its extension says how to read it), safe in a folder."""
    name = PurePath(file_name.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else "upload"


def _with_upload_name(summary: dict, stored_path: str, upload_name: str) -> dict:
    """Problems name the file the user uploaded, not where the worker stored it."""
    for problem in summary["rejected"]:
        problem["source"] = problem["source"].replace(stored_path, upload_name)
    summary["skipped_names"] = [
        name.replace(stored_path, upload_name) for name in summary["skipped_names"]
    ]
    return summary


def _finish(
    job: ImportJob,
    attempt: int,
    status: str,
    reporter: _ProgressReporter,
    summary: dict,
    error: str,
) -> None:
    # Only this run's outcome: a run the recovery sweep replaced must not overwrite the job.
    ImportJob.objects.filter(pk=job.pk, attempts=attempt).update(
        status=status,
        summary=summary,
        error=error,
        processed=reporter.processed,
        total=max(reporter.total, reporter.processed),
        finished_at=timezone.now(),
    )


class _ProgressReporter:
    """Writes progress from a thread of its own: the import's transaction hides its own writes.

    A thread gets its own database connection, so its updates commit while the import's
    transaction is still open. SQLite allows one writer at a time, so there the job only
    shows its progress at the end.
    """

    def __init__(self, job_id: int, attempt: int | None = None) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.processed = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        # Inside a caller's transaction the job row may be locked by it (the RUNNING update):
        # the thread would wait for a commit that waits for the thread.
        self._live = connection.vendor != "sqlite" and not connection.in_atomic_block

    def update(self, processed: int, total: int) -> None:
        self.processed, self.total = processed, total

    def __enter__(self) -> _ProgressReporter:
        if self._live:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live:
            self._stop.set()
            self._thread.join()

    def _run(self) -> None:
        rows = ImportJob.objects.filter(pk=self.job_id)
        if self.attempt is not None:
            rows = rows.filter(attempts=self.attempt)
        try:
            saved = (-1, -1)
            while not self._stop.wait(PROGRESS_INTERVAL_SECONDS):
                if (self.processed, self.total) != saved:
                    saved = (self.processed, self.total)
                    try:
                        rows.update(processed=saved[0], total=saved[1])
                    except DatabaseError:
                        return  # progress is a courtesy; the import itself carries on
        finally:
            connections.close_all()


@task()
def train_model(version_id: int) -> dict[str, object]:
    """Train a queued ModelVersion (assisting.train_model_version): store its model, scores and
    a prediction per sentence; the version row ends done or failed, with the reason."""
    from annotator.assisting import train_model_version

    return {"status": train_model_version(version_id)}
