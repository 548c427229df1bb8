"""Curation views: the queue of disputed sentences, settling one (htmx or plain POST), confirming
a majority pre-fill, and the bulk rules (accept unanimous, pre-fill by majority).

Managers and curators only; everyone else gets 404. Writes go through annotator.curating.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from annotator import assisting_queue, curating
from annotator.assisting import choices_of
from annotator.curating import CurationError, CurationItem, Unit
from annotator.models import Corpus, GoldLabel, LabelChoice, Sentence
from annotator.request_types import AuthenticatedRequest
from annotator.views.statistics import curated_corpus

PAGE_SIZE = 20
STATUSES = (
    ("open", "To settle"),
    ("settled", "Settled"),
    ("all", "All disputed"),
    # Labels that look wrong to the current model (assisting_queue.check_these).
    ("check", "Check these"),
)


def _int_or_none(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise CurationError(f"expected a number, got {raw!r}") from None


def _unit(corpus: Corpus, data: dict) -> Unit:
    return curating.resolve_unit(
        corpus, layer=data.get("layer") or "claim_type", target_id=data.get("target")
    )


def _unit_query(unit: Unit) -> dict[str, str | int]:
    query: dict[str, str | int] = {"layer": unit.layer}
    if unit.target is not None:
        query["target"] = unit.target.pk
    return query


def _item_context(corpus: Corpus, unit: Unit, item: CurationItem, **extra: object) -> dict:
    choices = choices_of(corpus, unit.layer)
    [item] = assisting_queue.with_model_views(corpus, unit, [item], choices=choices)
    return {
        "corpus": corpus,
        "unit": unit,
        "unit_query": urlencode(_unit_query(unit)),
        "item": item,
        "choices": choices,
        **extra,
    }


def _back(request: AuthenticatedRequest, corpus: Corpus, unit: Unit) -> HttpResponse:
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    url = reverse("annotator:curation-queue", kwargs={"slug": corpus.slug})
    return redirect(f"{url}?{urlencode(_unit_query(unit))}")


@login_required
@require_GET
def curation_queue(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = curated_corpus(request, slug)
    try:
        unit = _unit(corpus, request.GET)
        article_id = _int_or_none(request.GET.get("article"))
        annotator_id = _int_or_none(request.GET.get("annotator"))
        status = request.GET.get("status") or "open"
        page: Page[Any]
        flagged: list[assisting_queue.CheckEntry] = []
        if status == "check":
            entries = _check_entries(corpus, unit, article_id, annotator_id)
            page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
            flagged = list(page.object_list)
            on_page = [entry.sentence_id for entry in flagged]
            found = Sentence.objects.filter(pk__in=on_page).select_related("article").in_bulk()
            sentences = [found[pk] for pk in on_page if pk in found]
        else:
            queue = curating.disputed_sentences(
                corpus, unit, article_id=article_id, annotator_id=annotator_id, status=status
            )
            page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
            sentences = list(page.object_list)
    except CurationError as error:
        return HttpResponseBadRequest(str(error))
    choices = choices_of(corpus, unit.layer)
    items = assisting_queue.with_model_views(
        corpus,
        unit,
        curating.curation_items(sentences, unit),
        choices=choices,
        entries=flagged,
    )
    filters = {**_unit_query(unit), "status": status}
    if article_id is not None:
        filters["article"] = article_id
    if annotator_id is not None:
        filters["annotator"] = annotator_id
    return render(
        request,
        "annotator/curation.html",
        {
            "corpus": corpus,
            "unit": unit,
            "unit_query": urlencode(_unit_query(unit)),
            "items": items,
            "page": page,
            "filters": filters,
            "filter_query": urlencode(filters),
            "status": status,
            "statuses": STATUSES,
            "article": corpus.articles.filter(pk=article_id).first() if article_id else None,
            "annotator_id": annotator_id,
            "annotators": corpus.memberships.annotators()
            .select_related("user")
            .order_by("user__username"),
            "targets": list(corpus.stance_targets.all()),
            "choices": choices,
            "next": request.get_full_path(),
        },
    )


def _check_entries(
    corpus: Corpus, unit: Unit, article_id: int | None, annotator_id: int | None
) -> list[assisting_queue.CheckEntry]:
    """ "Check these", narrowed like the queue: to one article, or to the sentences where the
    chosen annotator's own label is flagged."""
    entries = assisting_queue.check_these(corpus, unit)
    if annotator_id is not None:
        entries = [
            entry
            for entry in entries
            if any(issue.annotator_id == annotator_id for issue in entry.issues)
        ]
    if article_id is not None:
        in_article = set(
            Sentence.objects.filter(
                article_id=article_id, pk__in=[entry.sentence_id for entry in entries]
            ).values_list("pk", flat=True)
        )
        entries = [entry for entry in entries if entry.sentence_id in in_article]
    return entries


