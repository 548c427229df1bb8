"""The managers' console: the articles table (managers and curators), assigning and taking
back articles at any scale, and the annotators' throughput (managers only).

Every page is a plain GET page whose filters live in the query string, with POST forms for the
writes, so it works without JavaScript; htmx only swaps the table in place. Non-members and
members without the role get 404 (the corpus is looked up with the role). The figures come from
`ArticleStats` (see article_stats.py for how current they are); the writes and the rules that
refuse them live in assigning.py and article_stats.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import article_stats, charts, throughput
from annotator.assigning import AssignmentError, Distribution, distribute
from annotator.console_forms import ArticleFilterForm, DistributeForm
from annotator.models import (
    Article,
    ArticleStats,
    ArticleStatus,
    Assignment,
    AssignmentStatus,
    Corpus,
    Membership,
    Role,
)
from annotator.numbers import whole_number
from annotator.request_types import AuthenticatedRequest

PAGE_SIZE = 50
# "Recount all" runs in the request up to this many articles, in the background beyond.
RECOUNT_IN_REQUEST = 2_000
# At most this many chosen articles are named on the assignment page.
NAMED_ARTICLES = 50
COLUMNS = (
    ("article", "Article", False),
    ("status", "Status", None),
    ("annotators", "Annotators", None),
    ("labels", "Labels", True),
    ("disputed", "Disputed", True),
    ("gold", "Gold", True),
    ("agreement", "Agreement", True),
)


def _corpus(request: AuthenticatedRequest, slug: str, roles: tuple[str, ...]) -> Corpus:
    # `role` comes with the corpus, for the corpus menu in the page header.
    return get_object_or_404(Corpus.objects.with_role(request.user, roles), slug=slug)


def _members(corpus: Corpus) -> list[Membership]:
    return list(
        Membership.objects.filter(corpus=corpus).select_related("user").order_by("user__username")
    )


def _choices(members: list[Membership]) -> list[tuple[int, str]]:
    return [(m.user_id, m.user.get_username()) for m in members]


def _safe_next(request: AuthenticatedRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# ---------------------------------------------------------------------------------------------
# The articles table


@dataclass
class ArticleRow:
    stats: ArticleStats
    status: str
    status_label: str
    annotators: list[tuple[str, str, str]] = field(default_factory=list)
    changed: bool = False

    @property
    def article(self) -> Article:
        return self.stats.article


@dataclass
class Page:
    number: int
    count: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_row(self) -> int:
        return self.offset + 1 if self.count else 0

    @property
    def last_row(self) -> int:
        return min(self.offset + self.size, self.count)


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def _table_context(request: AuthenticatedRequest, corpus: Corpus, form: ArticleFilterForm) -> dict:
    """The table's rows and figures, in four queries whatever the page or the corpus's size:
    the count, the page of rows, their assignments, and which of them changed since they were
    counted."""
    per_article = corpus.annotators_per_article
    rows = ArticleStats.objects.filter(corpus=corpus).matching(
        form.article_filter(), per_article=per_article
    )
    # COUNT(*) alone: without a filter PostgreSQL counts from the (corpus, article) index.
    page = Page(number=_page_number(request.GET.get("page")), count=rows.count(), size=PAGE_SIZE)
    page.number = min(page.number, page.pages)
    # The page's ids first, from the sort's index alone (a deep page skips thousands of index
    # entries, not rows); then those rows with their articles, sorted again (50 of them).
    page_ids = rows.sorted_by(form.sort_key).values("article_id")[
        page.offset : page.offset + page.size
    ]
    stats = list(
        ArticleStats.objects.filter(article_id__in=page_ids)
        .sorted_by(form.sort_key)
        .select_related("article")
        .defer("article__text", "article__metadata", "article__url")
    )
    ids = [row.article_id for row in stats]
    annotators: dict[int, list[tuple[str, str, str]]] = {}
    for assignment in (
        Assignment.objects.filter(article_id__in=ids)
        .select_related("annotator")
        .only("article_id", "status", "annotator__username")
        .order_by("annotator__username")
    ):
        annotators.setdefault(assignment.article_id, []).append(
            (
                assignment.annotator.get_username(),
                assignment.status,
                assignment.get_status_display(),
            )
        )
    changed = set(
        ArticleStats.objects.filter(article_id__in=ids)
        .changed_since_counted()
        .values_list("article_id", flat=True)
    )
    table_rows = []
    for row in stats:
        status = row.status(per_article)
        table_rows.append(
            ArticleRow(
                stats=row,
                status=status,
                status_label=ArticleStatus(status).label,
                annotators=annotators.get(row.article_id, []),
                changed=row.article_id in changed,
            )
        )
    counted = [row.refreshed_at for row in stats if row.refreshed_at is not None]
    return {
        "rows": table_rows,
        "page": page,
        # How fresh this page's figures are (from its rows: no query over the whole corpus).
        "summary": {
            "oldest": min(counted, default=None),
            "newest": max(counted, default=None),
            "uncounted": len(stats) - len(counted),
        },
        "headers": _headers(form),
        "pages": _page_links(form, page),
        "query": form.query_string(),
        "changed_on_page": len(changed),
        "curation_url": reverse("annotator:curation-queue", kwargs={"slug": corpus.slug}),
        "assign_url": reverse("annotator:corpus-assign", kwargs={"slug": corpus.slug}),
        "page_ids": ids,
    }


def _headers(form: ArticleFilterForm) -> list[dict[str, object]]:
    """Column headers; a sortable one links to its sort, the other way round when it is on."""
    current = form.sort_key
    headers = []
    for key, label, numeric in COLUMNS:
        header: dict[str, object] = {"label": label, "numeric": bool(numeric), "sort": None}
        if numeric is not None:
            on = current.removeprefix("-") == key
            descending = current.startswith("-")
            # Figures sort highest first on the first click; the article order oldest first.
            first = f"-{key}" if numeric else key
            target = (key if descending else f"-{key}") if on else first
            header.update(
                sort="descending" if on and descending else "ascending" if on else "none",
                url="?" + form.query_string(sort=target, page=""),
            )
        headers.append(header)
    return headers


def _page_links(form: ArticleFilterForm, page: Page) -> list[tuple[str, str | None]]:
    """(label, url or None for the current page) for first, previous, next and last."""

    def link(number: int) -> str:
        return "?" + form.query_string(page=str(number) if number > 1 else "")

    links: list[tuple[str, str | None]] = []
    if page.number > 1:
        links += [("« First", link(1)), ("‹ Previous", link(page.number - 1))]
    links.append((f"Page {page.number} of {page.pages}", None))
    if page.number < page.pages:
        links += [("Next ›", link(page.number + 1)), ("Last »", link(page.pages))]
    return links


@login_required
@require_GET
def article_table(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _corpus(request, slug, Role.REVIEWERS)
    article_stats.create_missing(corpus=corpus)
    members = _members(corpus)
    form = ArticleFilterForm(request.GET, members=_choices(members))
    context = {
        "corpus": corpus,
        "form": form,
        "is_manager": corpus.role in Role.MANAGERS,
        "members": members,
    }
    status = 200
    if form.is_valid():
        context.update(_table_context(request, corpus, form))
    else:
        status = 400
    template = (
        "annotator/_article_table.html"
        if request.htmx and not request.htmx.boosted
        else "annotator/article_table.html"
    )
    return render(request, template, context, status=status)


@login_required
@require_POST
def article_table_refresh(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Recount figures now: the page's rows (`article` ids), or every article of the corpus
    (`scope=all`; in the background for large corpora)."""
    corpus = _corpus(request, slug, Role.REVIEWERS)
    back = _safe_next(request, reverse("annotator:corpus-articles", kwargs={"slug": corpus.slug}))
    if request.POST.get("scope") == "all":
        articles = corpus.articles.count()
        if articles <= RECOUNT_IN_REQUEST:
            written = article_stats.refresh_corpus(corpus=corpus)
            messages.success(request, f"Recounted the figures of all {written} article(s).")
        else:
            article_stats.refresh_corpus_in_background.enqueue(corpus.pk)
            messages.info(
                request,
                f"Recounting the figures of {articles:,} articles in the background; they are "
                "updated batch by batch as it goes (reload to see them).",
            )
        return redirect(back)
    try:
        ids = [int(raw) for raw in request.POST.getlist("article")][:PAGE_SIZE]
    except ValueError:
        messages.error(request, "Article ids must be numbers.")
        return redirect(back)
    own = list(corpus.articles.filter(pk__in=ids).values_list("pk", flat=True))
    written = article_stats.refresh_figures(article_ids=sorted(own))
    messages.success(request, f"Recounted the figures of {written} article(s) on this page.")
    return redirect(back)


