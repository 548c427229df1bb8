"""Correcting an article's sentences (managers and curators) and its zones (managers): the
sentences page with split, merge and exclude, the zones review of one article, and the
corpus's zones page with bulk confirmation.

Plain GET pages and POST forms, so everything works without JavaScript. The article is looked
up through the corpus with the role, so non-members and members without the role get 404;
the rules themselves (who, when a labelled sentence refuses, what excluded means) live in
annotator/resegmenting.py, and a refusal comes back as 409 with the page saying why.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import article_stats, resegmenting
from annotator.console_forms import ArticleFilterForm
from annotator.models import (
    Article,
    ArticleStats,
    Corpus,
    Membership,
    SegmentationChange,
    Sentence,
    Zone,
    count_of,
)
from annotator.numbers import whole_number
from annotator.request_types import AuthenticatedRequest
from annotator.resegmenting import SegmentationRefused
from annotator.segmentation import split_points
from annotator.zones import RULES

# Articles with unconfirmed zones listed on the corpus's zones page.
ARTICLES_LISTED = 50
HISTORY_SHOWN = 20


def _corpus(request: AuthenticatedRequest, slug: str, roles: tuple[str, ...]) -> Corpus:
    return get_object_or_404(Corpus.objects.with_role(request.user, roles), slug=slug)


def _article(corpus: Corpus, pk: int) -> Article:
    return get_object_or_404(Article.objects.filter(corpus=corpus).defer("text", "metadata"), pk=pk)


def _sentences_url(article: Article, corpus: Corpus) -> str:
    return reverse("annotator:article-sentences", kwargs={"slug": corpus.slug, "pk": article.pk})


def _zones_url(article: Article, corpus: Corpus) -> str:
    return reverse("annotator:article-zones", kwargs={"slug": corpus.slug, "pk": article.pk})


def _history(article: Article) -> list[SegmentationChange]:
    return list(
        SegmentationChange.objects.filter(article=article).select_related("user")[:HISTORY_SHOWN]
    )


# ---------------------------------------------------------------------------------------------
# The sentences of one article: split, merge, exclude


@login_required
@require_GET
def article_sentences(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _corpus(request, slug, resegmenting.RESEGMENT_ROLES)
    article = _article(corpus, pk)
    return render(
        request,
        "annotator/article_sentences.html",
        {
            "corpus": corpus,
            "article": article,
            "sentences": list(resegmenting.labelled_sentences(article)),
            "is_manager": corpus.role in resegmenting.ZONE_ROLES,
            "history": _history(article),
        },
    )


def _sentence_or_404(article: Article, pk: int) -> Sentence:
    return get_object_or_404(Sentence.objects.filter(article=article), pk=pk)


def _seen(request: AuthenticatedRequest) -> tuple[int, int] | None:
    """The span the page showed (hidden fields), to refuse a split of a sentence that changed."""
    start, end = (
        whole_number(request.POST.get("start", "")),
        whole_number(request.POST.get("end", "")),
    )
    if start is not None and end is not None:
        return start, end
    return None


@login_required
@require_http_methods(["GET", "POST"])
def sentence_split(
    request: AuthenticatedRequest, slug: str, pk: int, sentence: int
) -> HttpResponse:
    """GET: the sentence with the places it can be split and the labels in the way; POST:
    split it at `position` (a character offset in the sentence)."""
    corpus = _corpus(request, slug, resegmenting.RESEGMENT_ROLES)
    article = _article(corpus, pk)
    chosen_sentence = _sentence_or_404(article, sentence)
    ordinal = chosen_sentence.ordinal
    error, status = "", 200
    if request.method == "POST":
        # A number typed in wins over a word start chosen from the list.
        position = whole_number(request.POST.get("position_at") or request.POST.get("position", ""))
        if position is None:
            error, status = "Choose where to split the sentence.", 400
        else:
            try:
                first, second = resegmenting.split_sentence(
                    sentence_id=chosen_sentence.pk,
                    position=position,
                    by=request.user,
                    seen=_seen(request),
                )
            except SegmentationRefused as refused:
                error, status = str(refused), 400 if not refused.labels else 409
            else:
                messages.success(
                    request,
                    f"Split sentence {ordinal + 1} into “{first.text}” and “{second.text}”.",
                )
                return redirect(f"{_sentences_url(article, corpus)}#s-{ordinal}")
    return render(
        request,
        "annotator/sentence_split.html",
        {
            "corpus": corpus,
            "article": article,
            "sentence": chosen_sentence,
            "points": split_points(chosen_sentence.text),
            "labels": resegmenting.affected_labels([chosen_sentence]),
            "error": error,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def sentence_merge(
    request: AuthenticatedRequest, slug: str, pk: int, sentence: int
) -> HttpResponse:
    """GET: the sentence and the next, and the labels in the way; POST: merge them (`next` is
    the id of the next sentence the page showed)."""
    corpus = _corpus(request, slug, resegmenting.RESEGMENT_ROLES)
    article = _article(corpus, pk)
    first = _sentence_or_404(article, sentence)
    ordinal = first.ordinal
    pair = [first, *Sentence.objects.filter(article=article, ordinal=ordinal + 1)]
    error, status = "", 200
    if request.method == "POST":
        shown = request.POST.get("next", "")
        try:
            merged = resegmenting.merge_sentences(
                first_id=first.pk,
                second_id=whole_number(shown) or pair[-1].pk,
                by=request.user,
            )
        except SegmentationRefused as refused:
            error, status = str(refused), 409 if refused.labels else 400
        else:
            messages.success(request, f"Merged sentences {ordinal + 1} and {ordinal + 2}.")
            return redirect(f"{_sentences_url(article, corpus)}#s-{merged.ordinal}")
    return render(
        request,
        "annotator/sentence_merge.html",
        {
            "corpus": corpus,
            "article": article,
            "pair": pair,
            "labels": resegmenting.affected_labels(pair),
            "error": error,
        },
        status=status,
    )


def _chosen(request: AuthenticatedRequest, article: Article) -> list[int]:
    """Sentence ids from ticked boxes (`sentence`) and from a run (`first`..`last`, numbered
    from 1 as the page shows them)."""
    chosen = {n for raw in request.POST.getlist("sentence") if (n := whole_number(raw)) is not None}
    first, last = (
        whole_number(request.POST.get("first", "")),
        whole_number(request.POST.get("last", "")),
    )
    if first is not None and last is not None and 1 <= first <= last:
        chosen.update(
            Sentence.objects.filter(
                article=article, ordinal__gte=first - 1, ordinal__lte=last - 1
            ).values_list("pk", flat=True)
        )
    return sorted(chosen)


@login_required
@require_POST
def sentences_exclude(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _corpus(request, slug, resegmenting.ZONE_ROLES)
    article = _article(corpus, pk)
    excluded = request.POST.get("action") != "include"
    try:
        changed = resegmenting.set_excluded(
            article_id=article.pk,
            sentence_ids=_chosen(request, article),
            excluded=excluded,
            by=request.user,
        )
    except SegmentationRefused as refused:
        messages.error(request, str(refused))
    else:
        verb = "Excluded" if excluded else "Included again"
        messages.success(request, f"{verb}: {changed} sentence(s).")
    return redirect(_sentences_url(article, corpus))


# ---------------------------------------------------------------------------------------------
# Zones


def _member_choices(corpus: Corpus) -> list[tuple[int, str]]:
    return list(
        Membership.objects.filter(corpus=corpus)
        .order_by("user__username")
        .values_list("user_id", "user__username")
    )


def _matching(corpus: Corpus, filters: ArticleFilterForm) -> QuerySet[ArticleStats]:
    article_stats.create_missing(corpus=corpus)
    return ArticleStats.objects.filter(corpus=corpus).matching(
        filters.article_filter(), per_article=corpus.annotators_per_article
    )


def _why(rule: str) -> str:
    if rule == resegmenting.BY_HAND:
        return "chosen by a manager"
    if rule in RULES:
        return RULES[rule][1]
    return rule or "—"


@login_required
@require_http_methods(["GET", "POST"])
def article_zones(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    """The article's sentences with their suggested zones; correct any, then confirm all."""
    corpus = _corpus(request, slug, resegmenting.ZONE_ROLES)
    article = _article(corpus, pk)
    if request.method == "POST":
        zones: dict[int, str] = {}
        for name in request.POST:
            # zone-<sentence id>
            sentence_id = (
                whole_number(name.removeprefix("zone-")) if name.startswith("zone-") else None
            )
            if sentence_id is not None:
                zones[sentence_id] = request.POST.get(name, "")
        try:
            counts = resegmenting.confirm_zones(article_id=article.pk, zones=zones, by=request.user)
        except SegmentationRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request,
                f"Confirmed the zones of {article}: {counts['body']} article text, "
                f"{counts['boilerplate']} page furniture (now excluded), {counts['comments']} "
                f"reader comments; {counts['corrected']} corrected.",
            )
        return redirect(_zones_url(article, corpus))
    sentences = list(Sentence.objects.filter(article=article).order_by("ordinal"))
    rows = [(sentence, _why(sentence.zone_rule)) for sentence in sentences]
    return render(
        request,
        "annotator/article_zones.html",
        {
            "corpus": corpus,
            "article": article,
            "rows": rows,
            "zones": Zone.choices,
            "unconfirmed": sum(not s.zone_confirmed for s in sentences),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def corpus_zones(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """How many sentences wait in each suggested zone, the articles they are in, and bulk
    confirmation: of the chosen articles, or of every suggestion in the corpus."""
    corpus = _corpus(request, slug, resegmenting.ZONE_ROLES)
    data = request.POST if request.method == "POST" else request.GET
    # The articles table's filters, when the manager came from there ("Confirm zones of all N
    # matching..."): the same form and query as the table and the assignment page.
    members = _member_choices(corpus) if data.get("scope") == "filter" else []
    filters = ArticleFilterForm(data, members=members)
    filtered = data.get("scope") == "filter" and filters.is_valid()
    if request.method == "POST":
        scope = request.POST.get("scope")
        article_ids: list[int] | QuerySet | None = None
        if scope == "filter":
            if not filtered:
                messages.error(request, "The filters are not valid; open the articles table.")
                return redirect(request.path)
            article_ids = _matching(corpus, filters).values("article_id")
        elif scope != "all":
            article_ids = [pk for pk in map(whole_number, request.POST.getlist("article")) if pk]
            if not article_ids:
                messages.error(request, "Choose articles, or confirm every suggestion.")
                return redirect(request.path)
        try:
            articles, sentences = resegmenting.confirm_suggested_zones(
                corpus=corpus, by=request.user, article_ids=article_ids
            )
        except SegmentationRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request,
                f"Confirmed the suggested zones of {sentences:,} sentence(s) in {articles:,} "
                "article(s); their page furniture is now excluded.",
            )
        return redirect(request.path)
    in_corpus = Sentence.objects.filter(article__corpus=corpus)
    tally = {
        (zone, confirmed): n
        for zone, confirmed, n in in_corpus.order_by()
        .values("zone", "zone_confirmed")
        .annotate(n=Count("pk"))
        .values_list("zone", "zone_confirmed", "n")
    }
    rows = [
        {
            "zone": label,
            "value": value,
            "suggested": tally.get((value, False), 0),
            "confirmed": tally.get((value, True), 0),
        }
        for value, label in Zone.choices
    ]
    waiting = (
        Article.objects.filter(corpus=corpus)
        .filter(Exists(Sentence.objects.filter(article=OuterRef("pk"), zone_confirmed=False)))
        .annotate(
            furniture=count_of(
                Sentence.objects.filter(
                    article=OuterRef("pk"), zone_confirmed=False, zone=Zone.BOILERPLATE
                )
            ),
            comments=count_of(
                Sentence.objects.filter(
                    article=OuterRef("pk"), zone_confirmed=False, zone=Zone.COMMENTS
                )
            ),
        )
        .only("pk", "title", "external_id")
        .order_by("pk")
    )
    page = Paginator(waiting, ARTICLES_LISTED).get_page(request.GET.get("page"))
    selection: dict[str, object] = {}
    if filtered:
        matching = _matching(corpus, filters)
        selection = {
            "count": matching.count(),
            "described": filters.described(dict(members)),
            "hidden": [("scope", "filter"), *filters.query(keep_sort=False)],
        }
    return render(
        request,
        "annotator/corpus_zones.html",
        {
            "corpus": corpus,
            "selection": selection,
            "rows": rows,
            "pending": sum(row["suggested"] for row in rows),
            "articles": page.object_list,
            "page": page,
            # The rest of the query (a selection from the articles table) for the page links.
            "page_query": urlencode([(k, v) for k, v in request.GET.items() if k != "page"]),
        },
    )
