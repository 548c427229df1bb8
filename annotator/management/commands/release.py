"""manage.py release: cut, list, show, download and compare a corpus's dataset releases."""

from __future__ import annotations

import json
import shutil
import sys
from argparse import ArgumentParser, BooleanOptionalAction
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator.models import Corpus, RecordInclusion, Release, ReleaseStatus
from annotator.releases.building import build_release
from annotator.releases.catalog import (
    ReleaseError,
    cut_release,
    default_options,
    open_file,
    release_diff,
)
from annotator.releases.diff import DEFAULT_LIMIT
from annotator.releases.splits import SPLITS


def _share(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a number") from None


class Command(BaseCommand):
    help = (
        "Dataset releases: `cut` a new numbered release of a corpus (built here, or by the "
        "worker with --background), `list` them, `show` one, `download` its files, `diff` two."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        cut = commands.add_parser("cut", help="Cut and build a new release.")
        cut.add_argument("slug", help="Slug of the corpus.")
        cut.add_argument("--note", default="", help="Release note.")
        cut.add_argument(
            "--include",
            choices=RecordInclusion.values,
            help="Which sentences become records (default: as the last release, else "
            "gold_or_majority).",
        )
        cut.add_argument(
            "--context", action=BooleanOptionalAction, help="Add previous/next sentence."
        )
        cut.add_argument(
            "--anonymize", action=BooleanOptionalAction, help="Pseudonymise annotators."
        )
        cut.add_argument("--seed", help="Split seed for articles not yet split.")
        cut.add_argument("--train", type=_share, help="Train share (default 0.8).")
        cut.add_argument("--validation", type=_share, help="Validation share (default 0.1).")
        cut.add_argument("--test", type=_share, help="Test share (default 0.1).")
        cut.add_argument("--license", help="Licence of the data (default other).")
        cut.add_argument("--by", help="Username of the manager cutting it (recorded).")
        cut.add_argument(
            "--background",
            action="store_true",
            help="Queue the build for the worker (manage.py db_worker) instead of building here.",
        )
        listing = commands.add_parser("list", help="List a corpus's releases.")
        listing.add_argument("slug")
        show = commands.add_parser("show", help="Print one release as JSON.")
        show.add_argument("slug")
        show.add_argument("number", type=int)
        download = commands.add_parser("download", help="Copy a release's files to a folder.")
        download.add_argument("slug")
        download.add_argument("number", type=int)
        download.add_argument("folder", help="Folder to write (created if missing).")
        diff = commands.add_parser("diff", help="What changed between two releases (JSON).")
        diff.add_argument("slug")
        diff.add_argument("old", type=int)
        diff.add_argument("new", type=int)
        diff.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="Entries per list.")

    def handle(self, *args: Any, **options: Any) -> None:
        corpus = Corpus.objects.filter(slug=options["slug"]).first()
        if corpus is None:
            raise CommandError(f"No corpus with slug {options['slug']!r}.")
        getattr(self, f"_{options['action']}")(corpus, options)

    def _release(self, corpus: Corpus, number: int) -> Release:
        release = corpus.releases.filter(number=number).first()
        if release is None:
            raise CommandError(f"Corpus {corpus.slug!r} has no release {number}.")
        return release

    def _cut(self, corpus: Corpus, options: dict[str, Any]) -> None:
        defaults = default_options(corpus)
        by = None
        if options["by"]:
            by = get_user_model().objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"No user {options['by']!r}.")
        proportions = dict(defaults.proportions)
        for split in ("train", "validation", "test"):
            if options[split] is not None:
                proportions[split] = options[split]
        chosen = {
            key: options[key] if options[key] is not None else getattr(defaults, key)
            for key in ("include", "context", "anonymize", "seed", "license")
        }
        try:
            release = cut_release(
                corpus=corpus,
                options=type(defaults)(note=options["note"], proportions=proportions, **chosen),
                by=by,
                enqueue=options["background"],
            )
        except ReleaseError as error:
            raise CommandError(str(error)) from None
        if options["background"]:
            self.stdout.write(f"Release {release.number} of {corpus.slug} queued.")
            return
        with tqdm(unit="article", file=sys.stderr, desc=f"release {release.number}") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                release = build_release(release.pk, on_progress=progress)
            except Exception as error:
                raise CommandError(f"Release {release.number} failed: {error}") from error
        counts = release.counts
        splits = ", ".join(f"{s} {n}" for s, n in _in_split_order(counts["records_per_split"]))
        self.stdout.write(
            f"Release {release.number} of {corpus.slug}: {counts['records']} records "
            f"({splits}) of "
            f"{counts['sentences']} sentences, {counts['annotations']} annotations, "
            f"{len(release.files)} files."
        )

    def _list(self, corpus: Corpus, options: dict[str, Any]) -> None:
        for release in corpus.releases.order_by("number"):
            records = release.counts.get("records", "")
            note = release.note.splitlines()[0] if release.note else ""
            self.stdout.write(
                f"{release.number}\t{release.status}\t{release.created_at:%Y-%m-%d %H:%M}\t"
                f"{records}\t{note}"
            )

    def _show(self, corpus: Corpus, options: dict[str, Any]) -> None:
        from annotator.api.releases import ReleaseSerializer

        release = self._release(corpus, options["number"])
        self.stdout.write(json.dumps(ReleaseSerializer(release).data, indent=2, default=str))

    def _download(self, corpus: Corpus, options: dict[str, Any]) -> None:
        release = self._release(corpus, options["number"])
        if release.status != ReleaseStatus.READY:
            raise CommandError(f"Release {release.number} is {release.status}, not ready.")
        folder = Path(options["folder"])
        for entry in release.files:
            target = folder / entry["name"]
            target.parent.mkdir(parents=True, exist_ok=True)
            opened = open_file(release, entry["name"])
            assert opened is not None
            handle, _ = opened
            with handle, target.open("wb") as out:
                shutil.copyfileobj(handle, out)
        self.stdout.write(f"Wrote {len(release.files)} files to {folder}")

    def _diff(self, corpus: Corpus, options: dict[str, Any]) -> None:
        old = self._release(corpus, options["old"])
        new = self._release(corpus, options["new"])
        try:
            result = release_diff(old, new, limit=options["limit"])
        except ReleaseError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))


def _in_split_order(per_split: dict[str, int]) -> list[tuple[str, int]]:
    # jsonb keeps keys in its own order, not the order they were written in.
    return [(split, per_split[split]) for split in SPLITS if split in per_split]
