"""`manage.py suggest_zones SLUG... | --all`: zone suggestions for sentences stored before zones."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from annotator.management.corpus_args import add_corpus_arguments, corpora_from
from annotator.resegmenting import suggest_missing_zones


class Command(BaseCommand):
    help = (
        "Suggest a zone (article text, page furniture, reader comments) for every sentence "
        "stored before zones existed, as an import does now, in the corpora named or in every "
        "corpus with --all. Confirmed zones stay; nothing is confirmed or excluded: managers "
        "review the suggestions on the corpus's Zones page. Running it again changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_corpus_arguments(parser, verb="go through")

    def handle(self, *args: Any, **options: Any) -> None:
        for corpus in corpora_from(options):
            with tqdm(total=0, unit=" articles", desc=corpus.slug, file=self.stderr._out) as bar:

                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                result = suggest_missing_zones(corpus=corpus, on_progress=progress)
            self.stdout.write(
                f"{corpus.slug}: suggested zones for {result.sentences} sentence(s) in "
                f"{result.articles} article(s)"
            )
            for article_id, reason in result.refused:
                self.stdout.write(f"  article {article_id} left as it was: {reason}")
