"""Building a release from the database: files, label sources, splits, immutability, failure."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.contrib.auth.models import AbstractUser

from annotator.annotating import save_label
from annotator.models import (
    ArticleSplit,
    Corpus,
    LabelChoice,
    Layer,
    Release,
    ReleaseStatus,
    Sentence,
)
from annotator.releases import building
from annotator.releases.building import build_release
from annotator.releases.catalog import ReleaseError, ReleaseOptions, cut_release, open_file
from annotator.statistics import corpus_statistics

pytestmark = pytest.mark.django_db

EXPECTED_FILES = {
    "README.md",
    "release.json",
    "data/train.parquet",
    "data/validation.parquet",
    "data/test.parquet",
    "sentences.jsonl.gz",
    "sentences.csv.gz",
    "annotations.parquet",
    "snapshot.parquet",
}


def contents(release: Release) -> dict[str, bytes]:
    """Every file of a release, read back through the storage as a download would."""
    out = {}
    for entry in release.files:
        handle, _ = open_file(release, entry["name"])
        with handle:
            out[entry["name"]] = handle.read()
    return out


def snapshot_rows(release: Release) -> dict[int, dict]:
    handle, _ = open_file(release, "snapshot.parquet")
    with handle:
        return {row["sentence_id"]: row for row in pq.read_table(handle).to_pylist()}


def test_release_is_ready_with_every_file_and_its_hash(
    split_corpus: Corpus, release_of: Callable[..., Release]
) -> None:
    release = release_of(split_corpus)

    assert release.status == ReleaseStatus.READY and release.number == 1
    assert {entry["name"] for entry in release.files} == EXPECTED_FILES
    for name, data in contents(release).items():
        entry = release.file(name)
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert release.counts["records"] == 60
    assert release.counts["records_per_split"] == {"train": 48, "validation": 6, "test": 6}
    assert release.schema_version == split_corpus.schema_version
    assert release.finished_at and release.snapshot_at


def test_label_sources_gold_majority_single_and_none(
    labelled_corpus: Corpus, release_of: Callable[..., Release]
) -> None:
    rows = snapshot_rows(release_of(labelled_corpus))

    sentences = list(
        Sentence.objects.filter(article__corpus=labelled_corpus)
        .order_by("article__external_id", "ordinal")
        .values_list("id", "article__external_id", "ordinal")
    )
    source = {(ext, i): rows[sid]["claim_type_source"] for sid, ext, i in sentences}
    assert source["article-00.txt", 0] == "majority"
    assert source["article-00.txt", 1] == "gold"  # a tie, settled by a curator
    assert source["article-01.txt", 1] is None  # a tie, not settled
    assert source["article-01.txt", 2] == "single"
    # One-annotator articles: one label is "single", never a majority of one.
    assert source["article-10.txt", 0] == "single"
    assert rows[sentences[-3][0]]["claim_type_majority"] is None
    included = {(ext, i) for sid, ext, i in sentences if rows[sid]["included"]}
    assert included == {(f"article-{n:02d}.txt", 0) for n in range(10)} | {("article-00.txt", 1)}


def test_a_published_release_is_byte_identical_after_the_corpus_changes(
    labelled_corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    release_of: Callable[..., Release],
    gold: Callable[..., object],
) -> None:
    first = release_of(labelled_corpus, context=True)
    before = contents(first)
    row = Release.objects.values().get(pk=first.pk)

    # Labels, gold labels, the schema and the targets all change afterwards.
    sentence = (
        Sentence.objects.select_related("article").filter(article__corpus=labelled_corpus).first()
    )
    save_label(
        sentence=sentence,
        annotator=annotator,
        layer=Layer.CLAIM_TYPE,
        target=None,
        choice=LabelChoice.objects.get(
            corpus=labelled_corpus, layer=Layer.CLAIM_TYPE, value="opinion"
        ),
    )
    gold(sentence=sentence, value="not_a_claim", by=manager)
    target = labelled_corpus.stance_targets.get()
    target.name = "Beijing–Pyongyang ties"
    target.save()
    LabelChoice.objects.create(
        corpus=labelled_corpus,
        layer=Layer.CLAIM_TYPE,
        value="question",
        name="Question",
        key="q",
        order=9,
    )
    second = release_of(labelled_corpus, context=True)

    assert contents(Release.objects.get(pk=first.pk)) == before
    assert Release.objects.values().get(pk=first.pk) == row
    assert second.number == 2 and contents(second)["snapshot.parquet"] != before["snapshot.parquet"]
    with pytest.raises(TypeError):
        Release.objects.get(pk=first.pk).save()
    with pytest.raises(TypeError):
        Release.objects.get(pk=first.pk).delete()


def test_sentences_keep_their_split_and_new_articles_get_one(
    split_corpus: Corpus,
    make_article: Callable[..., object],
    release_of: Callable[..., Release],
    label: Callable[..., None],
) -> None:
    first = snapshot_rows(release_of(split_corpus))
    person = split_corpus.memberships.filter(role="annotator").first().user
    for number in range(30, 40):
        article = make_article(
            corpus=split_corpus, text=f"New one {number}. It counts.", external_id=f"s{number}"
        )
        for other in split_corpus.memberships.filter(role="annotator"):
            label(sentence=article.sentences.first(), annotator=other.user, value="opinion")
    second = snapshot_rows(
        release_of(
            split_corpus,
            seed="another seed",
            proportions={"train": 0.5, "validation": 0.25, "test": 0.25},
        )
    )

    assert person is not None
    for sentence_id, row in first.items():
        if row["split"] is not None:
            assert second[sentence_id]["split"] == row["split"]
    per_article: dict[int, set] = {}
    for row in second.values():
        if row["included"]:
            per_article.setdefault(row["article_id"], set()).add(row["split"])
    assert len(per_article) == 40 and all(len(s) == 1 for s in per_article.values())
    assert ArticleSplit.objects.filter(article__corpus=split_corpus).count() == 40
    assert set(
        ArticleSplit.objects.filter(release_number=2).values_list("article__external_id", flat=True)
    ) == {f"s{n}" for n in range(30, 40)}


def test_renaming_a_target_keeps_its_stance_columns(
    labelled_corpus: Corpus, release_of: Callable[..., Release]
) -> None:
    first = release_of(labelled_corpus)
    target = labelled_corpus.stance_targets.get()
    slug = target.slug
    target.name = "Renamed target"
    target.save()
    second = release_of(labelled_corpus)

    target.refresh_from_db()
    assert target.slug == slug == "china-north-korea-alliance"
    columns = [name for name in second.schema["features"] if name.startswith("stance_")]
    assert columns == [name for name in first.schema["features"] if name.startswith("stance_")]
    assert f"stance_{slug}" in columns
    assert second.schema["units"][1]["name"] == "Renamed target"


def test_anonymised_releases_name_no_annotator(
    labelled_corpus: Corpus, release_of: Callable[..., Release]
) -> None:
    hidden = contents(release_of(labelled_corpus, anonymize=True))
    shown = contents(release_of(labelled_corpus, anonymize=False))

    names = set(
        pq.read_table(pa.BufferReader(hidden["annotations.parquet"]))["annotator"].to_pylist()
    )
    assert len(names) == 2 and all(name.startswith("annotator-") for name in names)
    assert not any(b"other-annotator" in data for data in hidden.values())
    shown_names = pq.read_table(pa.BufferReader(shown["annotations.parquet"]))["annotator"]
    assert set(shown_names.to_pylist()) == {"annotator", "other-annotator"}


def test_agreement_is_recorded_as_it_was_at_the_cut(
    labelled_corpus: Corpus, release_of: Callable[..., Release]
) -> None:
    release = release_of(labelled_corpus)
    figures = corpus_statistics(labelled_corpus, replicates=50)["layers"][0]

    recorded = release.agreement[0]
    assert recorded["layer"] == "claim_type"
    assert recorded["krippendorff_alpha"] == pytest.approx(figures["krippendorff_alpha"])
    assert recorded["krippendorff_alpha_ci"] == pytest.approx(figures["krippendorff_alpha_ci"])


def test_a_failed_build_says_why_and_leaves_nothing_behind(
    split_corpus: Corpus, monkeypatch: pytest.MonkeyPatch, release_storage: object
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(building.ReleaseWriter, "close", broken)
    release = cut_release(corpus=split_corpus, options=ReleaseOptions(), enqueue=False)
    with pytest.raises(RuntimeError):
        build_release(release.pk)

    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED and "disk full" in release.error
    assert not ArticleSplit.objects.exists()
    assert not [path for path in release_storage.rglob("*") if path.is_file()]


def test_numbers_count_per_corpus_and_a_build_runs_once(
    split_corpus: Corpus, labelled_corpus: Corpus, release_of: Callable[..., Release]
) -> None:
    assert release_of(split_corpus).number == 1
    second = release_of(split_corpus)
    assert second.number == 2
    assert release_of(labelled_corpus).number == 1
    again = build_release(second.pk)
    assert again.files == second.files and again.finished_at == second.finished_at


def test_only_managers_cut_releases(
    labelled_corpus: Corpus, curator: AbstractUser, manager: AbstractUser
) -> None:
    with pytest.raises(ReleaseError, match="managers"):
        cut_release(corpus=labelled_corpus, options=ReleaseOptions(), by=curator, enqueue=False)
    release = cut_release(
        corpus=labelled_corpus, options=ReleaseOptions(), by=manager, enqueue=False
    )
    assert release.created_by == manager and release.status == ReleaseStatus.QUEUED


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include": "everything"}, "include"),
        ({"proportions": {"train": 0.5, "validation": 0.1, "test": 0.1}}, "add up to 1"),
        ({"seed": "  "}, "seed"),
        ({"license": ""}, "licence"),
    ],
)
def test_bad_options_are_refused_naming_the_field(
    labelled_corpus: Corpus, options: dict, message: str
) -> None:
    with pytest.raises(ReleaseError, match=message):
        cut_release(corpus=labelled_corpus, options=ReleaseOptions(**options), enqueue=False)
    assert not Release.objects.exists()


def test_the_background_task_builds_the_release(labelled_corpus: Corpus) -> None:
    # Tests run tasks inline (ImmediateBackend); the worker runs the same task.
    release = cut_release(corpus=labelled_corpus, options=ReleaseOptions(note="First."))
    release.refresh_from_db()
    assert release.status == ReleaseStatus.READY and release.note == "First."


def test_without_postgresql_copy_the_same_files_come_out(
    split_corpus: Corpus, release_of: Callable[..., Release], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQLite demo has no COPY: rows are fetched instead, and the records are the same."""
    from django.db import connection

    first = release_of(split_corpus)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    second = release_of(split_corpus)

    for name in ("data/train.parquet", "data/test.parquet", "sentences.csv.gz", "snapshot.parquet"):
        assert first.file(name)["sha256"] == second.file(name)["sha256"], name


