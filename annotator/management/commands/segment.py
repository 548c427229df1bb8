"""`manage.py segment PATH...`: preview sentence splitting as JSON lines, no database.

The reader and the segmenter are imported when the command runs, so `--help` starts at once.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import TYPE_CHECKING

from django.core.management.base import BaseCommand, CommandError

if TYPE_CHECKING:
    from annotator.sources import ArticleData


class Command(BaseCommand):
    help = (
        "Print the sentences the importer would store for each article in PATH (.txt, .jsonl, "
        ".zip or folders), one JSON object per line: path, index, paragraph, start, end, text. "
        "Touches no database."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", help=".txt, .jsonl, .zip files or folders.")

    def handle(self, *args: object, paths: list[str], **options: object) -> None:
        from annotator.importing import limits_from_settings
        from annotator.sources import Problem, SourceReader, expand_paths

        problems: list[Problem] = []
        for item in SourceReader(limits_from_settings()).read(expand_paths(paths)):
            if isinstance(item, Problem):
                problems.append(item)
                continue
            self._print_article(item)
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(problems)} problem(s) found.")

    def _print_article(self, article: ArticleData) -> None:
        from annotator.segmentation import iter_sentences

        path = article.source if article.line is None else f"{article.source}#{article.external_id}"
        text = article.text
        for index, span in enumerate(iter_sentences(text)):
            record = {
                "path": path,
                "index": index,
                "paragraph": span.paragraph,
                "start": span.start,
                "end": span.end,
                "text": text[span.start : span.end],
            }
            self.stdout.write(json.dumps(record, ensure_ascii=False))
