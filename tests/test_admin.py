"""The admin, for superusers only: changelists with counts at a fixed query cost, read-only
pages, the import upload pages and token revocation; staff who are not superusers reach none of
it. Writes that carry rules are in tests/test_admin_manage.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import AbstractUser
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotator.models import (
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    ImportJob,
    ImportStatus,
    Membership,
    Role,
    WorkerHeartbeat,
)
from annotator.tokens import create_token, find_active_token
from annotator.upload_storage import store_upload


@pytest.fixture
def superuser(make_user: Callable[..., AbstractUser]) -> AbstractUser:
    return make_user(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_manager(manager: AbstractUser) -> AbstractUser:
    manager.is_staff = True
    manager.save()
    return manager


def fill(
    corpus: Corpus,
    make_article: Callable[..., Article],
    annotator: AbstractUser,
    *,
    articles: int,
) -> None:
    for number in range(articles):
        article = make_article(corpus=corpus, text=f"Article {corpus.slug} {number}. Two.")
        Assignment.objects.create(
            article=article, annotator=annotator, status=AssignmentStatus.DONE
        )


def zip_upload(name: str, members: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


# Changelists: counts without N+1 -------------------------------------------------------------


def test_corpus_changelist_query_count_does_not_grow_with_rows(
    client: Client,
    superuser: AbstractUser,
    corpus: Corpus,
    make_corpus: Callable[..., Corpus],
    make_article: Callable[..., Article],
    annotator: AbstractUser,
    django_assert_num_queries: Callable,
) -> None:
    client.force_login(superuser)
    url = reverse("admin:annotator_corpus_changelist")
    fill(corpus, make_article, annotator, articles=2)
    # session, user, COUNT(*) filtered, COUNT(*) total, the page of corpora with their four
    # counts as subqueries.
    with django_assert_num_queries(5):
        response = client.get(url)
    assert response.status_code == 200
    for _ in range(3):
        fill(make_corpus(), make_article, annotator, articles=3)
    with django_assert_num_queries(5):
        response = client.get(url)
    assert response.context["cl"].result_count == 4
    row = next(c for c in response.context["cl"].result_list if c.pk == corpus.pk)
    assert (row.article_count, row.sentence_count, row.member_count, row.done_count) == (2, 4, 1, 2)
    # 2 articles x 2 annotators per article needed, 2 done.
    assert "50%" in response.content.decode()


def test_article_changelist_query_count_does_not_grow_with_rows(
    client: Client,
    superuser: AbstractUser,
    corpus: Corpus,
    make_corpus: Callable[..., Corpus],
    make_article: Callable[..., Article],
    annotator: AbstractUser,
    django_assert_num_queries: Callable,
) -> None:
    client.force_login(superuser)
    url = reverse("admin:annotator_article_changelist")
    fill(corpus, make_article, annotator, articles=3)
    # session, user, the corpora for the corpus filter, COUNT(*) filtered, COUNT(*) total, the
    # page of articles joined to their corpus with three counts as subqueries, the distinct
    # segmenter versions for their filter.
    with django_assert_num_queries(7):
        response = client.get(url)
    assert response.status_code == 200
    fill(make_corpus(), make_article, annotator, articles=5)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert response.context["cl"].result_count == 8
    assert all(row.sentence_count == 2 for row in response.context["cl"].result_list)


def test_article_change_page_shows_sentences_read_only(
    client: Client, superuser: AbstractUser, corpus: Corpus, make_article: Callable[..., Article]
) -> None:
    article = make_article(corpus=corpus, text="One <b>bold</b> claim. Another.")
    client.force_login(superuser)
    response = client.get(reverse("admin:annotator_article_change", args=[article.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "One &lt;b&gt;bold&lt;/b&gt; claim." in body
    assert 'name="sentences-0-text"' not in body  # read-only: no input to edit a sentence


def test_every_model_changelist_loads(client: Client, superuser: AbstractUser) -> None:
    client.force_login(superuser)
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "page", ["changelist", "add", "change"], ids=["list", "add", "change page"]
)
def test_staff_who_are_not_superusers_reach_none_of_our_models(
    client: Client,
    staff_manager: AbstractUser,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    page: str,
) -> None:
    """Managers run their corpora from the app's own pages; staff status opens nothing here."""
    article = make_article(corpus=corpus)
    token, _ = create_token(user=staff_manager, name="laptop")
    rows = {
        "corpus": corpus,
        "membership": Membership.objects.get(corpus=corpus, user=annotator),
        "labelchoice": corpus.choices.first(),
        "stancetarget": corpus.stance_targets.first(),
        "article": article,
        "apitoken": token,
    }
    client.force_login(staff_manager)
    reached = []
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label != "annotator":
            continue
        args = [rows[opts.model_name].pk] if page == "change" and opts.model_name in rows else []
        if page == "change" and not args:
            continue
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}", args=args)
        if client.get(url).status_code not in (302, 403):
            reached.append(url)

    index = client.get(reverse("admin:index"))
    assert reached == []
    assert index.context["app_list"] == []