def test_a_release_holds_only_its_corpus_when_ids_interleave(
    make_corpus: Callable[..., Corpus],
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., object],
    make_annotation: Callable[..., object],
    release_of: Callable[..., Release],
) -> None:
    ours, theirs = make_corpus(slug="ours"), make_corpus(slug="theirs")
    people = {c.pk: [make_member(corpus=c), make_member(corpus=c)] for c in (ours, theirs)}
    for number in range(6):
        for corpus in (ours, theirs):  # alternate, so id ranges of one cover the other
            article = make_article(corpus=corpus, text=f"{corpus.slug} {number}. Second one.")
            for sentence in article.sentences.all():
                for person in people[corpus.pk]:
                    make_annotation(sentence=sentence, annotator=person, value="opinion")
    release = release_of(ours, include="all")

    rows = snapshot_rows(release)
    assert len(rows) == 12 and all(
        row["text"].startswith(("ours", "Second")) for row in rows.values()
    )
    handle, _ = open_file(release, "annotations.parquet")
    with handle:
        annotations = pq.read_table(handle)
    assert annotations.num_rows == 24
    assert set(annotations["sentence_id"].to_pylist()) == set(rows)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_cuts_get_distinct_numbers(make_corpus: Callable[..., Corpus]) -> None:
    import threading

    from django.db import connections

    corpus = make_corpus(slug="busy")
    numbers: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(5)

    def cut() -> None:
        try:
            start.wait()
            release = cut_release(corpus=corpus, options=ReleaseOptions(), enqueue=False)
            numbers.append(release.number)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cut) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(numbers) == [1, 2, 3, 4, 5]


def test_the_card_names_the_model_versions_of_the_corpus(
    split_corpus: Corpus, release_of: Callable[..., Release]
) -> None:
    from annotator.assisting import PredictionRecord, import_predictions

    sentence = Sentence.objects.filter(article__corpus=split_corpus).first()
    import_predictions(
        corpus=split_corpus,
        by=None,
        records=[
            PredictionRecord(
                data={
                    "sentence": sentence.pk,
                    "layer": "claim_type",
                    "label": "opinion",
                    "score": 0.6,
                    "model": "claim-bert",
                    "model_version": "2026-11",
                },
                line=1,
            )
        ],
    )
    release = release_of(split_corpus)

    card = contents(release)["README.md"].decode()
    assert "## Models" in card
    assert "| claim-bert | 2026-11 | external | claim_type | not defined | 0 |" in card
