"""App configuration."""

from __future__ import annotations

from django.apps import AppConfig


class AnnotatorConfig(AppConfig):
    name = "annotator"
    verbose_name = "Claim and stance annotation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # API tokens follow their user's password hash when Django upgrades it (tokens.py).
        from annotator.tokens import connect_signals

        connect_signals()
