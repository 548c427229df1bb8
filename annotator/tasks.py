"""Background tasks (django-tasks, the backport of Django's tasks framework).

A web upload is imported here, out of the request, while its ImportJob row reports progress:
`start_import` stores the upload as a job and queues it (every web page that imports calls it),
`import_upload` runs it. The database backend (django_tasks_db) was chosen because it needs no
broker and works the same on the SQLite demo and on PostgreSQL; `manage.py db_worker` runs the
queue.
"""

from __future__ import annotations

import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import File
from django.db import DatabaseError, connection, connections
from django.utils import timezone
from django_tasks import task

from annotator.importing import ImportRejected, import_articles
from annotator.middleware import site_activity
from annotator.models import Corpus, ImportJob, ImportStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.core.files.uploadedfile import UploadedFile

PROGRESS_INTERVAL_SECONDS = 0.5


def start_import(
    *, corpus: Corpus, created_by: AbstractBaseUser, files: list[UploadedFile]
) -> ImportJob:
    """Store an upload (one file, or several bundled into one zip) as an import job of the
    corpus and queue it; the job row then reports its progress and outcome."""
    with _bundled(files) as (name, content):
        job = ImportJob(corpus=corpus, created_by=created_by, file_name=name)
        job.upload.save(name, content, save=True)
    import_upload.enqueue(job.pk)
    return job


@contextmanager
def _bundled(files: list[UploadedFile]) -> Iterator[tuple[str, File]]:
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


@task()
def import_upload(job_id: int) -> dict[str, object]:
    """Import an ImportJob's uploaded file into its corpus; the job row ends done or failed."""
    job = ImportJob.objects.select_related("corpus").get(pk=job_id)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    reporter = _ProgressReporter(job.pk)
    try:
        with reporter:
            summary = import_articles(
                corpus=job.corpus,
                sources=[job.upload.path],
                on_progress=reporter.update,
                duty_cycle=settings.IMPORT_DUTY_CYCLE,
                busy=site_activity().recently_active,
            )
    except ImportRejected as rejected:
        summary = rejected.summary
        status = ImportStatus.FAILED
        error = f"{len(rejected.problems)} problem(s) found; nothing was imported."
    except Exception as exc:
        _finish(job, ImportStatus.FAILED, reporter, {}, f"Import failed: {exc}")
        raise
    else:
        status, error = ImportStatus.DONE, ""
    result = _with_upload_name(summary.as_dict(), job.upload.path, job.file_name)
    _finish(job, status, reporter, result, error)
    return result


def _with_upload_name(summary: dict, stored_path: str, upload_name: str) -> dict:
    """Problems name the file the user uploaded, not where the server stored it."""
    for problem in summary["rejected"]:
        problem["source"] = problem["source"].replace(stored_path, upload_name)
    summary["skipped_names"] = [
        name.replace(stored_path, upload_name) for name in summary["skipped_names"]
    ]
    return summary


def _finish(
    job: ImportJob, status: str, reporter: _ProgressReporter, summary: dict, error: str
) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        summary=summary,
        error=error,
        processed=reporter.processed,
        total=max(reporter.total, reporter.processed),
        finished_at=timezone.now(),
        upload="",
    )
    # The upload has served its purpose; keep the job row as the record of what happened.
    job.upload.delete(save=False)


class _ProgressReporter:
    """Writes progress from a thread of its own: the import's transaction hides its own writes.

    A thread gets its own database connection, so its updates commit while the import's
    transaction is still open. SQLite allows one writer at a time, so there the job only
    shows its progress at the end.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
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
        try:
            saved = (-1, -1)
            while not self._stop.wait(PROGRESS_INTERVAL_SECONDS):
                if (self.processed, self.total) != saved:
                    saved = (self.processed, self.total)
                    try:
                        ImportJob.objects.filter(pk=self.job_id).update(
                            processed=saved[0], total=saved[1]
                        )
                    except DatabaseError:
                        return  # progress is a courtesy; the import itself carries on
        finally:
            connections.close_all()
