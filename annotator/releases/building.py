"""Building releases from the database into the release storage.

`catalog.cut_release` (web page, API and `manage.py release cut` all call it) numbers a new
release and queues it; `build_release` (the background task, or the command directly) reads
the corpus in one consistent snapshot, writes every file through the pure modules of this
package into a scratch folder, and moves the files into `STORAGES["releases"]`. Only then is
the release marked ready, with the snapshot's facts; after that nothing about it changes.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import Storage
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from annotator.export_queries import pseudonym_key
from annotator.models import (
    Annotation,
    Article,
    ArticleSplit,
    Corpus,
    GoldLabel,
    Layer,
    Release,
    ReleaseStatus,
    Sentence,
)
from annotator.releases import card as cards
from annotator.releases.catalog import release_storage
from annotator.releases.files import FileInfo, ReleaseWriter, describe, features
from annotator.releases.records import (
    ANNOTATION_FIELDS,
    ARTICLE_FIELDS,
    GOLD_FIELDS,
    SENTENCE_FIELDS,
    RecordBuilder,
    RecordOptions,
    ReleaseChunk,
    ReleaseSchema,
)
from annotator.releases.splits import SPLITS

if TYPE_CHECKING:
    from annotator.releases.records import Include

# Sentences per chunk read from the database: larger than the export's, as a build runs in
# the background and fewer, larger batches make bigger Parquet row groups at fewer queries.
CHUNK_SIZE = 5000
# Bootstrap resamples of the agreement intervals recorded with a release (as on the page).
REPLICATES = 1000
# Advisory lock namespace: one build per corpus at a time ("RELE" in ASCII, shifted).
_LOCK_NAMESPACE = 0x52454C45 << 32


def release_schema(corpus: Corpus) -> tuple[ReleaseSchema, dict[str, str]]:
    """The corpus's label schema as the pure code needs it, and choice display names."""
    choices = list(
        corpus.choices.order_by("layer", "order", "id").values_list("layer", "value", "name", "id")
    )
    schema = ReleaseSchema(
        corpus=corpus.slug,
        schema_version=corpus.schema_version,
        claim_types=tuple(value for layer, value, _, _ in choices if layer == Layer.CLAIM_TYPE),
        stances=tuple(value for layer, value, _, _ in choices if layer == Layer.STANCE),
        claim_ids=tuple(pk for layer, _, _, pk in choices if layer == Layer.CLAIM_TYPE),
        stance_ids=tuple(pk for layer, _, _, pk in choices if layer == Layer.STANCE),
        targets=tuple(
            corpus.stance_targets.order_by("order", "id").values_list("id", "slug", "name")
        ),
    )
    names = {f"{layer}:{value}": name for layer, value, name, _ in choices}
    return schema, names


