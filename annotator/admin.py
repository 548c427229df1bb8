"""Admin registrations (the import helper expands these with counts and upload)."""

from __future__ import annotations

from django.contrib import admin

from annotator import models

for model in (
    models.Corpus,
    models.StanceTarget,
    models.LabelChoice,
    models.Membership,
    models.Article,
    models.Sentence,
    models.Annotation,
    models.AnnotationHistory,
    models.SentenceNote,
    models.Assignment,
    models.GoldLabel,
    models.ImportJob,
    models.ApiToken,
):
    admin.site.register(model)
