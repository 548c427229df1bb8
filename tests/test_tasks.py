"""The background import task: job status, summary, and progress visible while it runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connections, transaction

from annotator.models import Corpus, ImportJob, ImportStatus
from annotator.tasks import _ProgressReporter, import_upload


@pytest.fixture(autouse=True)
def media_root(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def make_job(corpus: Corpus, name: str, data: bytes) -> ImportJob:
    job = ImportJob(corpus=corpus, file_name=name)
    job.upload.save(name, ContentFile(data), save=True)
    return job


def test_task_imports_and_records_summary(corpus: Corpus) -> None:
    job = make_job(corpus, "a.jsonl", b'{"id": 1, "text": "One. Two."}\n')
    import_upload.enqueue(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.summary["imported"] == 1 and job.summary["sentences"] == 2
    assert (job.processed, job.total) == (1, 1)
    assert job.finished_at is not None
    assert not job.upload  # the uploaded file is removed once imported


def test_task_failure_names_the_uploaded_file_and_line(corpus: Corpus) -> None:
    job = make_job(corpus, "bad.jsonl", b'{"id": 1, "text": "Fine."}\n{"id": 2, "text": []}\n')
    import_upload.enqueue(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.error == "1 problem(s) found; nothing was imported."
    problem = job.summary["rejected"][0]
    assert problem["source"] == "bad.jsonl"
    assert (problem["line"], problem["reason"]) == (2, "'text' must be a string, got array")
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
    corpus: Corpus, settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    settings.ACTIVITY_FILE = str(tmp_path / "activity")
    job = make_job(corpus, "a.jsonl", b'{"id": 1, "text": "One. Two."}\n')

    import_upload.enqueue(job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    (cycle,) = cycles
    assert cycle.fraction == 0.3
    assert not cycle.busy()
    site_activity().touch()
    assert cycle.busy()
