"""Read and validate import sources (.txt, folders, .zip, .jsonl) into plain article records.

Pure computation: paths and bytes in, `ArticleData` and `Problem`s out, no Django. importing.py
writes what this module reads; the management command, the admin upload and the API all report
the same messages because they all come from here.

Reusing the validation elsewhere (the API's article creation does):

- `articles_from_bytes(name, data, limits=...)` reads one uploaded .txt or .jsonl file;
- `article_from_record(record, source=..., line=...)` validates one article dict
  (`id`, `text`, optional `title`, `url`, `metadata`).

Both return validated `ArticleData` or raise `SourceRejected`, whose `problems` is a list of
`Problem(source, line, reason)`; `str(problem)` is the message to show ("a.jsonl, line 3: ...").

Limits (`Limits`) are checked on bytes actually read, never on sizes an archive claims.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from annotator.segmentation import iter_sentences
from annotator.zones import suggest_zones

TITLE_MAX_LENGTH = 500
EXTERNAL_ID_MAX_LENGTH = 300
URL_MAX_LENGTH = 2000
SUPPORTED_SUFFIXES = (".txt", ".jsonl", ".zip")
JSONL_FIELDS = frozenset({"id", "text", "title", "url", "metadata"})
_URL_RE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one file (or one line of it) was rejected."""

    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}, line {self.line}"
        return f"{where}: {self.reason}"


