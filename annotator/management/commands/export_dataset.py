"""manage.py export_dataset SLUG: the API's dataset export, written to a file or stdout."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from contextlib import ExitStack
from datetime import datetime
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import get_current_timezone, is_naive, make_aware
from tqdm import tqdm

from annotator.export_queries import ExportRequest, dataset_card, iter_chunks, stream_export
from annotator.models import Corpus, Layer


def _datetime(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"{value!r} is not an ISO 8601 date or date-time") from None
    return make_aware(parsed, get_current_timezone()) if is_naive(parsed) else parsed


class Command(BaseCommand):
    help = (
        "Export a corpus as JSONL or CSV: one record per sentence (or per annotation with "
        "--long), or its dataset card with --card."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="Slug of the corpus.")
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument(
            "--long", action="store_true", help="One row per annotation instead of per sentence."
        )
        parser.add_argument("--layer", choices=Layer.values, help="Only this layer.")
        parser.add_argument("--anonymize", action="store_true", help="Pseudonymise annotators.")
        parser.add_argument("--only-gold", action="store_true", help="Sentences with gold only.")
        parser.add_argument(
            "--only-complete", action="store_true", help="Articles every annotator finished."
        )
        parser.add_argument("--since", type=_datetime, help="Annotations changed from (ISO).")
        parser.add_argument("--until", type=_datetime, help="Annotations changed before (ISO).")
        parser.add_argument("--card", action="store_true", help="Print the dataset card (JSON).")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        corpus = Corpus.objects.filter(slug=options["slug"]).first()
        if corpus is None:
            raise CommandError(f"No corpus with slug {options['slug']!r}.")
        if options["since"] and options["until"] and options["since"] >= options["until"]:
            raise CommandError("--until must be after --since.")
        with ExitStack() as stack:
            out = stack.enter_context(open(options["output"], "wb")) if options["output"] else None
            if options["card"]:
                card = json.dumps(dataset_card(corpus), indent=2, ensure_ascii=False) + "\n"
                if out is not None:
                    out.write(card.encode("utf-8"))
                else:
                    self.stdout.write(card, ending="")
                return
            self._export(corpus, options, out)
        if options["output"]:
            self.stderr.write(f"Wrote {options['output']}")

    def _export(self, corpus: Corpus, options: dict[str, Any], out: BinaryIO | None) -> None:
        request = ExportRequest(
            encoding=options["format"],
            shape="long" if options["long"] else "wide",
            layer=options["layer"],
            anonymize=options["anonymize"],
            only_gold=options["only_gold"],
            only_complete=options["only_complete"],
            since=options["since"],
            until=options["until"],
        )
        # The bar counts articles on stderr, and only when the dataset goes to a file.
        with tqdm(
            total=corpus.articles.count(), unit="article", file=sys.stderr, disable=out is None
        ) as bar:
            chunks = _counted(iter_chunks(corpus, request), bar)
            for piece in stream_export(corpus, request, chunks=chunks):
                if out is not None:
                    out.write(piece)
                else:
                    self.stdout.write(piece.decode("utf-8"), ending="")


def _counted(chunks: Any, bar: tqdm) -> Any:
    for chunk in chunks:
        bar.update(len(chunk.articles))
        yield chunk
