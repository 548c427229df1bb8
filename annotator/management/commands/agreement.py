"""`manage.py agreement`: agreement of a ratings file or of a corpus, as one JSON object.

The statistics modules (NumPy) are imported when the command runs, not when Django lists or
describes commands, so `manage.py agreement --help` starts as fast as Django does.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotator.models import Layer

# annotator.agreement.LEVELS, written out so that --help needs no NumPy;
# tests/test_agreement_command.py checks that the two lists agree.
LEVELS = ("nominal", "ordinal", "interval", "ratio")


class Command(BaseCommand):
    help = (
        "Print inter-annotator agreement as one JSON object: of a CSV/JSONL file with unit, "
        "annotator and label fields (--ratings FILE), or of a corpus's stored annotations "
        "(--corpus SLUG [--layer claim_type|stance] [--target NAME])."
    )
    # A read-only report: it needs neither the URL configuration nor the admin that the
    # system checks would import (a second of start-up); `manage.py check` runs them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--ratings", metavar="FILE", help="CSV with a header, or JSONL.")
        source.add_argument("--corpus", metavar="SLUG", help="A corpus's stored annotations.")
        parser.add_argument(
            "--level",
            choices=LEVELS,
            help="Default: nominal (file); per layer (corpus). ratio needs numbers of at least 0.",
        )
        parser.add_argument(
            "--order", metavar="A,B,C", help="Category order, lowest first (file, ordinal)."
        )
        parser.add_argument(
            "--missing",
            choices=("error", "drop"),
            default="error",
            help=(
                "A label NaN, None, NA, null or empty (any case) is refused with its line "
                "(error, the default), or its row is left out and counted (drop). File only."
            ),
        )
        parser.add_argument("--layer", choices=Layer.values, default=Layer.CLAIM_TYPE)
        parser.add_argument("--target", metavar="NAME", help="Stance target (default: first).")
        parser.add_argument("--replicates", type=int, default=1000, help="Bootstrap replicates.")
        parser.add_argument("--seed", type=int, default=0, help="Bootstrap seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["replicates"] < 1:
            raise CommandError("--replicates must be at least 1")
        result = self.from_file(options) if options["ratings"] else self.from_corpus(options)
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def from_file(self, options: dict[str, Any]) -> dict[str, Any]:
        from annotator.agreement import summarize
        from annotator.rating_files import (
            MissingLabelError,
            RatingFileError,
            parse_order,
            read_ratings_file,
        )

        if options["target"]:
            raise CommandError("--target only applies with --corpus")
        try:
            read = read_ratings_file(options["ratings"], missing=options["missing"])
        except MissingLabelError as error:
            raise CommandError(
                f"{error}; leave the row out, or pass --missing drop to drop such rows and "
                "count them"
            ) from None
        except RatingFileError as error:
            raise CommandError(str(error)) from None
        order = None
        if options["order"]:
            order = parse_order(options["order"], read.ratings.labels)
        try:
            summary = summarize(
                read.ratings,
                level=options["level"] or "nominal",
                order=order,
                replicates=options["replicates"],
                seed=options["seed"],
                # One row per unit: too long for a summary on a terminal.
                per_unit=False,
            )
        except ValueError as error:
            raise CommandError(f"{options['ratings']}: {error}") from None
        result = summary.to_dict()
        del result["per_unit"]
        return {**result, "n_missing_dropped": read.n_missing_dropped}

    def from_corpus(self, options: dict[str, Any]) -> dict[str, Any]:
        from annotator.curating import CurationError, resolve_unit
        from annotator.models import Corpus
        from annotator.statistics import corpus_statistics

        if options["order"]:
            raise CommandError("--order applies to files; a corpus orders by its schema")
        if options["missing"] != "error":
            raise CommandError("--missing applies to files; a corpus stores no missing labels")
        corpus = Corpus.objects.filter(slug=options["corpus"]).first()
        if corpus is None:
            raise CommandError(f"no corpus with slug {options['corpus']!r}")
        target_id = None
        if options["target"]:
            if options["layer"] != Layer.STANCE:
                raise CommandError("--target needs --layer stance")
            target = corpus.stance_targets.filter(name=options["target"]).first()
            if target is None:
                names = ", ".join(corpus.stance_targets.values_list("name", flat=True))
                raise CommandError(
                    f"corpus {corpus.slug!r} has no stance target {options['target']!r}; "
                    f"targets: {names or 'none'}"
                )
            target_id = target.pk
        try:
            unit = resolve_unit(corpus, layer=options["layer"], target_id=target_id)
        except CurationError as error:
            raise CommandError(str(error)) from None
        statistics = corpus_statistics(
            corpus,
            level=options["level"],
            replicates=options["replicates"],
            seed=options["seed"],
            units=[unit],
        )
        return {"corpus": corpus.slug, **statistics["layers"][0]}