class SourceRejected(Exception):
    """Input that cannot be imported; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int
    max_total_bytes: int
    max_zip_members: int
    max_zip_ratio: int
    max_articles: int


@dataclass(frozen=True, slots=True)
class ArticleData:
    """One validated article: `text` verbatim, `source` names where it came from."""

    external_id: str
    text: str
    source: str
    line: int | None = None
    title: str = ""
    url: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class _BatchLimitReached(Exception):
    """The whole batch went over a total limit; reading stops there."""


def _decode(data: bytes, source: str, line: int | None = None) -> str:
    """UTF-8 text of `data`, or SourceRejected naming the first bad byte."""
    if b"\x00" in data:
        raise SourceRejected([Problem(source, line, "binary file: contains NUL bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = data[error.start : error.start + 1].hex()
        reason = f"not UTF-8 text: invalid byte 0x{byte} at offset {error.start}"
        raise SourceRejected([Problem(source, line, reason)]) from None


def text_article(name: str, data: bytes, *, source: str | None = None) -> ArticleData:
    """A .txt file as an article; its first non-empty line is the title (and a sentence too)."""
    source = source or name
    if not data.strip():
        raise SourceRejected([Problem(source, None, "empty file")])
    text = _decode(data, source)
    if not text.strip():
        raise SourceRejected([Problem(source, None, "empty file: only whitespace")])
    title = next(line.strip() for line in text.splitlines() if line.strip())
    return ArticleData(
        external_id=name[:EXTERNAL_ID_MAX_LENGTH],
        text=text,
        source=source,
        title=title[:TITLE_MAX_LENGTH],
    )


def article_from_record(
    record: object, *, source: str = "request", line: int | None = None
) -> ArticleData:
    """Validate one JSON article; every problem of the record is reported, not just the first."""
    if not isinstance(record, dict):
        kind = type(record).__name__
        raise SourceRejected([Problem(source, line, f"expected a JSON object, got {kind}")])
    try:
        # JSON may escape a lone surrogate ("\ud800"); it is no text and cannot be stored.
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(error.object[error.start])
        reason = f"not valid Unicode: a lone surrogate \\u{code:04x} (a broken escape)"
        raise SourceRejected([Problem(source, line, reason)]) from None
    problems: list[str] = []
    unknown = sorted(set(record) - JSONL_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(JSONL_FIELDS))
        problems.append(f"unknown field(s) {', '.join(unknown)} (allowed: {allowed})")

    external_id = record.get("id")
    if "id" not in record:
        problems.append("missing field 'id'")
    elif isinstance(external_id, bool) or not isinstance(external_id, (str, int)):
        problems.append(f"'id' must be a string or an integer, got {_json_type(external_id)}")
    elif not str(external_id).strip():
        problems.append("'id' is empty")
    elif len(str(external_id)) > EXTERNAL_ID_MAX_LENGTH:
        problems.append(f"'id' is longer than {EXTERNAL_ID_MAX_LENGTH} characters")

    text = record.get("text")
    if "text" not in record:
        problems.append("missing field 'text'")
    elif not isinstance(text, str):
        problems.append(f"'text' must be a string, got {_json_type(text)}")
    elif not text.strip():
        problems.append("'text' is empty")
    elif "\x00" in text:
        problems.append("'text' contains NUL characters")

    title = record.get("title", "")
    if not isinstance(title, str):
        problems.append(f"'title' must be a string, got {_json_type(title)}")
    elif len(title) > TITLE_MAX_LENGTH:
        problems.append(f"'title' is longer than {TITLE_MAX_LENGTH} characters")
    url = record.get("url", "")
    if not isinstance(url, str):
        problems.append(f"'url' must be a string, got {_json_type(url)}")
    elif url and (len(url) > URL_MAX_LENGTH or not _URL_RE.fullmatch(url)):
        problems.append(f"'url' is not an http(s) URL of at most {URL_MAX_LENGTH} characters")
    metadata = record.get("metadata", {})
    if not isinstance(metadata, dict):
        problems.append(f"'metadata' must be an object, got {_json_type(metadata)}")

    if problems:
        raise SourceRejected([Problem(source, line, reason) for reason in problems])
    assert isinstance(text, str)  # anything else added a problem above
    return ArticleData(
        external_id=str(external_id).strip(),
        text=text,
        source=source,
        line=line,
        title=title.strip(),
        url=url,
        metadata=metadata,
    )


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    if value is None:
        return "null"
    return names.get(type(value), "object")


def articles_from_bytes(name: str, data: bytes, *, limits: Limits) -> list[ArticleData]:
    """Validated articles of one uploaded .txt or .jsonl file (all of them, or SourceRejected)."""
    if len(data) > limits.max_total_bytes:
        reason = f"file is larger than the {limits.max_total_bytes:,}-byte limit"
        raise SourceRejected([Problem(name, None, reason)])
    if name.lower().endswith(".txt"):
        if len(data) > limits.max_file_bytes:
            reason = f"file is larger than the {limits.max_file_bytes:,}-byte limit"
            raise SourceRejected([Problem(name, None, reason)])
        return [text_article(name, data)]
    if name.lower().endswith(".jsonl"):
        import io

        articles: list[ArticleData] = []
        problems: list[Problem] = []
        for item in _jsonl_articles(io.BytesIO(data), name, limits):
            if isinstance(item, Problem):
                problems.append(item)
            else:
                articles.append(item)
        if problems:
            raise SourceRejected(problems)
        return articles
    raise SourceRejected([Problem(name, None, "unsupported file type (expected .txt or .jsonl)")])


class _Lines(Protocol):
    """What the JSONL reader needs of a stream: a binary file, or one of the guards below."""

    def readline(self, size: int = -1, /) -> bytes: ...


def _jsonl_articles(stream: _Lines, source: str, limits: Limits) -> Iterator[ArticleData | Problem]:
    """One article or problem per non-blank line, read line by line so memory stays flat."""
    number = 0
    while True:
        raw = stream.readline(limits.max_file_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limits.max_file_bytes and not raw.endswith(b"\n"):
            reason = f"line is longer than the {limits.max_file_bytes:,}-byte limit"
            yield Problem(source, number, reason)
            # Skip the rest of the overlong line without holding it in memory.
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(limits.max_file_bytes + 1)
            continue
        if not raw.strip():
            continue
        try:
            record = json.loads(_decode(raw, source, number))
        except SourceRejected as rejected:
            yield from rejected.problems
            continue
        except json.JSONDecodeError as error:
            yield Problem(source, number, f"invalid JSON: {error.msg} at column {error.colno}")
            continue
        except RecursionError:
            yield Problem(source, number, "invalid JSON: nested too deeply")
            continue
        try:
            yield article_from_record(record, source=source, line=number)
        except SourceRejected as rejected:
            yield from rejected.problems


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[str, Path]]:
    """(name, path) of every file to read: folders recursively, sorted, hidden files skipped.

    The name of a file inside a folder is its path relative to that folder; it becomes the
    article's external id, so importing the same folder again finds the same articles.
    """
    files: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in relative.parts):
                    files.append((relative.as_posix(), child))
        else:
            files.append((path.name, path))
    return files


def estimate_articles(files: Sequence[tuple[str, Path]]) -> int:
    """How many articles the files hold, cheaply, for a progress bar (zip headers, newlines)."""
    total = 0
    for _name, path in files:
        suffix = path.suffix.lower()
        try:
            if suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    total += sum(1 for info in archive.infolist() if not info.is_dir())
            elif suffix == ".jsonl":
                with path.open("rb") as stream:
                    total += sum(
                        chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b"")
                    )
            else:
                total += 1
        except (OSError, zipfile.BadZipFile):
            total += 1
    return total


class SourceReader:
    """Reads files into articles and problems, enforcing the batch-wide limits as it goes."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total_bytes = 0
        self.articles = 0

    def read(self, files: Sequence[tuple[str, Path]]) -> Iterator[ArticleData | Problem]:
        try:
            for name, path in files:
                yield from self._read_file(name, path)
        except _BatchLimitReached as reached:
            yield reached.args[0]

    def _count_bytes(self, amount: int, source: str) -> None:
        self.total_bytes += amount
        if self.total_bytes > self.limits.max_total_bytes:
            reason = (
                f"the import is larger than the {self.limits.max_total_bytes:,}-byte total limit; "
                "split it into smaller batches"
            )
            raise _BatchLimitReached(Problem(source, None, reason))

    def _count_article(self, article: ArticleData) -> ArticleData:
        self.articles += 1
        if self.articles > self.limits.max_articles:
            reason = f"the import has more than the {self.limits.max_articles:,}-article limit"
            raise _BatchLimitReached(Problem(article.source, article.line, reason))
        return article

    def _read_file(self, name: str, path: Path) -> Iterator[ArticleData | Problem]:
        source = str(path)
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            reason = f"unsupported file type {suffix or '(none)'!r} (expected .txt, .jsonl or .zip)"
            yield Problem(source, None, reason)
            return
        try:
            if suffix == ".zip":
                yield from self._read_zip(path, source)
            elif suffix == ".jsonl":
                with path.open("rb") as stream:
                    yield from self._read_jsonl(stream, source)
            else:
                size = path.stat().st_size
                if size > self.limits.max_file_bytes:
                    reason = f"file is larger than the {self.limits.max_file_bytes:,}-byte limit"
                    yield Problem(source, None, reason)
                    return
                data = path.read_bytes()
                self._count_bytes(len(data), source)
                try:
                    yield self._count_article(text_article(name, data, source=source))
                except SourceRejected as rejected:
                    yield from rejected.problems
        except FileNotFoundError:
            yield Problem(source, None, "no such file or folder")
        except OSError as error:
            yield Problem(source, None, f"cannot read: {error.strerror or error}")

    def _read_jsonl(self, stream: _Lines, source: str) -> Iterator[ArticleData | Problem]:
        counted = _CountingStream(stream, lambda amount: self._count_bytes(amount, source))
        for item in _jsonl_articles(counted, source, self.limits):
            yield item if isinstance(item, Problem) else self._count_article(item)

    def _read_zip(self, path: Path, source: str) -> Iterator[ArticleData | Problem]:
        limits = self.limits
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            yield Problem(source, None, "not a valid zip archive")
            return
        with archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) > limits.max_zip_members:
                reason = (
                    f"archive has {len(members):,} members, more than the "
                    f"{limits.max_zip_members:,}-member limit"
                )
                yield Problem(source, None, reason)
                return
            for info in members:
                member_source = f"{source}:{info.filename}"
                name = info.filename.replace("\\", "/")
                parts = PurePosixPath(name).parts
                if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts:
                    yield Problem(member_source, None, "unsafe path in archive (absolute or '..')")
                    continue
                if is_symlink(info):
                    reason = (
                        "symbolic link in archive (links are not followed; put the file itself "
                        "in the archive, e.g. zip without --symlinks)"
                    )
                    yield Problem(member_source, None, reason)
                    continue
                if any(part.startswith(".") or part == "__MACOSX" for part in parts):
                    continue  # editor and macOS metadata, not articles
                suffix = PurePosixPath(name).suffix.lower()
                if suffix not in (".txt", ".jsonl"):
                    reason = f"unsupported file type {suffix or '(none)'!r} in archive"
                    yield Problem(member_source, None, reason + " (expected .txt or .jsonl)")
                    continue
                if info.flag_bits & 0x1:
                    yield Problem(
                        member_source, None, "encrypted archive members are not supported"
                    )
                    continue
                try:
                    if suffix == ".jsonl":
                        with archive.open(info) as stream:
                            capped = _RatioGuard(stream, info, member_source, limits)
                            yield from self._read_jsonl(capped, member_source)
                        continue
                    problem = _zip_header_problem(info, member_source, limits)
                    if problem:
                        yield problem
                        continue
                    with archive.open(info) as stream:
                        # Read one byte past the limit: the header's size is not trusted.
                        data = stream.read(limits.max_file_bytes + 1)
                    if len(data) > limits.max_file_bytes:
                        reason = f"file is larger than the {limits.max_file_bytes:,}-byte limit"
                        yield Problem(member_source, None, reason)
                        continue
                    if len(data) > max(info.compress_size, 1) * limits.max_zip_ratio:
                        yield Problem(member_source, None, _ratio_reason(limits))
                        continue
                    self._count_bytes(len(data), member_source)
                    article = text_article(name, data, source=member_source)
                    yield self._count_article(article)
                except SourceRejected as rejected:
                    yield from rejected.problems
                except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
                    yield Problem(member_source, None, f"corrupt archive member: {error}")
                except _RatioExceeded as exceeded:
                    yield exceeded.args[0]


