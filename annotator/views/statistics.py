"""Statistics views: a corpus's agreement page with charts, and the address of the same figures
as JSON (which the API serves).

Only managers and curators of the corpus see them (everyone else gets 404): the figures name
annotators and show their labels, which annotators must not see of each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import charts
from annotator.models import Corpus, Role
from annotator.request_types import AuthenticatedRequest
from annotator.uploads import MAX_UPLOAD_LINES

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
    from annotator.assisting import TRAIN_ROLES
    from annotator.statistics import corpus_statistics

    corpus = curated_corpus(request, slug)
    try:
        level = _level(request)
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    statistics = corpus_statistics(corpus, level=level)
    models, anchoring = _assistance(corpus)
    layers = [
        {
            **layer,
            "index": index,
            "charts": _charts(layer, request.GET.get(f"pair{index}")),
            "model": models[index],
            "anchoring": anchoring.get(_unit_key(models[index].unit)),
        }
        for index, layer in enumerate(statistics["layers"])
    ]
    return render(
        request,
        "annotator/statistics.html",
        {
            "corpus": corpus,
            "layers": layers,
            "level": level or "",
            "levels": LEVELS,
            "may_train": corpus.role in TRAIN_ROLES,
        },
    )


def _unit_key(unit: Any) -> tuple[str, int | None]:
    return (unit.layer, unit.target.pk if unit.target is not None else None)


def _assistance(corpus: Corpus) -> tuple[list[Any], dict[tuple[str, int | None], Any]]:
    """Each layer's baseline model (in the statistics' layer order) with its confusion matrix
    drawn, and the anchoring figures by layer."""
    from annotator.assisting import anchoring_statistics, layer_models

    models = layer_models(corpus)
    for model in models:
        scores = model.current.scores if model.current is not None else {}
        model.chart = (
            mark_safe(  # charts.py escapes all text it draws
                charts.confusion_matrix(
                    "Given label", "Model", [c.value for c in model.choices], scores["confusion"]
                )
            )
            if "confusion" in scores
            else ""
        )
        model.per_class = [
            {**row, "name": choice.name}
            for row, choice in zip(scores.get("per_class", []), model.choices, strict=False)
        ]
    units = [model.unit for model in models]
    anchoring = {
        (row["layer"], row["target_id"]): row for row in anchoring_statistics(corpus, units=units)
    }
    return models, anchoring


@login_required
@require_POST
def corpus_train_models(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Queue a new baseline model version of every layer (managers)."""
    from annotator.assisting import AssistanceRefused, request_training_all

    corpus = curated_corpus(request, slug)
    try:
        versions = request_training_all(corpus=corpus, requested_by=request.user)
    except AssistanceRefused as refused:
        return HttpResponseForbidden(str(refused))
    messages.success(
        request,
        f"Training {len(versions)} model{'s' if len(versions) != 1 else ''} in the background; "
        "this page shows the scores once they are done.",
    )
    return redirect(
        reverse("annotator:corpus-statistics", kwargs={"slug": corpus.slug}) + "#models"
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


@login_required
@require_http_methods(["GET", "POST"])
def corpus_predictions_import(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Upload a JSONL file of external predictions (managers and curators); every bad line is
    listed with its file, line, field and reason, and then nothing is stored."""
    from annotator.assisting import (
        AssistanceRefused,
        PredictionsRejected,
        import_predictions,
        read_jsonl,
    )
    from annotator.manage_forms import PredictionUploadForm

    corpus = curated_corpus(request, slug)
    # Bound on every POST: an empty one (no file chosen) must say so, not show the form anew.
    posted = request.method == "POST"
    form = PredictionUploadForm(request.POST, request.FILES) if posted else PredictionUploadForm()
    problems: list[Any] = []
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        lines = upload.read().splitlines()
        try:
            summary = import_predictions(
                corpus=corpus,
                records=read_jsonl(
                    lines, source=upload.name or "upload", max_lines=MAX_UPLOAD_LINES
                ),
                by=request.user,
            )
        except PredictionsRejected as rejected:
            problems = rejected.problems
        except AssistanceRefused as refused:
            return HttpResponseForbidden(str(refused))
        else:
            versions = ", ".join(f"{v['name']} {v['version']}" for v in summary.model_versions)
            messages.success(
                request,
                f"Stored {summary.created} new prediction(s) and replaced {summary.updated} "
                f"({versions}).",
            )
            return redirect("annotator:corpus-predictions-import", slug=corpus.slug)
    return render(
        request,
        "annotator/predictions_import.html",
        {"corpus": corpus, "form": form, "problems": problems},
        status=400 if problems or form.errors else 200,
    )
