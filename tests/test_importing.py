"""Importing articles: what gets stored, what is skipped, and every kind of bad input rejected.

Each rejection test checks the message names the file (and line) and the reason, and that
nothing stored changed: no new rows, and the article already there is untouched.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import override_settings

from annotator.importing import ImportRejected, import_articles
from annotator.models import Article, Corpus, Sentence
from annotator.segmentation import SEGMENTER_VERSION, SentenceSpan
from annotator.sources import (
    SourceRejected,
    article_from_record,
    articles_from_bytes,
    copy_escape,
)
from annotator.zones import suggest_zones

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def existing(corpus: Corpus, make_article: Callable[..., Article]) -> Article:
    return make_article(corpus=corpus, text="Already here. It stays.", external_id="old.txt")


def write_zip(path: Path, members: dict[str, bytes], **options: object) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **options) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def assert_rejected(
    corpus: Corpus, existing: Article, sources: list[Path], *, where: str, reason: str
) -> ImportRejected:
    before = (Article.objects.count(), Sentence.objects.count())
    existing_sentences = list(existing.sentences.values_list("text", flat=True))
    with pytest.raises(ImportRejected) as caught:
        import_articles(corpus=corpus, sources=sources)
    messages = [str(problem) for problem in caught.value.problems]
    assert any(where in message and reason in message for message in messages), messages
    assert (Article.objects.count(), Sentence.objects.count()) == before
    existing.refresh_from_db()
    assert existing.text == "Already here. It stays."
    assert list(existing.sentences.values_list("text", flat=True)) == existing_sentences
    return caught.value


# What an import stores ------------------------------------------------------------------------


def test_sentence_spans_match_article_text_for_every_sample(corpus: Corpus) -> None:
    summary = import_articles(corpus=corpus, sources=[SAMPLES])
    assert summary.imported == 5
    articles = list(corpus.articles.prefetch_related("sentences"))
    assert len(articles) == 5
    assert summary.sentences == Sentence.objects.filter(article__corpus=corpus).count() > 50
    for article in articles:
        sentences = list(article.sentences.all())
        assert sentences, article.external_id
        assert [s.ordinal for s in sentences] == list(range(len(sentences)))
        for sentence in sentences:
            assert article.text[sentence.start : sentence.end] == sentence.text
        assert article.segmenter_version == SEGMENTER_VERSION
        # The title is the first line, which stays in the text: its sentences come first.
        assert article.title == article.text.lstrip().splitlines()[0].strip()[:500]
        assert article.title.startswith(sentences[0].text)


def test_txt_keeps_text_verbatim_and_names_article_by_relative_path(
    corpus: Corpus, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    text = "\n  Title line\r\n\r\nA tab\there. Back\\slash too.\n"
    (folder / "sub" / "one.txt").write_bytes(text.encode())
    import_articles(corpus=corpus, sources=[folder])
    article = corpus.articles.get()
    assert article.external_id == "sub/one.txt"
    assert article.text == text
    assert article.title == "Title line"
    assert [s.text for s in article.sentences.all()] == [
        "Title line",
        "A tab\there.",
        "Back\\slash too.",
    ]


def test_jsonl_fields_are_stored(corpus: Corpus, tmp_path: Path) -> None:
    record = {
        "id": 7,
        "text": "One. Two.",
        "title": "T",
        "url": "https://example.org/a",
        "metadata": {"k": [1]},
    }
    import_articles(corpus=corpus, sources=[write_jsonl(tmp_path / "a.jsonl", [record])])
    article = corpus.articles.get()
    assert (article.external_id, article.title, article.url, article.metadata) == (
        "7",
        "T",
        "https://example.org/a",
        {"k": [1]},
    )
    assert article.sentences.count() == 2


def test_zip_members_become_articles(corpus: Corpus, tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "a.zip",
        {"x/one.txt": b"First. Article.", "two.txt": b"Second article.", "__MACOSX/._x": b"\0"},
    )
    summary = import_articles(corpus=corpus, sources=[archive])
    assert summary.imported == 2
    assert set(corpus.articles.values_list("external_id", flat=True)) == {"x/one.txt", "two.txt"}


def test_jsonl_inside_zip_is_read_line_by_line(corpus: Corpus, tmp_path: Path) -> None:
    lines = b'{"id": "z1", "text": "Zipped one."}\n{"id": "z2", "text": "Zipped two."}\n'
    archive = write_zip(tmp_path / "j.zip", {"batch.jsonl": lines, "plain.txt": b"Plain text."})
    assert import_articles(corpus=corpus, sources=[archive]).imported == 3
    assert set(corpus.articles.values_list("external_id", flat=True)) == {"z1", "z2", "plain.txt"}


def test_reimport_changes_nothing(corpus: Corpus) -> None:
    import_articles(corpus=corpus, sources=[SAMPLES])
    rows = list(Sentence.objects.order_by("pk").values_list("pk", "article_id", "text"))
    summary = import_articles(corpus=corpus, sources=[SAMPLES])
    assert (summary.imported, summary.skipped) == (0, 5)
    assert list(Sentence.objects.order_by("pk").values_list("pk", "article_id", "text")) == rows


def test_same_text_under_another_name_is_skipped(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    (tmp_path / "renamed.txt").write_text(existing.text)
    (tmp_path / "new.txt").write_text("Something new.")
    summary = import_articles(corpus=corpus, sources=[tmp_path])
    assert (summary.imported, summary.skipped) == (1, 1)
    assert summary.skipped_names == [str(tmp_path / "renamed.txt")]


def test_same_article_may_live_in_two_corpora(
    corpus: Corpus, make_corpus: Callable[..., Corpus]
) -> None:
    import_articles(corpus=corpus, sources=[SAMPLES])
    other = make_corpus()
    assert import_articles(corpus=other, sources=[SAMPLES]).imported == 5


# Bad input: every case rejects the whole batch ------------------------------------------------


def test_non_utf8_file_is_rejected(corpus: Corpus, existing: Article, tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Fine text.")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    assert_rejected(
        corpus, existing, [tmp_path], where="latin1.txt", reason="not UTF-8 text: invalid byte 0xe9"
    )


def test_binary_file_is_rejected(corpus: Corpus, existing: Article, tmp_path: Path) -> None:
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert_rejected(corpus, existing, [tmp_path], where="image.txt", reason="binary file")


def test_nul_byte_in_text_is_rejected(corpus: Corpus, existing: Article, tmp_path: Path) -> None:
    (tmp_path / "nul.txt").write_bytes(b"Looks like text.\x00 But is not.")
    assert_rejected(corpus, existing, [tmp_path], where="nul.txt", reason="contains NUL bytes")


def test_empty_file_is_rejected(corpus: Corpus, existing: Article, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert_rejected(corpus, existing, [tmp_path], where="empty.txt", reason="empty file")


def test_whitespace_only_file_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    (tmp_path / "blank.txt").write_bytes(b" \n\t\r\n ")
    assert_rejected(corpus, existing, [tmp_path], where="blank.txt", reason="empty file")


@override_settings(IMPORT_MAX_FILE_BYTES=100)
def test_file_over_size_limit_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    (tmp_path / "big.txt").write_text("Long sentence. " * 10)
    assert_rejected(corpus, existing, [tmp_path], where="big.txt", reason="100-byte limit")


@override_settings(IMPORT_MAX_TOTAL_BYTES=100)
def test_batch_over_total_limit_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    for number in range(3):
        (tmp_path / f"{number}.txt").write_text(f"Article {number}. " * 4)
    assert_rejected(corpus, existing, [tmp_path], where="2.txt", reason="100-byte total limit")


@override_settings(IMPORT_MAX_ARTICLES=2)
def test_batch_over_article_limit_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": n, "text": f"Text {n}."} for n in range(3)])
    assert_rejected(corpus, existing, [path], where="e.jsonl, line 3", reason="2-article limit")


def test_unsupported_file_type_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    assert_rejected(corpus, existing, [tmp_path], where="notes.docx", reason="unsupported file")


def test_missing_path_is_rejected(corpus: Corpus, existing: Article, tmp_path: Path) -> None:
    assert_rejected(
        corpus, existing, [tmp_path / "nope.txt"], where="nope.txt", reason="no such file"
    )


@pytest.mark.parametrize("member", ["/etc/passwd.txt", "../escape.txt", "a/../../b.txt"])
def test_zip_member_with_unsafe_path_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path, member: str
) -> None:
    archive = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("fine.txt", b"Fine text.")
        # writestr normalises names given as str; a ZipInfo keeps them as an attacker wrote them.
        info = zipfile.ZipInfo("placeholder")
        info.filename = member
        out.writestr(info, b"Sneaky text.")
    assert_rejected(
        corpus, existing, [archive], where=f"unsafe.zip:{member}", reason="unsafe path in archive"
    )


def test_zip_member_that_is_a_symlink_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    # What Info-ZIP's `zip --symlinks` writes: Unix mode S_IFLNK in the high 16 bits of the
    # external attributes, and the link's target as the member's data.
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("fine.txt", b"Fine text.")
        link = zipfile.ZipInfo("secret.txt")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, b"/etc/passwd")

    rejected = assert_rejected(
        corpus, existing, [archive], where="links.zip:secret.txt", reason="symbolic link"
    )
    assert not any("fine.txt" in str(problem) for problem in rejected.problems)


@pytest.mark.skipif(shutil.which("zip") is None, reason="needs Info-ZIP's zip command")
def test_symlink_stored_by_the_zip_command_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "real.txt").write_text("A real article.")
    (folder / "link.txt").symlink_to(folder / "real.txt")
    archive = tmp_path / "made-by-zip.zip"
    subprocess.run(
        ["zip", "--quiet", "--symlinks", str(archive), "real.txt", "link.txt"],
        cwd=folder,
        check=True,
    )

    assert_rejected(
        corpus, existing, [archive], where="made-by-zip.zip:link.txt", reason="symbolic link"
    )


@override_settings(IMPORT_MAX_ZIP_RATIO=50)
def test_zip_bomb_by_ratio_is_rejected(corpus: Corpus, existing: Article, tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "bomb.zip", {"bomb.txt": b"a" * 1_000_000})
    assert_rejected(
        corpus,
        existing,
        [archive],
        where="bomb.zip:bomb.txt",
        reason="compression ratio above 50:1",
    )


@override_settings(IMPORT_MAX_ZIP_RATIO=50)
def test_zip_bomb_with_lying_header_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    """The header claims a small member: reading stops at the claimed size and the CRC fails."""
    archive = write_zip(tmp_path / "liar.zip", {"liar.txt": b"a" * 1_000_000})
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as reader:
        info = reader.getinfo("liar.txt")
        real_size = info.file_size
    small = (100).to_bytes(4, "little")
    original = real_size.to_bytes(4, "little")
    # Patch the uncompressed size in both the local header and the central directory.
    assert data.count(original) == 2
    archive.write_bytes(bytes(data).replace(original, small))
    assert_rejected(
        corpus, existing, [archive], where="liar.zip:liar.txt", reason="corrupt archive member"
    )


@override_settings(IMPORT_MAX_TOTAL_BYTES=50_000, IMPORT_MAX_ZIP_RATIO=1_000_000)
def test_zip_bomb_by_total_size_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    members = {f"{n}.txt": f"Article {n}. ".encode() + b"x" * 20_000 for n in range(4)}
    archive = write_zip(tmp_path / "wide.zip", members)
    assert_rejected(corpus, existing, [archive], where="wide.zip:", reason="total limit")


@override_settings(IMPORT_MAX_ZIP_MEMBERS=3)
def test_zip_with_too_many_members_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    archive = write_zip(tmp_path / "many.zip", {f"{n}.txt": b"Text %d." % n for n in range(4)})
    assert_rejected(corpus, existing, [archive], where="many.zip", reason="3-member limit")


def test_corrupt_zip_is_rejected(corpus: Corpus, existing: Article, tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    assert_rejected(
        corpus, existing, [tmp_path / "broken.zip"], where="broken.zip", reason="not a valid zip"
    )


def test_jsonl_line_with_missing_field_names_the_line(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "Fine."}, {"id": "2"}])
    assert_rejected(
        corpus, existing, [path], where="a.jsonl, line 2", reason="missing field 'text'"
    )


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"id": True, "text": "T."}, "'id' must be a string or an integer, got boolean"),
        ({"id": [1], "text": "T."}, "'id' must be a string or an integer, got array"),
        ({"id": "1", "text": 5}, "'text' must be a string, got number"),
        ({"id": "1", "text": "  "}, "'text' is empty"),
        ({"id": "1", "text": "T.", "title": None}, "'title' must be a string, got null"),
        ({"id": "1", "text": "T.", "url": "javascript:alert(1)"}, "'url' is not an http(s) URL"),
        ({"id": "1", "text": "T.", "metadata": []}, "'metadata' must be an object, got array"),
        ({"id": "1", "text": "T.", "body": "x"}, "unknown field(s) body"),
        (["id", "text"], "expected a JSON object, got list"),
    ],
)
def test_jsonl_line_with_wrong_type_names_the_line(
    corpus: Corpus, existing: Article, tmp_path: Path, record: object, reason: str
) -> None:
    path = write_jsonl(tmp_path / "b.jsonl", [{"id": "ok", "text": "Fine."}, record])
    assert_rejected(corpus, existing, [path], where="b.jsonl, line 2", reason=reason)


def test_jsonl_line_that_is_not_json_names_the_line(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "1", "text": "Fine."}\n\n{"id": "2", "text": \n')
    assert_rejected(corpus, existing, [path], where="c.jsonl, line 3", reason="invalid JSON")


def test_duplicate_id_within_batch_is_rejected(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": 1, "text": "A."}, {"id": "1", "text": "B."}])
    assert_rejected(corpus, existing, [path], where="d.jsonl, line 2", reason="appears twice")


def test_every_problem_is_reported_and_good_files_are_not_written(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    (tmp_path / "a_good.txt").write_text("Good one.")
    (tmp_path / "b_empty.txt").write_text("")
    (tmp_path / "c_good.txt").write_text("Good two.")
    (tmp_path / "d_binary.txt").write_bytes(b"\x00\x01")
    rejected = assert_rejected(corpus, existing, [tmp_path], where="b_empty.txt", reason="empty")
    assert [problem.source for problem in rejected.problems] == [
        str(tmp_path / "b_empty.txt"),
        str(tmp_path / "d_binary.txt"),
    ]
    assert rejected.summary.imported == 0


def test_failure_after_a_written_batch_rolls_everything_back(
    corpus: Corpus, existing: Article, tmp_path: Path
) -> None:
    records = [{"id": n, "text": f"Article number {n}."} for n in range(1200)]
    records.append({"id": "last", "text": 3})
    path = write_jsonl(tmp_path / "big.jsonl", records)
    assert_rejected(corpus, existing, [path], where="big.jsonl, line 1201", reason="'text'")


# The validation other modules reuse --------------------------------------------------------


def test_article_from_record_reports_all_problems_of_a_record() -> None:
    with pytest.raises(SourceRejected) as caught:
        article_from_record({"title": 1}, source="api", line=None)
    assert [str(problem) for problem in caught.value.problems] == [
        "api: missing field 'id'",
        "api: missing field 'text'",
        "api: 'title' must be a string, got number",
    ]


def test_articles_from_bytes_reads_uploaded_jsonl() -> None:
    from annotator.importing import limits_from_settings

    data = b'{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n'
    articles = articles_from_bytes("up.jsonl", data, limits=limits_from_settings())
    assert [(a.external_id, a.text, a.line) for a in articles] == [
        ("a", "One.", 1),
        ("b", "Two.", 2),
    ]


def test_copy_escape_round_trips_through_postgresql_copy(db: None) -> None:
    from django.db import connection

    value = "tab\there back\\slash cr\r nl\n end"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE t (v text)")
        cursor.copy_expert("COPY t (v) FROM STDIN", io.StringIO(copy_escape(value) + "\n"))
        cursor.execute("SELECT v FROM t")
        assert cursor.fetchone()[0] == value


def test_worker_pool_stores_the_same_sentences_as_one_process(
    corpus: Corpus, make_corpus: Callable[..., Corpus], tmp_path: Path
) -> None:
    """Big imports segment in worker processes; the rows must not depend on it."""
    records = [
        {"id": n, "text": f"Headline {n}\n\nDr. Kim said “no.” Then\tleft. A back\\slash {n}."}
        for n in range(40)
    ]
    path = write_jsonl(tmp_path / "many.jsonl", records)
    pooled = make_corpus()
    one = import_articles(corpus=corpus, sources=[path], workers=1)
    two = import_articles(corpus=pooled, sources=[path], workers=2)
    assert one.sentences == two.sentences == 40 * 4

    def rows(target: Corpus) -> list[tuple]:
        return list(
            Sentence.objects.filter(article__corpus=target)
            .order_by("article__external_id", "ordinal")
            .values_list(
                "article__external_id",
                "ordinal",
                "paragraph",
                "start",
                "end",
                "text",
                "zone",
                "zone_rule",
            )
        )

    assert rows(corpus) == rows(pooled)


def test_import_stores_the_suggested_zones_unconfirmed(corpus: Corpus) -> None:
    """Every sentence gets the zone zones.py suggests for its span; none is confirmed or
    excluded until a manager says so."""
    import_articles(corpus=corpus, sources=[SAMPLES])
    for article in Article.objects.filter(corpus=corpus):
        stored = list(
            article.sentences.order_by("ordinal").values_list(
                "start", "end", "paragraph", "zone", "zone_rule", "zone_confirmed", "excluded"
            )
        )
        spans = [SentenceSpan(start, end, paragraph) for start, end, paragraph, *_ in stored]
        expected = [(z.zone, z.rule) for z in suggest_zones(article.text, spans)]
        assert [(zone, rule) for *_, zone, rule, _, _ in stored] == expected
        assert not any(confirmed or excluded for *_, confirmed, excluded in stored)
    zones = set(Sentence.objects.filter(article__corpus=corpus).values_list("zone", flat=True))
    assert zones == {"body", "boilerplate", "comments"}


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_imports_of_the_same_files_store_each_article_once(
    make_corpus: Callable[..., Corpus],
) -> None:
    """The corpus row lock makes the second import wait, then skip what the first stored."""
    import threading

    from django.db import connections

    corpus = make_corpus()
    results: list[object] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            results.append(import_articles(corpus=corpus, sources=[SAMPLES]))
        except Exception as error:  # reported below; a thread cannot fail the test itself
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r.imported, r.skipped) for r in results) == [(0, 5), (5, 0)], results
    assert corpus.articles.count() == 5


def test_sources_module_does_not_import_django() -> None:
    """Reading and validation stay plain Python, so worker processes and the API can reuse them."""
    import ast

    import annotator.sources

    tree = ast.parse(Path(annotator.sources.__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.split(".")[0] == "django"]
    assert "annotator.models" not in imported