def is_symlink(info: zipfile.ZipInfo) -> bool:
    """Whether a zip member is a symbolic link: Unix mode S_IFLNK in the external attributes.

    Its data is the link's target path, not a file; reading it as an article would store that
    path (or, unpacked elsewhere, point anywhere on the disk).
    """
    return stat.S_ISLNK(info.external_attr >> 16)


def _ratio_reason(limits: Limits) -> str:
    return (
        f"compression ratio above {limits.max_zip_ratio}:1 (possible zip bomb); "
        "IMPORT_MAX_ZIP_RATIO sets the limit"
    )


def _zip_header_problem(info: zipfile.ZipInfo, source: str, limits: Limits) -> Problem | None:
    """Reject by the sizes the archive claims; the bytes actually read are checked again."""
    if info.file_size > limits.max_file_bytes:
        reason = f"file is larger than the {limits.max_file_bytes:,}-byte limit"
        return Problem(source, None, reason)
    if info.file_size > max(info.compress_size, 1) * limits.max_zip_ratio:
        return Problem(source, None, _ratio_reason(limits))
    return None


class _RatioExceeded(Exception):
    pass


class _RatioGuard:
    """A zip member stream that fails once it has inflated past the ratio or total limit."""

    def __init__(self, stream: IO[bytes], info: zipfile.ZipInfo, source: str, limits: Limits):
        self.stream = stream
        self.cap = max(info.compress_size, 1) * limits.max_zip_ratio
        self.source = source
        self.read_bytes = 0
        self.limits = limits
        if info.file_size > self.cap:
            raise _RatioExceeded(Problem(source, None, _ratio_reason(limits)))

    def readline(self, size: int = -1) -> bytes:
        line = self.stream.readline(size)
        self.read_bytes += len(line)
        if self.read_bytes > self.cap:
            raise _RatioExceeded(Problem(self.source, None, _ratio_reason(self.limits)))
        return line


