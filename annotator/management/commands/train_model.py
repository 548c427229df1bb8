"""`manage.py train_model SLUG [--layer claim_type|stance] [--target SLUG] [--now]`."""

from __future__ import annotations

from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from annotator.assisting import request_training, train_model_version, units_of
from annotator.models import Corpus, ModelStatus, ModelVersion


class Command(BaseCommand):
    help = (
        "Train a new baseline model version of each layer (claim type; stance per target) of a "
        "corpus from its confirmed gold labels, else its annotators' majority labels. Queued "
        "for the background worker unless --now trains here and waits."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="The corpus's slug.")
        parser.add_argument("--layer", choices=["claim_type", "stance"], help="Only this layer.")
        parser.add_argument("--target", help="Only this stance target (its slug).")
        parser.add_argument(
            "--now", action="store_true", help="Train in this process instead of the worker."
        )

    def handle(self, *args: object, slug: str, **options: object) -> None:
        corpus = Corpus.objects.filter(slug=slug).first()
        if corpus is None:
            raise CommandError(f"No corpus with slug {slug!r}.")
        units = [
            unit
            for unit in units_of(corpus)
            if options["layer"] in (None, unit.layer)
            and options["target"] in (None, unit.target.slug if unit.target else None)
        ]
        if not units:
            raise CommandError("No layer of this corpus matches --layer and --target.")
        for unit in units:
            version = request_training(corpus=corpus, unit=unit)
            if options["now"] and version.status == ModelStatus.QUEUED:
                train_model_version(version.pk)
            version = ModelVersion.objects.defer("model_bytes").get(pk=version.pk)
            line = f"{unit.label}: version {version.number} {version.status}"
            if version.status == ModelStatus.DONE:
                scores = version.scores
                line += (
                    f", macro-F1 {scores['macro_f1']:.3f} "
                    f"(majority baseline {scores['majority_macro_f1']:.3f})"
                )
            elif version.error:
                line += f": {version.error}"
            self.stdout.write(line)