@contextmanager
def _one_build_per_corpus(corpus_id: int) -> Iterator[None]:
    """A session advisory lock, taken before the snapshot starts, so a second build of the
    same corpus waits and then sees the splits the first one stored."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_NAMESPACE + corpus_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_NAMESPACE + corpus_id])


@contextmanager
def _snapshot() -> Iterator[None]:
    """One transaction whose every read sees the database as it was at its first query."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def build_release(
    release_id: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    replicates: int = REPLICATES,
    on_progress: Callable[[int, int], None] | None = None,
) -> Release:
    """Build a queued release into the release storage; it ends ready or failed.

    A release that is not queued (already built, or taken by another worker) is returned as
    it is, so a task that runs twice does no harm.
    """
    if not Release.objects.filter(pk=release_id, status=ReleaseStatus.QUEUED).update(
        status=ReleaseStatus.BUILDING
    ):
        return Release.objects.get(pk=release_id)
    release = Release.objects.select_related("corpus").get(pk=release_id)
    storage = release_storage()
    stored: list[str] = []
    try:
        with (
            _one_build_per_corpus(release.corpus_id),
            tempfile.TemporaryDirectory(prefix="release-") as scratch,
        ):
            with _snapshot():
                facts = _write_files(
                    release,
                    Path(scratch),
                    chunk_size=chunk_size,
                    replicates=replicates,
                    on_progress=on_progress,
                )
                manifest = _store(release, Path(scratch), facts.pop("_files"), storage, stored)
            # Only a build still on record as running becomes ready: the worker's recovery may
            # have failed it meanwhile (taken for lost), and then its files go.
            ready = Release.objects.filter(pk=release.pk, status=ReleaseStatus.BUILDING).update(
                status=ReleaseStatus.READY,
                finished_at=timezone.now(),
                snapshot_at=facts["_snapshot_at"],
                schema_version=facts["schema_version"],
                segmenter_versions=facts["segmenter_versions"],
                guidelines=facts["guidelines"],
                schema={"units": facts["units"], "features": facts["features"]},
                agreement=facts["agreement"],
                counts=facts["counts"],
                files=manifest,
                error="",
            )
            if not ready:
                for name in stored:
                    storage.delete(name)
    except Exception as error:
        for name in stored:
            storage.delete(name)
        Release.objects.filter(pk=release_id).update(
            status=ReleaseStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    return Release.objects.select_related("corpus").get(pk=release_id)


def _write_files(
    release: Release,
    folder: Path,
    *,
    chunk_size: int,
    replicates: int,
    on_progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    corpus = Corpus.objects.get(pk=release.corpus_id)  # read again inside the snapshot
    snapshot_at = timezone.now()
    schema, choice_names = release_schema(corpus)
    options = RecordOptions(
        # A database constraint holds the column to RecordInclusion's values, Include's too.
        include=cast("Include", release.include),
        context=release.context,
        anonymize=release.anonymize,
        pseudonym_key=pseudonym_key() if release.anonymize else b"",
    )
    stored_splits = {
        article_id: (split, stratum)
        for article_id, split, stratum in ArticleSplit.objects.filter(
            article__corpus=corpus
        ).values_list("article_id", "split", "stratum")
    }
    builder = RecordBuilder(
        schema=schema,
        options=options,
        splits=stored_splits,
        proportions=release.proportions,
        seed=release.seed,
    )
    writer = ReleaseWriter(folder, schema=schema, context=release.context)
    total = corpus.articles.count()
    done = 0
    for chunk in read_chunks(corpus, chunk_size=chunk_size):
        writer.write(builder.columns(chunk))
        if builder.new_splits:
            ArticleSplit.objects.bulk_create(
                ArticleSplit(
                    article_id=article_id,
                    split=split,
                    stratum=stratum,
                    release_number=release.number,
                    assigned_at=snapshot_at,
                )
                for article_id, split, stratum in builder.new_splits
            )
            builder.new_splits.clear()
        done += chunk.articles.num_rows
        if on_progress is not None:
            on_progress(done, total)
    files = writer.close()
    facts = release_facts(
        release,
        corpus,
        schema=schema,
        choice_names=choice_names,
        builder=builder,
        files=files,
        replicates=replicates,
        snapshot_at=snapshot_at,
    )
    (folder / "README.md").write_text(cards.dataset_card(facts), encoding="utf-8")
    (folder / "release.json").write_text(
        json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    facts["_files"] = [
        describe(folder, folder / "README.md"),
        describe(folder, folder / "release.json"),
        *files,
    ]
    facts["_snapshot_at"] = snapshot_at
    return facts


_SENTENCE_TYPES = (
    pa.int64(),
    pa.int64(),
    pa.int32(),
    pa.int32(),
    pa.int32(),
    pa.int32(),
    pa.string(),
)
_ANNOTATION_TYPES = (pa.int64(), pa.int64(), pa.int64(), pa.int64(), pa.float64())
_GOLD_TYPES = (pa.int64(), pa.int64(), pa.int64())


def read_chunks(corpus: Corpus, *, chunk_size: int = CHUNK_SIZE) -> Iterator[ReleaseChunk]:
    """The corpus in chunks of whole articles (about `chunk_size` sentences) as Arrow tables.

    Four queries a chunk, like the export's reader, but on PostgreSQL each result comes as
    `COPY ... TO STDOUT (FORMAT csv)` parsed by Arrow: no Python object per row, which is most of
    the time at five million annotations. Other databases (the SQLite demo) fetch rows.
    """
    totals = Sentence.objects.filter(article__corpus=corpus).aggregate(
        sentences=Count("id"), articles=Count("article_id", distinct=True)
    )
    mean = totals["sentences"] / totals["articles"] if totals["articles"] else 1
    per_chunk = max(1, int(chunk_size / max(mean, 1)))
    users = dict(
        get_user_model().objects.filter(memberships__corpus=corpus).values_list("id", "username")
    )
    sentence_table = Sentence._meta.db_table
    annotation_table = Annotation._meta.db_table
    gold_table = GoldLabel._meta.db_table
    last = 0
    while True:
        rows = list(
            Article.objects.filter(corpus=corpus, id__gt=last)
            .order_by("id")
            .values_list(*ARTICLE_FIELDS)[:per_chunk]
        )
        if not rows:
            return
        first, last = rows[0][0], rows[-1][0]
        articles = pa.table(
            {
                name: pa.array(column, pa.int64() if name == "id" else pa.string())
                for name, column in zip(ARTICLE_FIELDS, zip(*rows, strict=True), strict=True)
            }
        )
        # Id ranges keep every query on an index; rows of other corpora's articles that fall
        # in a range are dropped here.
        sentences = _fetch(
            f'SELECT id, article_id, ordinal, paragraph, start, "end", text FROM {sentence_table} '
            # Excluded page furniture is not in a release (Sentence.objects.counted).
            "WHERE article_id BETWEEN %s AND %s AND NOT excluded ORDER BY article_id, ordinal",
            [first, last],
            SENTENCE_FIELDS,
            _SENTENCE_TYPES,
        )
        sentences = sentences.filter(
            pc.is_in(sentences.column("article_id"), value_set=articles.column("id"))
        )
        ids = sentences.column("id")
        low, high = (pc.min(ids).as_py() or 0), (pc.max(ids).as_py() or 0)
        annotations = _fetch(
            "SELECT sentence_id, annotator_id, target_id, choice_id, seconds_spent "
            f"FROM {annotation_table} WHERE sentence_id BETWEEN %s AND %s",
            [low, high],
            ANNOTATION_FIELDS,
            _ANNOTATION_TYPES,
        )
        annotations = annotations.filter(pc.is_in(annotations.column("sentence_id"), value_set=ids))
        gold = _fetch(
            f"SELECT sentence_id, target_id, choice_id FROM {gold_table} "
            "WHERE confirmed = %s AND sentence_id BETWEEN %s AND %s",
            [True, low, high],
            GOLD_FIELDS,
            _GOLD_TYPES,
        )
        gold = gold.filter(pc.is_in(gold.column("sentence_id"), value_set=ids))
        yield ReleaseChunk(
            articles=articles,
            sentences=sentences,
            annotations=_with_usernames(annotations, users),
            gold=gold,
        )


def _with_usernames(annotations: pa.Table, users: dict[int, str]) -> pa.Table:
    """Annotator ids -> usernames (people who left the corpus are looked up once)."""
    ids = annotations.column("annotator")
    unique = pc.unique(ids).to_pylist()
    missing = set(unique) - users.keys()
    if missing:
        users.update(get_user_model().objects.filter(id__in=missing).values_list("id", "username"))
    names = pa.array([users[i] for i in unique], pa.string())
    position = pc.index_in(ids, value_set=pa.array(unique, pa.int64()))
    return annotations.set_column(
        annotations.schema.get_field_index("annotator"), "annotator", names.take(position)
    )


def _fetch(
    sql: str, params: list[Any], names: tuple[str, ...], kinds: tuple[pa.DataType, ...]
) -> pa.Table:
    types = dict(zip(names, kinds, strict=True))
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            columns = list(zip(*cursor.fetchall(), strict=True)) or [()] * len(names)
            return pa.table({n: pa.array(c, types[n]) for n, c in zip(names, columns, strict=True)})
        query = cursor.mogrify(sql, params).decode("utf-8")
        buffer = io.BytesIO()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    if not buffer.tell():
        return pa.table({n: pa.array([], types[n]) for n in names})
    buffer.seek(0)
    return pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(names)),
        # Sentences may hold line breaks; PostgreSQL quotes them.
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )


def release_facts(
    release: Release,
    corpus: Corpus,
    *,
    schema: ReleaseSchema,
    choice_names: dict[str, str],
    builder: RecordBuilder,
    files: list[FileInfo],
    replicates: int,
    snapshot_at: Any,
) -> dict[str, Any]:
    """Everything the card and release.json say about the release, JSON-ready."""
    from annotator.export_queries import model_versions_card
    from annotator.statistics import CARD_KEYS, corpus_agreement

    tally = builder.tally
    agreement = [
        {key: layer[key] for key in CARD_KEYS}
        for layer in corpus_agreement(corpus, replicates=replicates)
    ]
    for row in agreement:
        if row["target"]:
            row["target"] = row["target"]["name"]
    units = [
        {
            "column": unit.column,
            "layer": unit.layer,
            "target": unit.slug,
            "name": unit.name,
            "categories": [
                {"value": value, "name": choice_names.get(f"{unit.layer}:{value}", value)}
                for value in unit.categories
            ],
        }
        for unit in schema.units
    ]
    split_files = {Path(info.name).stem: info for info in files if info.name.startswith("data/")}
    splits = [
        {
            "name": name,
            "path": split_files[name].name,
            "num_examples": split_files[name].rows,
            "num_bytes": split_files[name].bytes,
        }
        for name in SPLITS
        if name in split_files
    ]
    labels: dict[str, dict[str, dict[str, int]]] = {}
    for (split, column, value), n in tally.labels.items():
        labels.setdefault(column, {}).setdefault(str(split), {})[str(value)] = n
    sources: dict[str, dict[str, int]] = {}
    for (column, source), n in tally.sources.items():
        sources.setdefault(column, {})[str(source)] = n
    record_names = schema.record_columns(context=release.context)
    return {
        "title": f"{corpus.name}: release {release.number}",
        "corpus": corpus.slug,
        "description": corpus.description,
        "number": release.number,
        "note": release.note,
        "license": release.license,
        "snapshot_at": snapshot_at.isoformat(timespec="seconds"),
        "schema_version": corpus.schema_version,
        "segmenter_versions": sorted(
            v
            for v in Article.objects.filter(corpus=corpus)
            .order_by()
            .values_list("segmenter_version", flat=True)
            .distinct()
            if v
        ),
        "guidelines": corpus.guidelines,
        "include": release.include,
        "context": release.context,
        "anonymize": release.anonymize,
        "seed": release.seed,
        "proportions": release.proportions,
        "annotators_per_article": corpus.annotators_per_article,
        "annotators_histogram": {
            str(k): v for k, v in sorted(tally.annotators_per_article.items())
        },
        "units": units,
        "features": features(schema, record_names),
        "splits": splits,
        "counts": {
            "articles": corpus.articles.count(),
            "sentences": tally.sentences,
            "annotations": tally.annotations,
            "records": sum(tally.records.values()),
            "records_per_split": {s: tally.records[s] for s in SPLITS if tally.records[s]},
            "articles_per_split": {s: tally.articles[s] for s in SPLITS if tally.articles[s]},
        },
        "labels": labels,
        "sources": sources,
        "agreement": agreement,
        "models": model_versions_card(corpus),
        "files": [info.as_dict() for info in files],
    }


def _store(
    release: Release, folder: Path, files: list[FileInfo], storage: Storage, stored: list[str]
) -> list[dict[str, Any]]:
    """Move the built files into the storage; the manifest maps names to stored names."""
    manifest = []
    for info in files:
        with (folder / info.name).open("rb") as handle:
            name = storage.save(f"{release.corpus.slug}/{release.number}/{info.name}", File(handle))
        stored.append(name)
        manifest.append({**info.as_dict(), "path": name})
    return manifest
