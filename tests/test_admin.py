"""The admin, for superusers only: changelists with counts at a fixed query cost, read-only
pages (import jobs among them) and token revocation; staff who are not superusers reach none of
it. Writes that carry rules are in tests/test_admin_manage.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.auth.models import AbstractUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, reverse

from annotator.models import (
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    ImportJob,
    ImportStatus,
    Membership,
)
from annotator.tokens import create_token, find_active_token


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


# Import jobs: read-only inspection (imports are started and watched on the app's Import page,
# tests/views/test_corpus_import.py) ----------------------------------------------------------


def test_import_jobs_are_read_only_for_superusers_and_the_admin_has_no_import_pages(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    job = ImportJob.objects.create(
        corpus=corpus,
        file_name="batch.zip",
        status=ImportStatus.FAILED,
        summary={"rejected": [{"source": "batch.zip:a.txt", "line": None, "reason": "empty"}]},
        error="1 problem(s) found; nothing was imported.",
    )
    client.force_login(superuser)

    listing = client.get(reverse("admin:annotator_importjob_changelist")).content.decode()
    change = client.get(reverse("admin:annotator_importjob_change", args=[job.pk]))
    add = client.get(reverse("admin:annotator_importjob_add"))
    delete = client.post(
        reverse("admin:annotator_importjob_delete", args=[job.pk]), {"post": "yes"}
    )
    corpus_page = client.get(reverse("admin:annotator_corpus_change", args=[corpus.pk]))

    assert "batch.zip" in listing
    assert change.status_code == 200 and 'name="file_name"' not in change.content.decode()
    assert (add.status_code, delete.status_code) == (403, 403)
    assert ImportJob.objects.filter(pk=job.pk).exists()
    for gone in ("corpus_import", "importjob_progress", "importjob_retry"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:annotator_{gone}", args=[job.pk])
    assert "Import articles" not in corpus_page.content.decode()


def test_non_staff_user_is_sent_to_admin_login(
    client: Client, annotator: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(annotator)
    response = client.get(reverse("admin:annotator_importjob_changelist"))
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


def test_model_versions_and_predictions_are_shown_read_only_without_the_model_bytes(
    client: Client, superuser: AbstractUser, corpus: Corpus, make_article: Callable
) -> None:
    from annotator.assisting import PredictionRecord, import_predictions
    from annotator.models import ModelVersion, Prediction
    from tests.factories import prediction_record

    sentence = make_article(corpus=corpus).sentences.first()
    record = prediction_record(sentence=sentence.pk, model="bert", model_version="7")
    import_predictions(corpus=corpus, records=[PredictionRecord(data=record, line=1)], by=None)
    version = ModelVersion.objects.get()
    ModelVersion.objects.filter(pk=version.pk).update(model_bytes=b"\x00secret-model-bytes")
    client.force_login(superuser)

    page = client.get(reverse("admin:annotator_modelversion_change", args=[version.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "bert" in body and "secret-model-bytes" not in body
    assert 'name="_save"' not in body  # no form to change it
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        listing = client.get(reverse("admin:annotator_prediction_changelist"))
        assert client.get(reverse("admin:annotator_modelversion_changelist")).status_code == 200
    assert listing.status_code == 200 and "0.8" in listing.content.decode()
    # Neither list reads the stored models.
    assert not [q["sql"] for q in queries.captured_queries if "model_bytes" in q["sql"]]
    prediction = Prediction.objects.get()
    assert (
        client.post(
            reverse("admin:annotator_prediction_delete", args=[prediction.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
