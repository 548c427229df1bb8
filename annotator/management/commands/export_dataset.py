"""manage.py export_dataset SLUG: the API's dataset export, written to a file or stdout.

Its export options are the API's, flag for flag (annotator/export_options.py builds them from
the API's serializer and validates them with it), so a command and an API call with the same
options write the same bytes.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from contextlib import ExitStack
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator.export_options import (
    ExportOptionsInvalid,
    add_command_arguments,
    command_flag,
    export_request,
    options_from_arguments,
)
from annotator.export_queries import ExportRequest, dataset_card, iter_chunks, stream_export
from annotator.models import Corpus


class Command(BaseCommand):
    help = (
        "Export a corpus as JSONL or CSV: one record per sentence (or per annotation with "
        "--shape long), or its dataset card with --card. The options are the API's."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="Slug of the corpus.")
        add_command_arguments(parser)
        parser.add_argument(
            "--long",
            action="store_const",
            const="long",
            dest="shape",
            help="Same as --shape long.",
        )
        parser.add_argument("--card", action="store_true", help="Print the dataset card (JSON).")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        corpus = Corpus.objects.filter(slug=options["slug"]).first()
        if corpus is None:
            raise CommandError(f"No corpus with slug {options['slug']!r}.")
        try:
            request = export_request(options_from_arguments(options))
        except ExportOptionsInvalid as invalid:
            raise CommandError(
                "; ".join(
                    f"{command_flag(name)}: {' '.join(messages)}"
                    for name, messages in invalid.errors.items()
                )
            ) from None
        with ExitStack() as stack:
            out = stack.enter_context(open(options["output"], "wb")) if options["output"] else None
            if options["card"]:
                card = json.dumps(dataset_card(corpus), indent=2, ensure_ascii=False) + "\n"
                if out is not None:
                    out.write(card.encode("utf-8"))
                else:
                    self.stdout.write(card, ending="")
                return
            self._export(corpus, request, out)
        if options["output"]:
            self.stderr.write(f"Wrote {options['output']}")

    def _export(self, corpus: Corpus, request: ExportRequest, out: BinaryIO | None) -> None:
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
