"""Dataset release pages: the list with the cut form, one release, its files, and diffs.

Managers and curators of the corpus see releases and download them (they may export the corpus
too); only managers cut one. Everyone else gets 404. Downloads stream the stored file from the
release storage as it is: no pacing, no re-encoding.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from annotator.guidelines import render_guidelines
from annotator.models import Corpus, Release, ReleaseStatus
from annotator.releases.catalog import (
    READ_ROLES,
    ReleaseError,
    content_type,
    cut_release,
    default_options,
    may_cut,
    open_file,
    release_diff,
)
from annotator.releases.diff import DEFAULT_LIMIT
from annotator.releases.forms import ReleaseForm
from annotator.request_types import AuthenticatedRequest

DIFF_PAGE_LIMIT = 200


def _reader_corpus(request: AuthenticatedRequest, slug: str) -> Corpus:
    """The corpus if the user manages or curates it (404 otherwise), with `role` for the menu."""
    return get_object_or_404(Corpus.objects.with_role(request.user, READ_ROLES), slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def release_list(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _reader_corpus(request, slug)
    can_cut = may_cut(request.user, corpus)
    if request.method == "POST":
        if not can_cut:
            raise PermissionDenied
        form = ReleaseForm(request.POST)
        if form.is_valid():
            try:
                release = cut_release(corpus=corpus, options=form.options, by=request.user)
            except ReleaseError as error:
                form.add_error(None, str(error))
            else:
                release.refresh_from_db(fields=["status"])
                messages.success(
                    request,
                    f"Release {release.number} is ready"
                    if release.status == ReleaseStatus.READY
                    else f"Release {release.number} is being built; this page says when it is done",
                )

                return redirect(release.get_absolute_url())
    else:
        form = ReleaseForm(initial=ReleaseForm.initial_from(default_options(corpus)))
    releases = list(corpus.releases.select_related("created_by").order_by("-number"))
    return render(
        request,
        "annotator/releases.html",
        {"corpus": corpus, "releases": releases, "form": form, "can_cut": can_cut},
        status=400 if request.method == "POST" else 200,
    )


def _release(corpus: Corpus, number: int) -> Release:
    return get_object_or_404(
        Release.objects.select_related("created_by", "corpus"), corpus=corpus, number=number
    )


@login_required
@require_GET
def release_detail(request: AuthenticatedRequest, slug: str, number: int) -> HttpResponse:
    corpus = _reader_corpus(request, slug)
    release = _release(corpus, number)
    done = release.status in (ReleaseStatus.READY, ReleaseStatus.FAILED)
    if request.htmx:
        # The status fragment polls while the build runs; once it is over the whole page
        # (files, card) is drawn again.
        if done:
            return HttpResponseClientRefresh()
        return render(
            request, "annotator/_release_status.html", {"corpus": corpus, "release": release}
        )
    card = ""
    if release.status == ReleaseStatus.READY:
        opened = open_file(release, "README.md")
        if opened is not None:
            handle, _ = opened
            with handle:
                text = handle.read().decode("utf-8")
            # The YAML header is for the Hugging Face hub; the page shows the prose.
            card = render_guidelines(text.split("\n---\n", 1)[-1])
    others = list(
        corpus.releases.filter(status=ReleaseStatus.READY)
        .exclude(pk=release.pk)
        .order_by("-number")
        .values_list("number", flat=True)
    )
    return render(
        request,
        "annotator/release_detail.html",
        {"corpus": corpus, "release": release, "card": card, "others": others},
    )


@login_required
@require_GET
def release_file(request: AuthenticatedRequest, slug: str, number: int, name: str) -> FileResponse:
    corpus = _reader_corpus(request, slug)
    release = _release(corpus, number)
    opened = open_file(release, name)
    if opened is None:
        raise Http404("No such file in this release.")
    handle, entry = opened
    filename = f"{corpus.slug}-release-{release.number}-{PurePosixPath(name).name}"
    response = FileResponse(handle, as_attachment=True, filename=filename)
    response["Content-Type"] = content_type(name)
    response["Content-Length"] = str(entry["bytes"])
    return response


@login_required
@require_GET
def release_diff_page(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _reader_corpus(request, slug)
    ready = list(corpus.releases.filter(status=ReleaseStatus.READY).order_by("number"))
    numbers = [release.number for release in ready]
    diff = None
    error = ""
    chosen = {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
    if chosen["from"] or chosen["to"]:
        by_number = {str(release.number): release for release in ready}
        old, new = by_number.get(chosen["from"]), by_number.get(chosen["to"])
        if old is None or new is None:
            error = "Choose two ready releases of this corpus."
        else:
            diff = release_diff(old, new, limit=DIFF_PAGE_LIMIT)
    elif len(numbers) >= 2:
        chosen = {"from": str(numbers[-2]), "to": str(numbers[-1])}
        diff = release_diff(ready[-2], ready[-1], limit=DIFF_PAGE_LIMIT)
    return render(
        request,
        "annotator/release_diff.html",
        {
            "corpus": corpus,
            "numbers": numbers,
            "chosen": chosen,
            "diff": diff,
            "error": error,
            "limit": DIFF_PAGE_LIMIT,
            "api_limit": DEFAULT_LIMIT,
        },
        status=400 if error else 200,
    )
