"""`manage.py agreement`: agreement of a ratings file or of a corpus, as one JSON object."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotator.agreement import LEVELS, summarize
from annotator.curating import CurationError, resolve_unit
from annotator.models import Corpus, Layer
from annotator.rating_files import RatingFileError, parse_order, read_ratings_file
from annotator.statistics import corpus_statistics


class Command(BaseCommand):
    help = (
        "Print inter-annotator agreement as one JSON object: of a CSV/JSONL file with unit, "
        "annotator and label fields (--ratings FILE), or of a corpus's stored annotations "
        "(--corpus SLUG [--layer claim_type|stance] [--target NAME])."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--ratings", metavar="FILE", help="CSV with a header, or JSONL.")
        source.add_argument("--corpus", metavar="SLUG", help="A corpus's stored annotations.")
        parser.add_argument("--level", choices=LEVELS, help="Default: nominal (file); per layer.")
        parser.add_argument(
            "--order", metavar="A,B,C", help="Category order, lowest first (file, ordinal)."
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
        if options["target"]:
            raise CommandError("--target only applies with --corpus")
        try:
            ratings = read_ratings_file(options["ratings"], progress=sys.stderr.isatty())
        except RatingFileError as error:
            raise CommandError(str(error)) from None
        order = None
        if options["order"]:
            order = parse_order(options["order"], [label for _, _, label in ratings])
        try:
            summary = summarize(
                ratings,
                level=options["level"] or "nominal",
                order=order,
                replicates=options["replicates"],
                seed=options["seed"],
            )
        except ValueError as error:
            raise CommandError(f"{options['ratings']}: {error}") from None
        result = summary.to_dict()
        # Per-unit shares are one row per unit: too long for a summary on a terminal.
        del result["per_unit"]
        return result

    def from_corpus(self, options: dict[str, Any]) -> dict[str, Any]:
        if options["order"]:
            raise CommandError("--order applies to files; a corpus orders by its schema")
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