# ---------------------------------------------------------------------------------------------
# Assignment at scale


def _chosen_ids(values: list[str]) -> list[int] | None:
    """Article ids chosen in the table (None when none were: the filters select)."""
    ids = [number for raw in values if (number := whole_number(raw)) is not None]
    return ids or None


def _report(result: Distribution, names: dict[int, str]) -> dict[str, Any]:
    """The preview (or outcome) as rows a person reads: per annotator, then per reason."""
    people = []
    for user_id, name in names.items():
        refused = sorted(
            (reason, n) for (who, reason), n in result.refused.items() if who == user_id
        )
        if result.given[user_id] or result.taken_back[user_id] or refused:
            people.append(
                {
                    "name": name,
                    "given": result.given[user_id],
                    "handed_back": result.handed_back[user_id],
                    "taken_back": result.taken_back[user_id],
                    "refused": refused,
                }
            )
    whole = sorted((reason, n) for (who, reason), n in result.refused.items() if who is None)
    return {"people": people, "articles": whole, "result": result}


def _summary(result: Distribution, names: dict[int, str]) -> str:
    if result.mode == "unassign":
        parts = [f"{names[u]} {n:,}" for u, n in result.taken_back.items() if n]
        verb = "Took back"
        total = result.taken_back.total()
    else:
        parts = [f"{names[u]} {n:,}" for u, n in result.given.items() if n]
        verb = "Assigned"
        total = result.given.total()
    detail = f": {', '.join(parts)}" if parts else ""
    return f"{verb} {total:,} article assignment(s) of {result.articles:,} article(s){detail}."


