"""`manage.py refresh_article_stats`: recount the articles table's figures of corpora."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotator.article_stats import refresh_corpus
from annotator.models import Corpus


class Command(BaseCommand):
    help = (
        "Recount the per-article figures of the articles table (labels, disputed sentences, "
        "gold coverage, agreement, and the assignment counts) of the corpora named, or of "
        "every corpus with --all. --changed-only recounts just the articles whose labels or "
        "gold changed since they were counted (for a cron job)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="Corpora to recount.")
        parser.add_argument("--all", action="store_true", help="Every corpus.")
        parser.add_argument(
            "--changed-only", action="store_true", help="Only articles changed since counted."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slugs = options["slugs"]
        if options["all"] == bool(slugs):
            raise CommandError("name one or more corpora by slug, or pass --all")
        corpora = list(Corpus.objects.order_by("slug") if options["all"] else [])
        for slug in slugs:
            corpus = Corpus.objects.filter(slug=slug).first()
            if corpus is None:
                raise CommandError(f"no corpus with slug {slug!r}")
            corpora.append(corpus)
        for corpus in corpora:
            written = refresh_corpus(corpus=corpus, stale_only=options["changed_only"])
            self.stdout.write(f"{corpus.slug}: recounted {written} article(s)")