# Import upload ------------------------------------------------------------------------------


def test_superuser_uploads_zip_and_job_completes(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(superuser)
    upload = zip_upload("batch.zip", {"a.txt": b"First article. Two.", "b.txt": b"Second one."})
    response = client.post(
        reverse("admin:annotator_corpus_import", args=[corpus.pk]), {"files": upload}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:annotator_importjob_progress", args=[job.pk])
    assert job.status == ImportStatus.DONE
    assert (job.processed, job.total, job.summary["imported"]) == (2, 2, 2)
    assert job.created_by == superuser
    assert set(corpus.articles.values_list("external_id", flat=True)) == {"a.txt", "b.txt"}
    page = client.get(response.url)
    assert "Imported 2 article(s) (3 sentences)" in page.content.decode()


def test_several_files_are_imported_as_one_batch(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(superuser)
    files = [
        SimpleUploadedFile("one.txt", b"One."),
        SimpleUploadedFile("two.jsonl", b'{"id": "j1", "text": "From JSONL."}\n'),
    ]
    client.post(reverse("admin:annotator_corpus_import", args=[corpus.pk]), {"files": files})
    assert ImportJob.objects.get().status == ImportStatus.DONE
    assert set(corpus.articles.values_list("external_id", flat=True)) == {"one.txt", "j1"}


def test_rejected_upload_lists_problems_and_imports_nothing(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(superuser)
    upload = zip_upload("bad.zip", {"ok.txt": b"Fine.", "../evil.txt": b"Evil."})
    response = client.post(
        reverse("admin:annotator_corpus_import", args=[corpus.pk]), {"files": upload}
    )
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    assert corpus.articles.count() == 0
    page = client.get(response.url).content.decode()
    assert "bad.zip:../evil.txt" in page
    assert "unsafe path in archive" in page
    assert "media" not in job.summary["rejected"][0]["source"]  # no server paths leak


def test_unsupported_upload_type_is_refused_by_the_form(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(superuser)
    response = client.post(
        reverse("admin:annotator_corpus_import", args=[corpus.pk]),
        {"files": SimpleUploadedFile("report.pdf", b"%PDF")},
    )
    assert response.status_code == 200
    assert "report.pdf: unsupported file type" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_fragment_polls_while_running(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    job = ImportJob.objects.create(
        corpus=corpus, file_name="x.zip", status=ImportStatus.RUNNING, total=10, processed=4
    )
    client.force_login(superuser)
    url = reverse("admin:annotator_importjob_progress", args=[job.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith("{#") is False
    assert 'hx-trigger="every 1s"' in fragment
    assert 'value="40"' in fragment
    assert "<html" not in fragment
    page = client.get(url).content.decode()
    assert "<html" in page and 'id="import-progress"' in page


def test_waiting_job_says_when_no_worker_has_been_seen(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    job = ImportJob.objects.create(corpus=corpus, file_name="x.zip", status=ImportStatus.QUEUED)
    client.force_login(superuser)
    url = reverse("admin:annotator_importjob_progress", args=[job.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "No background worker has been seen yet" in fragment

    beat = WorkerHeartbeat.objects.create(
        worker_id="w1", hostname="h", pid=1, started_at=timezone.now(), seen_at=timezone.now()
    )
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "No background worker" not in fragment

    WorkerHeartbeat.objects.filter(pk=beat.pk).update(seen_at=timezone.now() - timedelta(minutes=5))
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "No background worker has been seen for 5" in fragment


def test_progress_fragment_costs_the_same_queries_for_any_job(
    client: Client,
    superuser: AbstractUser,
    corpus: Corpus,
    django_assert_num_queries: Callable,
) -> None:
    job = ImportJob.objects.create(corpus=corpus, file_name="x.zip", status=ImportStatus.RUNNING)
    client.force_login(superuser)
    url = reverse("admin:annotator_importjob_progress", args=[job.pk])
    # session, user, the job with its corpus, the latest worker heartbeat
    with django_assert_num_queries(4):
        client.get(url, headers={"HX-Request": "true"})


def test_cut_off_job_offers_retry_and_retry_imports_it(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    job = ImportJob.objects.create(
        corpus=corpus,
        file_name="a.txt",
        status=ImportStatus.FAILED,
        attempts=3,
        error="The background worker running this import stopped.",
    )
    store_upload(job, ContentFile(b"First article. Two."))
    client.force_login(superuser)
    progress = reverse("admin:annotator_importjob_progress", args=[job.pk])
    retry = reverse("admin:annotator_importjob_retry", args=[job.pk])
    page = client.get(progress).content.decode()
    assert "The background worker running this import stopped." in page
    assert f'action="{retry}"' in page and 'value="Retry"' in page

    assert client.get(retry).status_code == 405
    response = client.post(retry)
    assert (response.status_code, response.url) == (302, progress)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportStatus.DONE, 1)
    assert list(corpus.articles.values_list("external_id", flat=True)) == ["a.txt"]
    assert 'value="Retry"' not in client.get(progress).content.decode()


def test_rejected_job_offers_no_retry(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(superuser)
    upload = zip_upload("bad.zip", {"../evil.txt": b"Evil."})
    response = client.post(
        reverse("admin:annotator_corpus_import", args=[corpus.pk]), {"files": upload}
    )
    assert 'value="Retry"' not in client.get(response.url).content.decode()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CURATOR, Role.ANNOTATOR])
def test_staff_who_are_not_superusers_cannot_reach_the_upload(
    client: Client,
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    role: str,
) -> None:
    member = make_member(corpus=corpus, role=role, is_staff=True)
    job = ImportJob.objects.create(corpus=corpus, file_name="x.zip")
    client.force_login(member)
    retry = reverse("admin:annotator_importjob_retry", args=[job.pk])
    assert client.post(retry).status_code == 404
    url = reverse("admin:annotator_corpus_import", args=[corpus.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"files": SimpleUploadedFile("a.txt", b"A.")}).status_code == 404
    progress = reverse("admin:annotator_importjob_progress", args=[job.pk])
    assert client.get(progress).status_code == 404
    assert ImportJob.objects.count() == 1


def test_non_staff_user_is_sent_to_admin_login(
    client: Client, annotator: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(annotator)
    response = client.get(reverse("admin:annotator_corpus_import", args=[corpus.pk]))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_admin_revokes_tokens_in_bulk_and_cannot_create_one(
    client: Client, superuser: AbstractUser, annotator: AbstractUser
) -> None:
    token, raw = create_token(user=annotator, name="laptop")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:annotator_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert find_active_token(raw) is None
    assert client.get(reverse("admin:annotator_apitoken_add")).status_code == 403
