"""`manage.py import_corpus SLUG PATH... [--create]`: import articles with a progress bar."""

from __future__ import annotations

from argparse import ArgumentParser, ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from annotator.importing import ImportRejected, ImportSummary, import_articles
from annotator.middleware import site_activity
from annotator.models import Corpus
from annotator.throttling import parse_fraction


class Command(BaseCommand):
    help = (
        "Import .txt files, folders of them, .zip archives and .jsonl files (one article per "
        "line: id, text, optional title, url, metadata) into a corpus. All or nothing: if any "
        "file or line is rejected, nothing is written. Articles already present are skipped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="The corpus's slug.")
        parser.add_argument("paths", nargs="+", help=".txt, .jsonl, .zip files or folders.")
        parser.add_argument(
            "--create", action="store_true", help="Create the corpus if it does not exist."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Segmenting processes (default: one per CPU for big PostgreSQL imports).",
        )
        parser.add_argument(
            "--duty-cycle",
            type=duty_cycle,
            default=1.0,
            help=(
                "Share of wall-clock time the import may spend working, database time included, "
                "while people are using the site on this machine (default 1: full speed). E.g. "
                "0.5 rests as long as it works whenever someone is annotating."
            ),
        )

    def handle(
        self,
        *args: object,
        slug: str,
        paths: list[str],
        create: bool,
        workers: int | None,
        duty_cycle: float,
        **options: object,
    ) -> None:
        corpus, created = self._corpus(slug, create=create)
        try:
            self._import(corpus, paths, workers=workers, duty_cycle=duty_cycle)
        except BaseException:
            if created:
                # Nothing was imported into it: leave no empty corpus behind a failed run.
                corpus.delete()
                self.stdout.write(f"Removed corpus {slug!r}, created for this import.")
            raise

    def _import(
        self, corpus: Corpus, paths: list[str], *, workers: int | None, duty_cycle: float
    ) -> None:
        with tqdm(total=0, unit=" articles", desc="Importing", file=self.stderr._out) as bar:

            def progress(processed: int, total: int) -> None:
                if bar.total != total:
                    bar.total = total
                    bar.refresh()
                bar.update(processed - bar.n)

            try:
                summary = import_articles(
                    corpus=corpus,
                    sources=paths,
                    on_progress=progress,
                    workers=workers,
                    duty_cycle=duty_cycle,
                    busy=site_activity().recently_active,
                )
            except ImportRejected as rejected:
                bar.close()
                self._print_summary(rejected.summary)
                raise CommandError(
                    f"{len(rejected.problems)} problem(s) found; nothing was imported."
                ) from None
        self._print_summary(summary)

    def _corpus(self, slug: str, *, create: bool) -> tuple[Corpus, bool]:
        """The corpus, and whether this run created it."""
        corpus = Corpus.objects.filter(slug=slug).first()
        if corpus is not None:
            return corpus, False
        if not create:
            raise CommandError(f"No corpus with slug {slug!r}; pass --create to create it.")
        with transaction.atomic():
            corpus = Corpus.objects.create(slug=slug, name=slug)
            corpus.ensure_default_schema()
        self.stdout.write(f"Created corpus {slug!r}.")
        return corpus, True

    def _print_summary(self, summary: ImportSummary) -> None:
        if summary.rejected:
            self.stdout.write(f"Rejected ({len(summary.rejected)}), so nothing was imported:")
            for problem in summary.rejected:
                self.stdout.write(f"  {problem}")
            return
        self.stdout.write(
            f"Imported {summary.imported} article(s) ({summary.sentences} sentences); "
            f"skipped {summary.skipped} already present; rejected 0."
        )


def duty_cycle(raw: str) -> float:
    try:
        return parse_fraction(raw)
    except ValueError as error:
        raise ArgumentTypeError(str(error)) from None
