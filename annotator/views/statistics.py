"""Statistics views: a corpus's agreement page with charts, and the address of the same figures
as JSON (which the API serves).

Only managers and curators of the corpus see them (everyone else gets 404): the figures name
annotators and show their labels, which annotators must not see of each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from annotator import charts
from annotator.models import Corpus, Role
from annotator.request_types import AuthenticatedRequest

if TYPE_CHECKING:
    from annotator.agreement import Level


def curated_corpus(request: AuthenticatedRequest, slug: str) -> Corpus:
    """The corpus if the user manages or curates it; 404 for annotators and non-members alike.

    Its `role` feeds the corpus links in the navigation (_corpus_nav.html)."""
    return get_object_or_404(Corpus.objects.with_role(request.user, Role.REVIEWERS), slug=slug)


def _level(request: AuthenticatedRequest) -> Level | None:
    # Imported here, like corpus_statistics below: NumPy loads on the first statistics
    # request, not whenever the URLs load (every management command's system checks).
    from annotator.agreement import LEVELS

    level = request.GET.get("level") or None
    if level is None or level in LEVELS:
        return level
    raise ValueError(f"level must be one of {', '.join(LEVELS)}")


def _charts(layer: dict[str, Any], chosen_pair: str | None) -> dict[str, Any]:
    """SVG charts of one layer; charts.py escapes every text it draws, so they are safe."""
    names = [row["annotator"] for row in layer["per_annotator"]]
    position = {name: i for i, name in enumerate(names)}
    kappas: list[list[float | None]] = [[None] * len(names) for _ in names]
    for pair in layer["pairwise"]:
        a, b = (position[name] for name in pair["annotators"])
        kappas[a][b] = kappas[b][a] = pair["cohen_kappa"]
    pairs = [pair for pair in layer["pairwise"] if pair["n_units"]]
    keys = ["|".join(pair["annotators"]) for pair in pairs]
    pair = pairs[keys.index(chosen_pair)] if chosen_pair in keys else (pairs[0] if pairs else None)

    distribution_names = sorted({row["annotator"] for row in layer["distribution"]})
    values = [choice["value"] for choice in layer["choices"]]
    counts = {(row["annotator"], row["choice"]): row["n"] for row in layer["distribution"]}
    return {
        "heat_map": mark_safe(  # charts.py escapes all text it draws
            charts.heat_map(names, kappas, title=f"Pairwise Cohen's kappa, {layer['label']}")
        )
        if len(names) > 1
        else "",
        "pair": pair,
        "pair_key": "|".join(pair["annotators"]) if pair else "",
        "pair_options": [
            (key, " × ".join(pair["annotators"])) for key, pair in zip(keys, pairs, strict=True)
        ],
        "confusion": mark_safe(
            charts.confusion_matrix(
                pair["annotators"][0], pair["annotators"][1], values, pair["confusion"]
            )
        )
        if pair
        else "",
        "distribution": mark_safe(
            charts.distribution_bars(
                distribution_names,
                values,
                [[counts.get((name, value), 0) for value in values] for name in distribution_names],
            )
        )
        if distribution_names
        else "",
    }


@login_required
@require_GET
def corpus_statistics_page(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    from annotator.agreement import LEVELS
    from annotator.statistics import corpus_statistics

    corpus = curated_corpus(request, slug)
    try:
        level = _level(request)
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    statistics = corpus_statistics(corpus, level=level)
    layers = [
        {**layer, "index": index, "charts": _charts(layer, request.GET.get(f"pair{index}"))}
        for index, layer in enumerate(statistics["layers"])
    ]
    return render(
        request,
        "annotator/statistics.html",
        {"corpus": corpus, "layers": layers, "level": level or "", "levels": LEVELS},
    )


@login_required
@require_GET
def corpus_statistics_json(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The figures as JSON, at the address the statistics page has always linked to: the API's
    agreement endpoint answers them (same figures, same `?level=`), so there is one JSON."""
    corpus = curated_corpus(request, slug)
    url = reverse("corpus-agreement", kwargs={"slug": corpus.slug})
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
