"""The export page: managers and curators choose the options, download the export, and read the
API call and the command that give the same file.

Everything about the options comes from annotator/export_options.py (the API's serializer), so
the page offers exactly what the API and `manage.py export_dataset` accept, validated by the
same code; the download is the API's own response (`export_queries.export_response`). The form
is a plain GET form: *Show the API call and command* reloads the page with the options, and
htmx swaps in the new commands as soon as an option changes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from rest_framework import serializers

from annotator.export_options import (
    ExportOptionsInvalid,
    export_command,
    export_query,
    export_request,
    file_name,
    option_fields,
)
from annotator.export_queries import ExportRequest, export_response
from annotator.middleware import not_activity
from annotator.models import Corpus
from annotator.request_types import AuthenticatedRequest
from annotator.views.statistics import curated_corpus

TOKEN_PLACEHOLDER = "<your token>"


@dataclass
class Control:
    """One option as the form shows it."""

    name: str
    label: str
    help: str
    kind: str  # "choice", "switch" or "datetime"
    value: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _chosen(query: QueryDict) -> dict[str, str]:
    """The options the form sent; an empty field is an option left out, as in a form."""
    return {name: value for name in option_fields() if (value := query.get(name, ""))}


def _controls(
    chosen: dict[str, str], export: ExportRequest | None, errors: dict[str, list[str]]
) -> list[Control]:
    controls = []
    for name, option in option_fields().items():
        raw = chosen.get(name, "")
        control = Control(
            name=name,
            label=str(option.label or name.replace("_", " ").capitalize()),
            help=str(option.help_text or ""),
            kind="choice",
            errors=errors.get(name, []),
        )
        if isinstance(option, serializers.BooleanField):
            control.kind = "switch"
            control.value = "1" if raw in serializers.BooleanField.TRUE_VALUES else ""
        elif isinstance(option, serializers.ChoiceField):
            control.choices = [(str(key), str(text)) for key, text in option.choices.items()]
            # An option with no default (the layer) may be left out: "All".
            default = option.default if isinstance(option.default, str) else ""
            if not default:
                control.choices.insert(0, ("", "All"))
            control.value = raw or default
        elif isinstance(option, serializers.DateTimeField):
            control.kind = "datetime"
            control.value = _local_input(getattr(export, name, None)) if export else raw
        controls.append(control)
    return controls


def _local_input(value: datetime | None) -> str:
    """A time as a datetime-local input shows it: in the site's time zone, no offset."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


def _export_context(request: AuthenticatedRequest, corpus: Corpus) -> tuple[dict[str, Any], bool]:
    chosen = _chosen(request.GET)
    errors: dict[str, list[str]] = {}
    export: ExportRequest | None = None
    try:
        export = export_request(chosen)
    except ExportOptionsInvalid as invalid:
        errors = invalid.errors
    context: dict[str, Any] = {
        "corpus": corpus,
        "controls": _controls(chosen, export, errors),
        "errors": errors,
        "time_zone": timezone.get_current_timezone_name(),
    }
    if export is not None:
        query = export_query(export)
        suffix = f"?{urlencode(query)}" if query else ""
        api_url = request.build_absolute_uri(
            reverse("corpus-export", kwargs={"slug": corpus.slug}) + suffix
        )
        name = file_name(corpus.slug, export)
        context |= {
            "curl": shlex.join(
                ["curl", "-sS", "-H", f"Authorization: Bearer {TOKEN_PLACEHOLDER}"]
                + ["-o", name, api_url]
            ),
            "command": export_command(corpus.slug, export, output=name),
            "download_url": reverse("annotator:corpus-export-download", args=[corpus.slug])
            + suffix,
        }
    return context, export is not None


@login_required
@require_GET
def corpus_export(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The options form with the API call and command for the options chosen; htmx asks for
    the commands alone whenever an option changes."""
    corpus = curated_corpus(request, slug)
    context, valid = _export_context(request, corpus)
    status = 200 if valid else 400
    if request.htmx:
        return render(request, "annotator/_export_commands.html", context, status=status)
    return render(request, "annotator/export.html", context, status=status)


@not_activity
@login_required
@require_GET
def corpus_export_download(request: AuthenticatedRequest, slug: str) -> HttpResponseBase:
    """The export itself, streamed exactly as the API streams it; invalid options show the
    page again with the reasons. Not counted as people using the site: the export would
    otherwise slow itself down."""
    corpus = curated_corpus(request, slug)
    try:
        export = export_request(_chosen(request.GET))
    except ExportOptionsInvalid:
        context, _ = _export_context(request, corpus)
        return render(request, "annotator/export.html", context, status=400)
    return export_response(corpus, export)
