"""Releases as the pages, the API and the command see them: who may cut and read them, the
options, cutting one (numbering and queueing its build), opening its stored files, and the diff
between two. Light on purpose: web processes import this and not `building` (pyarrow and
pandas, about 80 MB a process); pyarrow loads only where a diff reads its snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotator.models import Corpus, RecordInclusion, Release, ReleaseStatus, Role
from annotator.releases.diff import DEFAULT_LIMIT
from annotator.releases.splits import DEFAULT_PROPORTIONS, validate_proportions

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Who may do what: managers cut releases; managers and curators read and download them, as
# they may export the corpus (a release holds every annotator's labels).
CUT_ROLES = Role.MANAGERS
READ_ROLES = Role.REVIEWERS
CONTENT_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".gz": "application/gzip",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
}


class ReleaseError(Exception):
    """A release that may not be cut (role, options); the message says why."""


@dataclass(frozen=True)
class ReleaseOptions:
    note: str = ""
    include: str = RecordInclusion.GOLD_OR_MAJORITY
    context: bool = False
    anonymize: bool = True
    seed: str = "0"
    proportions: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PROPORTIONS))
    license: str = "other"


def may_cut(user: User | AnonymousUser, corpus: Corpus) -> bool:
    return corpus.role_of(user) in CUT_ROLES


def may_read(user: User | AnonymousUser, corpus: Corpus) -> bool:
    return corpus.role_of(user) in READ_ROLES


def default_options(corpus: Corpus) -> ReleaseOptions:
    """The options of the corpus's latest release (so splits stay configured), else defaults."""
    last = corpus.releases.order_by("-number").first()
    if last is None:
        return ReleaseOptions()
    return ReleaseOptions(
        include=last.include,
        context=last.context,
        anonymize=last.anonymize,
        seed=last.seed,
        proportions=last.proportions,
        license=last.license,
    )


def validate_options(options: ReleaseOptions) -> ReleaseOptions:
    if options.include not in RecordInclusion.values:
        raise ReleaseError(
            f"include must be one of {', '.join(RecordInclusion.values)}, not {options.include!r}"
        )
    try:
        proportions = validate_proportions(options.proportions)
    except ValueError as error:
        raise ReleaseError(f"Split proportions: {error}.") from None
    if not options.seed.strip() or len(options.seed) > 100:
        raise ReleaseError("The split seed must be 1 to 100 characters.")
    if not options.license.strip() or len(options.license) > 100:
        raise ReleaseError("The licence must be 1 to 100 characters (e.g. cc-by-4.0, other).")
    return replace(options, proportions=proportions, seed=options.seed.strip())


def cut_release(
    *,
    corpus: Corpus,
    options: ReleaseOptions,
    by: User | None = None,
    enqueue: bool = True,
) -> Release:
    """Number a new release of `corpus` and queue its build (unless `enqueue` is False).

    `by` is the person cutting it and must manage the corpus; None is the command line.
    """
    if by is not None and not may_cut(by, corpus):
        raise ReleaseError(f"Only managers of corpus {corpus.slug!r} may cut a release.")
    options = validate_options(options)
    with transaction.atomic():
        # The corpus row lock numbers concurrent cuts one after the other.
        Corpus.objects.select_for_update().filter(pk=corpus.pk).first()
        last = corpus.releases.aggregate(last=Max("number"))["last"] or 0
        release = Release.objects.create(
            corpus=corpus,
            number=last + 1,
            note=options.note.strip(),
            created_by=by,
            include=options.include,
            context=options.context,
            anonymize=options.anonymize,
            seed=options.seed,
            train=options.proportions["train"],
            validation=options.proportions["validation"],
            test=options.proportions["test"],
            license=options.license.strip(),
        )
    if enqueue:
        from annotator.releases.tasks import build_release_task

        build_release_task.enqueue(release.pk)
    return release


def release_storage() -> Storage:
    return storages["releases"]


def fail_lost_build(release_id: int, *, reason: str) -> bool:
    """The worker building `release_id` is gone: whatever the build had moved into the
    storage is removed and the release ends failed with `reason` (a new cut builds it
    afresh). False when it had finished meanwhile.

    Failed first, by one conditional update, and only then cleaned: a build that finished
    after all (its worker was slow, not gone) is left ready with its files."""
    failed = Release.objects.filter(
        pk=release_id, status__in=(ReleaseStatus.QUEUED, ReleaseStatus.BUILDING)
    ).update(
        status=ReleaseStatus.FAILED,
        finished_at=timezone.now(),
        error=f"The background worker building this release stopped: {reason}. "
        "Cut a new release to build it again.",
    )
    if not failed:
        return False
    release = Release.objects.select_related("corpus").get(pk=release_id)
    _delete_tree(release_storage(), f"{release.corpus.slug}/{release.number}")
    return True


def _delete_tree(storage: Storage, folder: str) -> None:
    if not storage.exists(folder):
        return
    folders, files = storage.listdir(folder)
    for name in files:
        storage.delete(f"{folder}/{name}")
    for name in folders:
        _delete_tree(storage, f"{folder}/{name}")


def open_file(release: Release, name: str) -> tuple[IO[bytes], dict[str, Any]] | None:
    """A ready release's file by its name in the release, opened from the storage."""
    if release.status != ReleaseStatus.READY:
        return None
    entry = release.file(name)
    if entry is None:
        return None
    path = entry["path"]
    assert isinstance(path, str)  # the manifest names every file by its storage path
    return release_storage().open(path, "rb"), entry


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


def release_diff(old: Release, new: Release, *, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """What changed from release `old` to release `new` (both ready, same corpus)."""
    import pyarrow.parquet as pq

    from annotator.releases.diff import diff_snapshots

    if old.corpus_id != new.corpus_id:
        raise ReleaseError("Releases of different corpora cannot be compared.")
    tables = []
    for release in (old, new):
        opened = open_file(release, "snapshot.parquet")
        if opened is None:
            raise ReleaseError(f"Release {release.number} is not ready.")
        handle, _ = opened
        with handle:
            tables.append(pq.read_table(handle))
    result = diff_snapshots(*tables, limit=limit)
    return {"from": old.number, "to": new.number, **result}