def _corpus_sentence(corpus: Corpus, pk: int) -> Sentence:
    return get_object_or_404(
        Sentence.objects.filter(article__corpus=corpus).select_related("article__corpus"), pk=pk
    )


def _item_fragment(
    request: AuthenticatedRequest, corpus: Corpus, unit: Unit, sentence: Sentence, *, was: str = ""
) -> HttpResponse:
    """The sentence's curation card after a change, for htmx to swap in; `was` names the gold
    label a re-settle replaced."""
    [item] = curating.curation_items([sentence], unit)
    return render(
        request,
        "annotator/_curation_item.html",
        _item_context(corpus, unit, item, next=request.POST.get("next", ""), was=was),
    )


@login_required
@require_GET
def curation_sentence(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = curated_corpus(request, slug)
    sentence = _corpus_sentence(corpus, pk)
    try:
        unit = _unit(corpus, request.GET)
    except CurationError as error:
        return HttpResponseBadRequest(str(error))
    [item] = curating.curation_items([sentence], unit)
    template = (
        "annotator/_curation_item.html" if request.htmx else "annotator/curation_sentence.html"
    )
    return render(
        request, template, _item_context(corpus, unit, item, next=request.get_full_path())
    )


@login_required
@require_POST
def curation_settle(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = curated_corpus(request, slug)
    sentence = _corpus_sentence(corpus, pk)
    try:
        unit = _unit(corpus, request.POST)
        choice_id = _int_or_none(request.POST.get("choice"))
        choice = (
            LabelChoice.objects.filter(corpus=corpus, pk=choice_id).first()
            if choice_id is not None
            else None
        )
        if choice is None:
            raise CurationError("choose one of the corpus's labels")
        # Re-settling replaces gold: the answer names what it was, so a slip is seen.
        replaced = (
            GoldLabel.objects.for_layer(unit.layer, unit.target)
            .filter(sentence=sentence)
            .exclude(choice=choice)
            .values_list("choice__name", flat=True)
            .first()
        )
        curating.settle(
            sentence=sentence,
            unit=unit,
            choice=choice,
            curator=request.user,
            note=request.POST.get("note", ""),
        )
    except CurationError as error:
        return HttpResponseBadRequest(str(error))
    if request.htmx:
        return _item_fragment(request, corpus, unit, sentence, was=replaced or "")
    was = f" (was: {replaced})" if replaced else ""
    messages.success(request, f"Settled: {choice.name}{was}.")
    return _back(request, corpus, unit)


@login_required
@require_POST
def curation_confirm(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = curated_corpus(request, slug)
    sentence = _corpus_sentence(corpus, pk)
    try:
        unit = _unit(corpus, request.POST)
    except CurationError as error:
        return HttpResponseBadRequest(str(error))
    gold = get_object_or_404(
        GoldLabel.objects.for_layer(unit.layer, unit.target), sentence=sentence
    )
    curating.confirm(gold=gold, curator=request.user)
    if request.htmx:
        return _item_fragment(request, corpus, unit, sentence)
    messages.success(request, "Gold label confirmed.")
    return _back(request, corpus, unit)


@login_required
@require_POST
def curation_accept_unanimous(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = curated_corpus(request, slug)
    try:
        unit = _unit(corpus, request.POST)
        created = curating.accept_unanimous(corpus=corpus, unit=unit, curator=request.user)
    except CurationError as error:
        return HttpResponseBadRequest(str(error))
    messages.success(
        request, f"{created} unanimous sentence(s) accepted as gold for {unit.label.lower()}."
    )
    return _back(request, corpus, unit)


@login_required
@require_POST
def curation_prefill_majority(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = curated_corpus(request, slug)
    try:
        unit = _unit(corpus, request.POST)
        try:
            threshold = float(request.POST.get("threshold") or curating.DEFAULT_MAJORITY_THRESHOLD)
        except ValueError:
            raise CurationError("threshold must be a number such as 0.67") from None
        created = curating.prefill_majority(
            corpus=corpus, unit=unit, curator=request.user, threshold=threshold
        )
    except CurationError as error:
        return HttpResponseBadRequest(str(error))
    messages.success(
        request,
        f"{created} sentence(s) pre-filled by majority (at least {threshold:.0%}); "
        "confirm each with Enter in the queue.",
    )
    return _back(request, corpus, unit)
