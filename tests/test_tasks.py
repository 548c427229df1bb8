"""The background import task: job status, summary, progress visible while it runs, the upload
kept in the database, and the recovery and Retry paths."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connections, transaction

from annotator import upload_storage
from annotator.models import Corpus, ImportJob, ImportStatus, UploadChunk
from annotator.tasks import (
    _local_name,
    _ProgressReporter,
    import_upload,
    recover_import,
    retry_import,
    start_import,
)


def make_job(corpus: Corpus, name: str, data: bytes) -> ImportJob:
    """Store the upload and run its import (the test settings run tasks inline)."""
    job = start_import(corpus=corpus, created_by=None, file_name=name, content=ContentFile(data))
    job.refresh_from_db()
    return job


def test_task_imports_and_records_summary(corpus: Corpus) -> None:
    job = make_job(corpus, "a.jsonl", b'{"id": 1, "text": "One. Two."}\n')
    assert job.status == ImportStatus.DONE
    assert job.summary["imported"] == 1 and job.summary["sentences"] == 2
    assert (job.processed, job.total) == (1, 1)
    assert (job.attempts, job.finished_at is not None) == (1, True)
    # The stored upload is dropped once imported; the job row stays as the record.
    assert job.upload_bytes == 0 and not UploadChunk.objects.exists()
    assert not job.can_retry


def test_task_failure_names_the_uploaded_file_and_line(corpus: Corpus) -> None:
    job = make_job(corpus, "bad.jsonl", b'{"id": 1, "text": "Fine."}\n{"id": 2, "text": []}\n')
    assert job.status == ImportStatus.FAILED
    assert job.error == "1 problem(s) found; nothing was imported."
    problem = job.summary["rejected"][0]
    assert problem["source"] == "bad.jsonl"
    assert (problem["line"], problem["reason"]) == (2, "'text' must be a string, got array")
    assert corpus.articles.count() == 0
    # Rejected for its content: running it again would fail the same way, so no Retry.
    assert job.upload_bytes == 0 and not job.can_retry


def test_upload_is_stored_in_ordered_chunks_and_read_back_whole(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(upload_storage, "CHUNK_BYTES", 7)
    data = bytes(range(256)) * 3
    job = ImportJob.objects.create(corpus=corpus, file_name="x.zip")
    assert upload_storage.store_upload(job, ContentFile(data)) == len(data)
    assert UploadChunk.objects.filter(job=job).count() == -(-len(data) // 7)
    out = tmp_path / "copy"
    upload_storage.write_upload(job, out)
    assert out.read_bytes() == data
    job.refresh_from_db()
    assert job.upload_bytes == len(data)


def test_failed_upload_leaves_no_job_and_no_chunk(corpus: Corpus) -> None:
    class Broken(ContentFile):
        def chunks(self, chunk_size: int | None = None) -> object:
            yield b"first piece"
            raise OSError("disk read failed")

    with pytest.raises(OSError):
        start_import(corpus=corpus, created_by=None, file_name="a.txt", content=Broken(b""))
    assert not ImportJob.objects.exists() and not UploadChunk.objects.exists()


@pytest.mark.parametrize(
    ("uploaded", "local"),
    [
        ("batch.zip", "batch.zip"),
        ("../../etc/x.txt", "x.txt"),
        ("a\\b.jsonl", "b.jsonl"),
        ("..", "upload"),
    ],
)
def test_local_file_name_keeps_the_extension_and_stays_in_its_folder(
    uploaded: str, local: str
) -> None:
    assert _local_name(uploaded) == local


def queued_job(corpus: Corpus, *, attempts: int, status: str = ImportStatus.RUNNING) -> ImportJob:
    job = ImportJob.objects.create(corpus=corpus, file_name="a.txt", status=status)
    upload_storage.store_upload(job, ContentFile(b"One article. Two sentences."))
    ImportJob.objects.filter(pk=job.pk).update(attempts=attempts, processed=5, total=9)
    return job


def test_a_lost_run_is_queued_again_until_the_attempts_are_used_up(
    corpus: Corpus, settings: object
) -> None:
    settings.IMPORT_MAX_ATTEMPTS = 2
    job = queued_job(corpus, attempts=1)
    assert recover_import(job.pk, reason="The worker stopped.") is True
    job.refresh_from_db()
    assert (job.status, job.processed, job.total) == (ImportStatus.QUEUED, 0, 0)

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, attempts=2)
    assert recover_import(job.pk, reason="The worker stopped.") is False
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.error == (
        "The worker stopped. This happened 2 times; nothing was imported. Retry starts it again."
    )
    assert job.can_retry and job.finished_at is not None


def test_retry_runs_a_cut_off_job_from_the_beginning(corpus: Corpus) -> None:
    job = queued_job(corpus, attempts=3, status=ImportStatus.FAILED)
    assert retry_import(job) is True
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (ImportStatus.DONE, 1, "")
    assert corpus.articles.count() == 1
    assert retry_import(job) is False  # done: nothing to retry


def test_a_task_for_a_job_that_is_not_queued_does_nothing(corpus: Corpus) -> None:
    # A duplicate task (two recoveries at once) finds the job taken and leaves it alone.
    job = queued_job(corpus, attempts=1, status=ImportStatus.RUNNING)
    assert import_upload.enqueue(job.pk).return_value == {"skipped": "the job is not queued"}
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportStatus.RUNNING, 1)
    assert corpus.articles.count() == 0


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(corpus: Corpus) -> None:
    job = ImportJob.objects.create(corpus=corpus, file_name="x.zip")
    seen: list[tuple[int, int]] = []

    def watch() -> None:
        # Another connection, like the job page's request: it sees only committed rows.
        try:
            for _ in range(100):
                row = ImportJob.objects.values_list("processed", "total").get(pk=job.pk)
                if row != (0, 0):
                    seen.append(row)
                    return
                time.sleep(0.05)
        finally:
            connections.close_all()

    reporter = _ProgressReporter(job.pk)  # made outside, like the task, before the import's
    with transaction.atomic():
        with reporter:
            reporter.update(3, 10)
            watcher = threading.Thread(target=watch)
            watcher.start()
            watcher.join()
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)
    assert seen == [(3, 10)]


def test_web_imports_are_paced_at_the_setting_while_people_use_the_site(
    quiet_site: None, corpus: Corpus, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from annotator import importing
    from annotator.middleware import site_activity
    from annotator.throttling import DutyCycle

    cycles: list[DutyCycle] = []

    def recording(fraction: float, busy: object) -> DutyCycle:
        cycles.append(DutyCycle(fraction, busy=busy))
        return cycles[-1]

    monkeypatch.setattr(importing, "DutyCycle", recording)
    settings.IMPORT_DUTY_CYCLE = 0.3
    job = make_job(corpus, "a.jsonl", b'{"id": 1, "text": "One. Two."}\n')

    assert job.status == ImportStatus.DONE
    (cycle,) = cycles
    assert cycle.fraction == 0.3
    assert not cycle.busy()
    site_activity().touch()  # a page view, on this or any other web host
    deadline = time.monotonic() + 10
    while not cycle.busy() and time.monotonic() < deadline:
        time.sleep(0.05)  # the writer records it within moments; answers are cached 0.5 s
    assert cycle.busy()
