"""`manage.py refresh_article_stats`: recount the articles table's figures of corpora."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from annotator.article_stats import refresh_corpus
from annotator.management.corpus_args import add_corpus_arguments, corpora_from


class Command(BaseCommand):
    help = (
        "Recount the per-article figures of the articles table (labels, disputed sentences, "
        "gold coverage, agreement, and the assignment counts) of the corpora named, or of "
        "every corpus with --all. --changed-only recounts just the articles whose labels or "
        "gold changed since they were counted (for a cron job)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_corpus_arguments(parser, verb="recount")
        parser.add_argument(
            "--changed-only", action="store_true", help="Only articles changed since counted."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for corpus in corpora_from(options):
            written = refresh_corpus(corpus=corpus, stale_only=options["changed_only"])
            self.stdout.write(f"{corpus.slug}: recounted {written} article(s)")
