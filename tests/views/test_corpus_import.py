"""The import pages: a manager uploads files, the job runs (inline in tests: the immediate task
backend), its page shows progress, then the summary or every rejection with file and line, and
Retry for a job cut off; the corpus's import history is listed, newest first, a page at a time.
Only managers reach them: curators, annotators and outsiders get 404."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotator.models import Corpus, ImportJob, ImportStatus, Role, WorkerHeartbeat
from annotator.upload_storage import store_upload
from annotator.views.imports import HISTORY_PAGE_SIZE

HX = {"HX-Request": "true"}


def zip_upload(name: str, members: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def import_url(corpus: Corpus) -> str:
    return reverse("annotator:corpus-import", args=[corpus.slug])


def job_url(job: ImportJob) -> str:
    return reverse("annotator:corpus-import-job", args=[job.corpus.slug, job.pk])


def retry_url(job: ImportJob) -> str:
    return reverse("annotator:corpus-import-retry", args=[job.corpus.slug, job.pk])


@pytest.fixture
def manager_client(client: Client, manager: AbstractUser) -> Client:
    client.force_login(manager)
    return client


def cut_off_job(corpus: Corpus, *, created_by: AbstractUser | None = None) -> ImportJob:
    """A job whose worker died three times: failed, its upload kept for Retry."""
    job = ImportJob.objects.create(
        corpus=corpus,
        created_by=created_by,
        file_name="a.txt",
        status=ImportStatus.FAILED,
        attempts=3,
        error="The background worker running this import stopped.",
    )
    store_upload(job, ContentFile(b"First article. Two."))
    return job


# Uploading ---------------------------------------------------------------------------------


def test_manager_uploads_a_zip_and_sees_the_summary(
    manager_client: Client, manager: AbstractUser, corpus: Corpus
) -> None:
    upload = zip_upload("batch.zip", {"a.txt": b"First article. Two.", "b.txt": b"Second one."})

    response = manager_client.post(import_url(corpus), {"files": upload})

    job = ImportJob.objects.get()
    assert (response.status_code, response.url) == (302, job_url(job))
    assert (job.status, job.created_by, job.file_name) == (ImportStatus.DONE, manager, "batch.zip")
    assert (job.processed, job.total, job.summary["imported"]) == (2, 2, 2)
    assert set(corpus.articles.values_list("external_id", flat=True)) == {"a.txt", "b.txt"}
    page = manager_client.get(response.url).content.decode()
    assert "Imported 2 articles (3 sentences); skipped 0 already in the corpus." in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    assert "Refresh" not in page


def test_several_files_are_imported_as_one_bundled_job(
    manager_client: Client, corpus: Corpus
) -> None:
    files = [
        SimpleUploadedFile("one.txt", b"One."),
        SimpleUploadedFile("two.jsonl", b'{"id": "j1", "text": "From JSONL."}\n'),
    ]

    manager_client.post(import_url(corpus), {"files": files})

    job = ImportJob.objects.get()
    assert (job.status, job.file_name) == (ImportStatus.DONE, "2 files.zip")
    assert set(corpus.articles.values_list("external_id", flat=True)) == {"one.txt", "j1"}


def test_importing_the_same_file_again_skips_it_and_says_so(
    manager_client: Client, corpus: Corpus
) -> None:
    for _ in range(2):
        response = manager_client.post(
            import_url(corpus), {"files": SimpleUploadedFile("one.txt", b"One. Two.")}
        )

    page = manager_client.get(response.url).content.decode()
    assert "Imported 0 articles (0 sentences); skipped 1 already in the corpus." in page
    assert "Skipped: one.txt" in page
    assert corpus.articles.count() == 1


def test_rejected_upload_lists_every_problem_with_file_and_line_and_imports_nothing(
    manager_client: Client, corpus: Corpus
) -> None:
    lines = b'{"id": "a", "text": "Fine."}\n{"id": "b"}\nnot json\n'
    response = manager_client.post(
        import_url(corpus), {"files": SimpleUploadedFile("batch.jsonl", lines)}
    )

    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and corpus.articles.count() == 0
    page = manager_client.get(response.url)
    rows = [
        (problem["source"], problem["line"]) for problem in page.context["job"].summary["rejected"]
    ]
    assert rows == [("batch.jsonl", 2), ("batch.jsonl", 3)]
    body = page.content.decode()
    assert "2 problem(s) found; nothing was imported." in body
    assert '<td>batch.jsonl</td><td class="num">2</td>' in body
    assert '<td>batch.jsonl</td><td class="num">3</td>' in body
    assert ">Retry<" not in body  # rejected for its content: the same file would fail again
    assert "/tmp" not in body  # no server paths leak


def test_archive_member_problems_name_the_member(manager_client: Client, corpus: Corpus) -> None:
    upload = zip_upload("bad.zip", {"ok.txt": b"Fine.", "../evil.txt": b"Evil."})

    response = manager_client.post(import_url(corpus), {"files": upload})

    body = manager_client.get(response.url).content.decode()
    assert "bad.zip:../evil.txt" in body and "unsafe path in archive" in body


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("report.pdf", b"%PDF")], "report.pdf: unsupported file type"),
        ([("a.zip", b"PK"), ("b.txt", b"B.")], "Upload a .zip archive on its own."),
        ([], "This field is required."),
    ],
)
def test_the_form_refuses_what_is_not_an_upload_and_makes_no_job(
    manager_client: Client, corpus: Corpus, files: list[tuple[str, bytes]], message: str
) -> None:
    uploads = [SimpleUploadedFile(name, data) for name, data in files]

    response = manager_client.post(import_url(corpus), {"files": uploads} if uploads else {})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_upload_over_the_total_limit_is_refused_by_the_form(
    manager_client: Client, corpus: Corpus, settings: object
) -> None:
    settings.IMPORT_MAX_TOTAL_BYTES = 10
    files = [SimpleUploadedFile("a.txt", b"Twelve bytes"), SimpleUploadedFile("b.txt", b"More.")]

    # A body this small passes the request-size check (annotator/uploads.py allows the form's
    # other fields on top); the form adds the files up.
    response = manager_client.post(import_url(corpus), {"files": files})

    assert response.status_code == 400
    assert "over the 10-byte limit" in response.content.decode()
    assert not ImportJob.objects.exists()


# The job page and its fragment ---------------------------------------------------------------


def test_running_job_fragment_polls_and_shows_the_bar(
    manager_client: Client, corpus: Corpus
) -> None:
    job = ImportJob.objects.create(
        corpus=corpus, file_name="x.zip", status=ImportStatus.RUNNING, total=10, processed=4
    )

    fragment = manager_client.get(job_url(job), headers=HX).content.decode()
    page = manager_client.get(job_url(job)).content.decode()

    assert "<html" not in fragment and fragment.lstrip().startswith("<section")
    assert f'hx-get="{job_url(job)}" hx-trigger="every 1s"' in fragment
    assert '<progress max="10" value="4"' in fragment
    assert "4 / 10 articles" in fragment
    # Without JavaScript: a plain link reloads the page.
    assert f'<a class="button" href="{job_url(job)}">Refresh</a>' in fragment
    assert "<html" in page and 'id="import-job"' in page and "Import of x.zip" in page


def test_later_run_says_the_import_started_again(manager_client: Client, corpus: Corpus) -> None:
    job = ImportJob.objects.create(
        corpus=corpus, file_name="x.zip", status=ImportStatus.RUNNING, attempts=2
    )

    fragment = manager_client.get(job_url(job), headers=HX).content.decode()

    assert "Run 2: an earlier run was cut off" in fragment


def test_waiting_job_says_when_no_worker_has_been_seen(
    manager_client: Client, corpus: Corpus
) -> None:
    job = ImportJob.objects.create(corpus=corpus, file_name="x.zip", status=ImportStatus.QUEUED)

    def fragment() -> str:
        return manager_client.get(job_url(job), headers=HX).content.decode()

    assert "No background worker has been seen yet" in fragment()
    beat = WorkerHeartbeat.objects.create(
        worker_id="w1", hostname="h", pid=1, started_at=timezone.now(), seen_at=timezone.now()
    )
    assert "No background worker" not in fragment()
    WorkerHeartbeat.objects.filter(pk=beat.pk).update(seen_at=timezone.now() - timedelta(minutes=5))
    assert "No background worker has been seen for 5\xa0minutes" in fragment()
    # The import page says it too, before anyone uploads.
    assert "No background worker has been seen for 5" in (
        manager_client.get(import_url(corpus)).content.decode()
    )


@pytest.mark.parametrize("status", [ImportStatus.QUEUED, ImportStatus.DONE])
def test_job_fragment_costs_the_same_queries_for_any_job(
    manager_client: Client,
    corpus: Corpus,
    django_assert_num_queries: Callable,
    status: str,
) -> None:
    summary = {"imported": 500, "sentences": 900, "skipped": 0, "skipped_names": []}
    small = ImportJob.objects.create(corpus=corpus, file_name="a.txt", status=status)
    big = ImportJob.objects.create(
        corpus=corpus,
        file_name="b.zip",
        status=status,
        processed=500,
        total=500,
        summary={**summary, "skipped": 20, "skipped_names": [f"n{i}" for i in range(20)]},
    )
    # session, user, the corpus with the manager's role, the job with its creator; while the
    # job waits, the latest worker heartbeat.
    expected = 4 if status == ImportStatus.DONE else 5
    for job in (small, big):
        with django_assert_num_queries(expected):
            response = manager_client.get(job_url(job), headers=HX)
        assert response.status_code == 200


def test_a_job_is_found_only_under_its_own_corpus(
    manager_client: Client,
    manager: AbstractUser,
    corpus: Corpus,
    make_corpus: Callable[..., Corpus],
) -> None:
    other = make_corpus()
    other.memberships.create(user=manager, role=Role.MANAGER)
    job = ImportJob.objects.create(corpus=other, file_name="x.zip")

    wrong = reverse("annotator:corpus-import-job", args=[corpus.slug, job.pk])
    wrong_retry = reverse("annotator:corpus-import-retry", args=[corpus.slug, job.pk])

    assert manager_client.get(wrong).status_code == 404
    assert manager_client.post(wrong_retry).status_code == 404
    assert manager_client.get(job_url(job)).status_code == 200


# Retry -------------------------------------------------------------------------------------


def test_cut_off_job_offers_retry_and_retry_imports_it(
    manager_client: Client, corpus: Corpus
) -> None:
    job = cut_off_job(corpus)
    page = manager_client.get(job_url(job)).content.decode()
    assert "The background worker running this import stopped." in page
    assert f'action="{retry_url(job)}"' in page and ">Retry<" in page

    assert manager_client.get(retry_url(job)).status_code == 405
    response = manager_client.post(retry_url(job))

    assert (response.status_code, response.url) == (302, job_url(job))
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportStatus.DONE, 1)
    assert list(corpus.articles.values_list("external_id", flat=True)) == ["a.txt"]
    page = manager_client.get(job_url(job)).content.decode()
    assert "The import of a.txt starts again." in page
    assert ">Retry<" not in page and "Imported 1 article (2 sentences)" in page


def test_retrying_a_job_that_cannot_be_retried_says_why_and_changes_nothing(
    manager_client: Client, corpus: Corpus
) -> None:
    done = ImportJob.objects.create(corpus=corpus, file_name="a.txt", status=ImportStatus.DONE)

    response = manager_client.post(retry_url(done), follow=True)

    assert "This import cannot be retried" in response.content.decode()
    done.refresh_from_db()
    assert done.status == ImportStatus.DONE and done.attempts == 0


# History -----------------------------------------------------------------------------------


def make_jobs(corpus: Corpus, count: int, *, created_by: AbstractUser | None = None) -> None:
    start = timezone.now() - timedelta(days=1)
    ImportJob.objects.bulk_create(
        ImportJob(
            corpus=corpus,
            created_by=created_by,
            file_name=f"batch-{number:03}.zip",
            status=ImportStatus.DONE,
            summary={"imported": number, "sentences": 2 * number, "skipped": 1},
            created_at=start + timedelta(minutes=number),
        )
        for number in range(count)
    )


def test_history_lists_jobs_newest_first_with_status_who_when_and_counts(
    manager_client: Client,
    manager: AbstractUser,
    corpus: Corpus,
    make_corpus: Callable[..., Corpus],
) -> None:
    make_jobs(corpus, 3, created_by=manager)
    make_jobs(make_corpus(), 2)  # another corpus's jobs are not listed
    cut_off_job(corpus)

    page = manager_client.get(import_url(corpus))

    jobs = list(page.context["history"])
    assert [job.file_name for job in jobs] == [
        "a.txt",
        "batch-002.zip",
        "batch-001.zip",
        "batch-000.zip",
    ]
    body = page.content.decode()
    assert "2 articles imported (4 sentences), 1 skipped" in body
    assert "Stopped; nothing imported" in body
    assert f'href="{job_url(jobs[1])}">batch-002.zip</a>' in body
    assert "<td>manager</td>" in body


def test_history_is_paged_and_htmx_gets_the_other_pages_alone(
    manager_client: Client, corpus: Corpus
) -> None:
    make_jobs(corpus, HISTORY_PAGE_SIZE + 5)

    first = manager_client.get(import_url(corpus))
    second = manager_client.get(f"{import_url(corpus)}?page=2", headers=HX)

    assert [job.file_name for job in first.context["history"]][:2] == [
        f"batch-{HISTORY_PAGE_SIZE + 4:03}.zip",
        f"batch-{HISTORY_PAGE_SIZE + 3:03}.zip",
    ]
    assert "Page 1 of 2" in first.content.decode()
    older = f"{import_url(corpus)}?page=2"
    assert f'href="{older}" hx-get="{older}" hx-target="#import-history"' in first.content.decode()
    fragment = second.content.decode()
    assert "<html" not in fragment and fragment.lstrip().startswith("<section")
    assert [job.file_name for job in second.context["history"]] == [
        f"batch-{number:03}.zip" for number in range(4, -1, -1)
    ]
    assert "Page 2 of 2" in fragment and "Newer</a>" in fragment


def test_history_costs_the_same_queries_however_many_jobs(
    manager_client: Client,
    corpus: Corpus,
    make_user: Callable[..., AbstractUser],
    django_assert_num_queries: Callable,
) -> None:
    make_jobs(corpus, 2, created_by=make_user())
    # session, user, the corpus with the manager's role, the latest worker heartbeat, COUNT of
    # the corpus's jobs, the page of jobs joined to their creators.
    with django_assert_num_queries(6):
        assert manager_client.get(import_url(corpus)).status_code == 200
    for _ in range(3):
        make_jobs(corpus, 10, created_by=make_user())
    with django_assert_num_queries(6):
        response = manager_client.get(import_url(corpus))
    assert len(response.context["history"]) == HISTORY_PAGE_SIZE
    # The htmx page of the history: no heartbeat.
    with django_assert_num_queries(5):
        manager_client.get(f"{import_url(corpus)}?page=2", headers=HX)


def test_empty_history_says_how_to_start(manager_client: Client, corpus: Corpus) -> None:
    body = manager_client.get(import_url(corpus)).content.decode()

    assert "No imports into this corpus yet." in body
    assert 'enctype="multipart/form-data"' in body and 'name="files"' in body and "multiple" in body


# Who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "annotator", "curator"])
def test_only_managers_reach_the_import_pages(
    request: pytest.FixtureRequest, client: Client, corpus: Corpus, who: str
) -> None:
    user = request.getfixturevalue(who)
    job = cut_off_job(corpus)
    client.force_login(user)

    answers = [
        client.get(import_url(corpus)).status_code,
        client.get(import_url(corpus), headers=HX).status_code,
        client.post(import_url(corpus), {"files": SimpleUploadedFile("a.txt", b"A.")}).status_code,
        client.get(job_url(job)).status_code,
        client.get(job_url(job), headers=HX).status_code,
        client.post(retry_url(job)).status_code,
    ]

    assert answers == [404] * 6
    assert ImportJob.objects.count() == 1 and corpus.articles.count() == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, corpus: Corpus) -> None:
    response = client.get(import_url(corpus))

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_corpus_menu_shows_import_to_managers_only(
    client: Client, corpus: Corpus, manager: AbstractUser, curator: AbstractUser
) -> None:
    client.force_login(manager)
    assert f'href="{import_url(corpus)}"' in client.get(corpus.get_absolute_url()).content.decode()
    client.force_login(curator)
    assert import_url(corpus) not in client.get(corpus.get_absolute_url()).content.decode()


# Hostile names ----------------------------------------------------------------------------


def test_file_names_and_problems_are_shown_escaped(manager_client: Client, corpus: Corpus) -> None:
    payload = "<script>alert(1)</script>"
    job = ImportJob.objects.create(
        corpus=corpus,
        file_name=f"{payload}.zip",
        status=ImportStatus.FAILED,
        summary={
            "rejected": [{"source": f"{payload}.txt", "line": 1, "reason": payload}],
            "rejected_total": 1,
        },
        error=f"Problem {payload}",
    )

    pages = [
        manager_client.get(import_url(corpus)).content.decode(),
        manager_client.get(job_url(job)).content.decode(),
        manager_client.get(job_url(job), headers=HX).content.decode(),
    ]

    for body in pages:
        assert payload not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
