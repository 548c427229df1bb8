"""The corpora a maintenance command works on: slugs named on the command line, or --all."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from annotator.models import Corpus


def add_corpus_arguments(parser: ArgumentParser, *, verb: str) -> None:
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help=f"Corpora to {verb}.")
    parser.add_argument("--all", action="store_true", help="Every corpus.")


def corpora_from(options: dict[str, Any]) -> list[Corpus]:
    """The corpora named (in that order) or, with --all, every corpus by slug; exactly one of
    the two must be given, and every slug must name a corpus."""
    slugs = options["slugs"]
    if options["all"] == bool(slugs):
        raise CommandError("name one or more corpora by slug, or pass --all")
    if options["all"]:
        return list(Corpus.objects.order_by("slug"))
    corpora = []
    for slug in slugs:
        corpus = Corpus.objects.filter(slug=slug).first()
        if corpus is None:
            raise CommandError(f"no corpus with slug {slug!r}")
        corpora.append(corpus)
    return corpora
