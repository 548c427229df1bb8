"""Property tests (Hypothesis) for the importer, on PostgreSQL.

- Any bytes in a .txt file either import with exact offsets (each sentence is its slice of the
  stored text, and every non-space character is covered exactly once) or are rejected with a
  reason naming the file, and then nothing at all is written. Never a crash, never half.
- A .jsonl file of lines with random field types is accepted or rejected line by line: every
  line that is surely wrong is reported with its line number, no surely good line is, and a
  rejected file writes nothing.

Each example runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from annotator.importing import ImportRejected, import_articles
from annotator.models import Article, Corpus, Sentence

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def assert_exact_offsets(corpus: Corpus) -> None:
    for article in Article.objects.filter(corpus=corpus):
        covered = [0] * len(article.text)
        sentences = list(Sentence.objects.filter(article=article).order_by("ordinal"))
        assert sentences, "an imported article has at least one sentence"
        for sentence in sentences:
            assert article.text[sentence.start : sentence.end] == sentence.text
            for index in range(sentence.start, sentence.end):
                covered[index] += 1
        for index, char in enumerate(article.text):
            if not char.isspace():
                assert covered[index] == 1, (index, char)
            else:
                assert covered[index] <= 1


unicode_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=0, max_size=300)
text_bytes = st.one_of(
    unicode_text.map(lambda text: text.encode("utf-8")),
    st.binary(max_size=200),
    # News-like text with odd spacing and punctuation, so many examples do import.
    st.lists(
        st.sampled_from(
            [
                "Dr. Kim said so.",
                " ",
                "\n\n",
                "\r\n",
                "“Quoted!”",
                "U.S.",
                "…",
                "\u00a0",
                "\t",
                "Ünïcödé.",
                "مرحبا.",
                "中文。",
                "👍🏽",
                "e\u0301",
                "\u200b",
                "a?b!",
                "3.5%",
            ]
        ),
        max_size=40,
    ).map(lambda parts: "".join(parts).encode("utf-8")),
)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(data=text_bytes)
@example(data=b"\xef\xbb\xbfBOM first. Then text.")
@example(data=b"caf\xe9")
@example(data=b"nul\x00byte.")
@example(data=b" \n\t ")
def test_any_txt_file_imports_exactly_or_is_rejected_whole(
    data: bytes, make_corpus: object, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("txt")
    path = folder / "article.txt"
    path.write_bytes(data)
    with rolled_back():
        corpus = make_corpus()
        try:
            summary = import_articles(corpus=corpus, sources=[path], workers=1)
        except ImportRejected as rejected:
            assert rejected.summary.rejected
            for problem in rejected.summary.rejected:
                assert problem.source == str(path)
                assert problem.reason
            assert not Article.objects.filter(corpus=corpus).exists()
            assert not Sentence.objects.filter(article__corpus=corpus).exists()
        else:
            assert summary.imported == 1
            assert summary.sentences == Sentence.objects.filter(article__corpus=corpus).count()
            assert_exact_offsets(corpus)


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
random_record = st.dictionaries(
    st.sampled_from(["id", "text", "title", "url", "metadata", "extra"]), json_value, max_size=6
)


@st.composite
def good_record(draw: st.DrawFn, number: int) -> dict[str, object]:
    # Distinct ids and texts: duplicates within one import are rejected on purpose.
    text = draw(st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), max_size=60))
    return {"id": f"good-{number}", "text": f"Line {number} says this. {text}"}


def surely_bad(record: object) -> bool:
    if not isinstance(record, dict):
        return True
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    external_id, text = record.get("id"), record.get("text")
    return (
        bool(set(record) - {"id", "text", "title", "url", "metadata"})
        or isinstance(external_id, bool)
        or not isinstance(external_id, (str, int))
        or not isinstance(text, str)
        or not text.strip()
        or not isinstance(record.get("title", ""), str)
        or not isinstance(record.get("metadata", {}), dict)
    )


JUNK = (b"{", b"nul\x00", b"[1,", b"'x'", b'{"id": }', b"\xff\xfe")


@st.composite
def jsonl_lines(draw: st.DrawFn) -> list[tuple[bytes, object, bool]]:
    """(line, record, is_good) triples; a record may also be any JSON value, or the line junk
    that is not JSON at all (record None)."""
    lines = []
    for number in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from(["good", "random", "value", "junk", "surrogate"]))
        if kind == "junk":
            lines.append((draw(st.sampled_from(JUNK)), None, False))
            continue
        if kind == "surrogate":
            # JSON can escape a lone surrogate, which is not text and cannot be stored.
            field = draw(st.sampled_from(["text", "id", "title", "metadata"]))
            record = {"id": f"s{number}", "text": f"Line {number}."}
            record[field] = {"k": "\udc80"} if field == "metadata" else "bad \ud800 here"
            lines.append((json.dumps(record).encode("utf-8"), record, False))
            continue
        if kind == "good":
            record = draw(good_record(number))
        else:
            record = draw(random_record if kind == "random" else json_value)
        lines.append((json.dumps(record).encode("utf-8"), record, kind == "good"))
    return lines


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(lines=jsonl_lines())
def test_jsonl_lines_are_accepted_or_rejected_each_with_its_line_number(
    lines: list[tuple[bytes, object, bool]],
    make_corpus: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path: Path = tmp_path_factory.mktemp("jsonl") / "articles.jsonl"
    path.write_bytes(b"\n".join(line for line, _, _ in lines) + b"\n")
    with rolled_back():
        corpus = make_corpus()
        try:
            summary = import_articles(corpus=corpus, sources=[path], workers=1)
        except ImportRejected as rejected:
            reported = {problem.line for problem in rejected.summary.rejected}
            assert None not in reported and reported <= set(range(1, len(lines) + 1))
            for number, (_, record, good) in enumerate(lines, start=1):
                if good:
                    assert number not in reported, rejected.summary.rejected
                elif surely_bad(record):
                    assert number in reported
            assert not Article.objects.filter(corpus=corpus).exists()
        else:
            assert all(good or not surely_bad(record) for _, record, good in lines)
            assert summary.imported == len(lines)
            assert_exact_offsets(corpus)
