"""Whole-table snapshots, so a hostile request can be shown to have changed no row at all."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from annotator.models import (
    Annotation,
    AnnotationHistory,
    ApiToken,
    Article,
    Assignment,
    Corpus,
    GoldLabel,
    ImportJob,
    LabelChoice,
    Membership,
    Sentence,
    SentenceNote,
    StanceTarget,
)

MODELS = (
    Corpus,
    LabelChoice,
    StanceTarget,
    Membership,
    Article,
    Sentence,
    Annotation,
    AnnotationHistory,
    SentenceNote,
    Assignment,
    GoldLabel,
    ImportJob,
    ApiToken,
)


def snapshot() -> dict[str, list[dict[str, object]]]:
    """Every row of every annotator table and of the users, in id order.

    `last_used_at` of tokens and `last_login` of users are left out: using a token or signing in
    legitimately touches them.
    """
    tables: dict[str, list[dict[str, object]]] = {}
    for model in MODELS:
        rows = list(model.objects.order_by("pk").values())
        if model is ApiToken:
            for row in rows:
                row.pop("last_used_at")
        tables[model.__name__] = rows
    tables["User"] = list(get_user_model().objects.order_by("pk").values())
    for row in tables["User"]:
        row.pop("last_login", None)
    return tables
