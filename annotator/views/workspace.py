"""Annotation workspace views: home, corpus page, article page, labelling (htmx + plain POST)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotator.models import Article, Corpus


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    corpora = Corpus.objects.for_user(request.user).order_by("name")
    return render(request, "annotator/home.html", {"corpora": corpora})


@login_required
@require_GET
def corpus_detail(request: HttpRequest, slug: str) -> HttpResponse:
    corpus = get_object_or_404(Corpus.objects.for_user(request.user), slug=slug)
    return render(request, "annotator/corpus_detail.html", {"corpus": corpus})


@login_required
@require_GET
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.visible_to(request.user).select_related("corpus"), pk=pk
    )
    sentences = article.sentences.order_by("ordinal")
    return render(
        request, "annotator/article_detail.html", {"article": article, "sentences": sentences}
    )
