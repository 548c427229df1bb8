"""`manage.py import_predictions SLUG FILE.jsonl...`: store external predictions, all or none."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator.assisting import (
    PredictionRecord,
    PredictionsRejected,
    import_predictions,
    read_jsonl,
)
from annotator.models import Corpus


class Command(BaseCommand):
    help = (
        "Import a model's predictions from JSONL files, one record a line: sentence (id) or "
        "article (external id) and sentence_index, layer, target (stance target slug), label, "
        "score, optional probabilities, model, model_version. All or nothing: any bad line is "
        "reported with its file, line, field and reason, and nothing is stored."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="The corpus's slug.")
        parser.add_argument("paths", nargs="+", help="JSONL files.")

    def handle(self, *args: object, slug: str, paths: list[str], **options: object) -> None:
        corpus = Corpus.objects.filter(slug=slug).first()
        if corpus is None:
            raise CommandError(f"No corpus with slug {slug!r}.")
        for path in paths:
            if not Path(path).is_file():
                raise CommandError(f"No file {path!r}.")
        records = list(self._records(paths))
        with tqdm(
            total=len(records), unit=" predictions", desc="Storing", file=self.stderr._out
        ) as bar:
            try:
                summary = import_predictions(
                    corpus=corpus,
                    records=records,
                    by=None,
                    on_progress=lambda done: bar.update(done - bar.n),
                )
            except PredictionsRejected as rejected:
                bar.close()
                self.stdout.write(
                    f"Rejected ({len(rejected.problems)} bad line(s)), so nothing was imported:"
                )
                for problem in rejected.problems:
                    self.stdout.write(f"  {problem}")
                raise CommandError(
                    f"{len(rejected.problems)} bad line(s); nothing was imported."
                ) from None
        for version in summary.model_versions:
            self.stdout.write(
                f"{version['name']} {version['version']} ({version['layer']}"
                f"{', target ' + str(version['target']) if version['target'] else ''}): "
                f"{version['predictions']} prediction(s)"
            )
        self.stdout.write(
            f"Stored {summary.created} new prediction(s), replaced {summary.updated}."
        )

    def _records(self, paths: list[str]) -> Iterator[PredictionRecord]:
        for path in paths:
            with open(path, "rb") as lines:
                yield from read_jsonl(lines, source=path, max_lines=None)