class _CountingStream:
    """Reports every line's size so the batch's total limit holds while streaming."""

    def __init__(self, stream: _Lines, count: Callable[[int], None]) -> None:
        self.stream = stream
        self.count = count

    def readline(self, size: int = -1) -> bytes:
        line = self.stream.readline(size)
        self.count(len(line))
        return line


def copy_escape(value: str) -> str:
    """`value` as a field of PostgreSQL's COPY text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def article_sentences(text: str) -> list[tuple[int, int, int, str, str, str]]:
    """(paragraph, start, end, text, zone, zone rule) of every sentence of an article, in
    order: the segmenter's spans with the zone annotator/zones.py suggests for each."""
    spans = list(iter_sentences(text))
    suggestions = suggest_zones(text, spans)
    return [
        (span.paragraph, span.start, span.end, text[span.start : span.end], zone.zone, zone.rule)
        for span, zone in zip(spans, suggestions, strict=True)
    ]


def sentence_copy_rows(articles: Sequence[tuple[int, str]]) -> tuple[str, int]:
    """COPY text-format rows (article_id, ordinal, paragraph, start, end, text, zone,
    zone_rule, zone_confirmed, excluded) and their count: suggested zones, none confirmed.

    Runs in worker processes during big imports, hence plain data in and out.
    """
    lines = []
    for article_id, text in articles:
        prefix = f"{article_id}\t"
        for ordinal, (paragraph, start, end, sentence, zone, rule) in enumerate(
            article_sentences(text)
        ):
            if "\\" in sentence or "\t" in sentence or "\r" in sentence or "\n" in sentence:
                sentence = copy_escape(sentence)
            lines.append(
                f"{prefix}{ordinal}\t{paragraph}\t{start}\t{end}\t{sentence}\t{zone}\t{rule}\tf\tf\n"
            )
    return "".join(lines), len(lines)


def sentence_tuples(
    articles: Sequence[tuple[int, str]],
) -> list[tuple[int, int, int, int, int, str, str, str]]:
    """(article_id, ordinal, paragraph, start, end, text, zone, zone_rule) of every sentence,
    for bulk_create."""
    return [
        (article_id, ordinal, *sentence)
        for article_id, text in articles
        for ordinal, sentence in enumerate(article_sentences(text))
    ]
