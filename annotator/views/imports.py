"""A manager's import pages: upload files, watch the background job, read its summary or every
rejection, retry a job whose run was cut off, and the corpus's import history.

Only managers of the corpus reach them (everyone else, curators included, gets 404). An upload
becomes a job through `tasks.bundled_upload` and `tasks.start_import`, the one way a web upload
is imported; a worker (`manage.py db_worker`) runs it. The job page polls its own fragment with
htmx while the job runs, and has a Refresh link for browsers without JavaScript.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotator.manage_forms import ImportUploadForm
from annotator.middleware import not_activity
from annotator.models import Corpus, Progress, Role
from annotator.request_types import AuthenticatedRequest
from annotator.worker import worker_status

HISTORY_PAGE_SIZE = 20


def _managed_corpus(request: AuthenticatedRequest, slug: str) -> Corpus:
    # `role` comes with the corpus, for the corpus menu in the page header.
    return get_object_or_404(Corpus.objects.with_role(request.user, Role.MANAGERS), slug=slug)


def _history(corpus: Corpus, page: str | None) -> Page:
    """One page of the corpus's import jobs, newest first: a count and one query for the rows."""
    jobs = corpus.import_jobs.select_related("created_by").order_by("-created_at", "-pk")
    return Paginator(jobs, HISTORY_PAGE_SIZE).get_page(page)


def _import_page(
    request: AuthenticatedRequest, corpus: Corpus, form: ImportUploadForm, *, status: int = 200
) -> HttpResponse:
    history = _history(corpus, request.GET.get("page"))
    if request.htmx:
        return render(
            request, "annotator/_import_history.html", {"corpus": corpus, "history": history}
        )
    return render(
        request,
        "annotator/import.html",
        {
            "corpus": corpus,
            "form": form,
            "history": history,
            "worker": worker_status(),
            "limits": {
                "file": settings.IMPORT_MAX_FILE_BYTES,
                "total": settings.IMPORT_MAX_TOTAL_BYTES,
                "members": settings.IMPORT_MAX_ZIP_MEMBERS,
                "articles": settings.IMPORT_MAX_ARTICLES,
            },
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def corpus_import(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """GET: the upload form and the import history (htmx: the history alone, for its pages).
    POST: the files become a queued job, and the browser goes to its page."""
    corpus = _managed_corpus(request, slug)
    if request.method == "GET":
        return _import_page(request, corpus, ImportUploadForm())
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, corpus, form, status=400)
    # Imported here: the importer (sentencex, a process pool) is not needed to load the URLs,
    # which every management command does.
    from annotator.tasks import bundled_upload, start_import

    with bundled_upload(form.cleaned_data["files"]) as (name, content):
        job = start_import(corpus=corpus, created_by=request.user, file_name=name, content=content)
    return redirect("annotator:corpus-import-job", slug=corpus.slug, pk=job.pk)


@not_activity
@login_required
@require_http_methods(["GET"])
def import_job(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    """A job's progress, then its summary or rejections; htmx asks for the fragment alone,
    every second while the job is unfinished. Polling is not counted as people using the
    site, so watching an import does not slow it down."""
    corpus = _managed_corpus(request, slug)
    job = get_object_or_404(corpus.import_jobs.select_related("created_by"), pk=pk)
    context = {
        "corpus": corpus,
        "job": job,
        "progress": Progress(job.processed, job.total),
        # Only an unfinished job waits for a worker.
        "worker": None if job.finished else worker_status(),
    }
    if request.htmx:
        return render(request, "annotator/_import_job.html", context)
    return render(request, "annotator/import_job.html", context)


@login_required
@require_POST
def import_job_retry(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    """Start a job whose run was cut off again, from the beginning (tasks.retry_import)."""
    corpus = _managed_corpus(request, slug)
    job = get_object_or_404(corpus.import_jobs, pk=pk)
    from annotator.tasks import retry_import

    if retry_import(job):
        messages.success(request, f"The import of {job.file_name} starts again.")
    else:
        messages.error(
            request,
            "This import cannot be retried: only a failed import whose upload was kept (its "
            "run was cut off, not its content rejected) can.",
        )
    return redirect("annotator:corpus-import-job", slug=corpus.slug, pk=job.pk)