@login_required
@require_http_methods(["GET", "POST"])
def corpus_assign(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Choose articles (chosen in the table, or every article matching the filters), choose
    annotators and an action, preview what would happen (GET), then apply it (POST)."""
    corpus = _corpus(request, slug, Role.MANAGERS)
    article_stats.create_missing(corpus=corpus)
    data = request.POST if request.method == "POST" else request.GET
    members = list(
        Membership.objects.with_workload(corpus).select_related("user").order_by("user__username")
    )
    choices = _choices(members)
    names = dict(choices)
    filters = ArticleFilterForm(data, members=choices)
    chosen = _chosen_ids(data.getlist("article"))
    wants = "preview" in data or request.method == "POST"
    action = DistributeForm(data if wants else None, members=choices)
    status = 200
    selection = ArticleStats.objects.filter(corpus=corpus)
    if chosen is not None:
        selection = selection.filter(article_id__in=chosen)
    elif filters.is_valid():
        selection = selection.matching(
            filters.article_filter(), per_article=corpus.annotators_per_article
        )
    else:
        selection = selection.none()
        status = 400
    context: dict[str, object] = {
        "corpus": corpus,
        "filters": filters,
        "action": action,
        "members": members,
        # The checkboxes follow the members' order (their choices were made from it).
        "member_rows": list(zip(action["annotators"], members, strict=True)),
        "chosen": chosen,
        "selected": selection.count(),
        "described": filters.described(names) if chosen is None and filters.is_valid() else [],
        "table_url": reverse("annotator:corpus-articles", kwargs={"slug": corpus.slug})
        + ("?" + filters.query_string(keep_sort=False) if chosen is None else ""),
    }
    if chosen is not None:
        context["named"] = list(
            corpus.articles.filter(pk__in=chosen)
            .order_by("pk")
            .only("pk", "title", "external_id")[:NAMED_ARTICLES]
        )
    if wants and status == 200 and action.is_valid():
        by_id = {m.user_id: m.user for m in members}
        try:
            result = distribute(
                corpus=corpus,
                article_ids=selection.values_list("article_id", flat=True),
                annotators=[by_id[pk] for pk in action.cleaned_data["annotators"]],
                mode=action.cleaned_data["mode"],
                by=request.user,
                limit=action.cleaned_data["limit"],
                apply=request.method == "POST",
            )
        except AssignmentError as error:
            action.add_error(None, str(error))
        else:
            if request.method == "POST":
                report = _report(result, names)
                messages.success(request, _summary(result, names))
                for row in report["people"]:
                    for reason, n in row["refused"]:
                        messages.warning(request, f"{row['name']}: {n:,} refused, {reason}.")
                for reason, n in report["articles"]:
                    messages.warning(request, f"{n:,} article(s) refused: {reason}.")
                return redirect(f"{request.path}?{_selection_query(filters, chosen)}")
            context["preview"] = _report(result, names)
            context["hidden"] = _hidden_fields(filters, chosen, action)
    if action.errors:
        status = 400
    return render(request, "annotator/corpus_assign.html", context, status=status)


def _selection_query(filters: ArticleFilterForm, chosen: list[int] | None) -> str:
    if chosen is not None:
        return urlencode([("article", pk) for pk in chosen])
    return filters.query_string(keep_sort=False)


def _hidden_fields(
    filters: ArticleFilterForm, chosen: list[int] | None, action: DistributeForm
) -> list[tuple[str, object]]:
    """Everything the preview was made from, for the Apply form to post again."""
    if chosen is not None:
        pairs: list[tuple[str, object]] = [("article", pk) for pk in chosen]
    else:
        pairs = list(filters.query(keep_sort=False))
    pairs.append(("mode", action.cleaned_data["mode"]))
    pairs += [("annotators", pk) for pk in action.cleaned_data["annotators"]]
    if action.cleaned_data["limit"]:
        pairs.append(("limit", action.cleaned_data["limit"]))
    return pairs


# ---------------------------------------------------------------------------------------------
# Throughput


@login_required
@require_GET
def corpus_throughput(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _corpus(request, slug, Role.MANAGERS)
    try:
        days = int(request.GET.get("days") or throughput.DEFAULT_DAYS)
    except ValueError:
        days = 0
    if days not in throughput.PERIODS:
        return render(
            request,
            "annotator/corpus_throughput.html",
            {"corpus": corpus, "periods": throughput.PERIODS, "error": True, "days": days},
            status=400,
        )
    report = throughput.report(corpus, days=days)
    for row in report.rows:
        # charts.py escapes every text it draws.
        row.chart = mark_safe(
            charts.daily_bars(
                [day.isoformat() for day in report.days],
                row.done_per_day,
                title=f"Articles {row.username} finished per day",
            )
        )
    return render(
        request,
        "annotator/corpus_throughput.html",
        {
            "corpus": corpus,
            "report": report,
            "days": days,
            "periods": throughput.PERIODS,
            "status_assigned": AssignmentStatus.ASSIGNED,
        },
    )
