"""Hostile uploads through every entry point: the `import_corpus` command, the import page and
the API's article upload.

Path traversal in archive members and upload names, zip bombs (ratio and total size), oversized
files, archives with too many members, binary and mislabelled files. Each must be refused with
a message naming the file, and no Article or Sentence row may appear. The import page turns a
valid form into a background import job: for problems found inside the file the job row is the
record (status failed, the problems listed); for problems found in the form no job is made.

Big inputs are built small: limits are lowered with `settings` where the real size would only
cost time, except one real 100 MB upload to the API, which must be refused without the server's
memory growing by anything near its size (uploads spool to disk).
"""

from __future__ import annotations

import io
import json
import resource
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import AbstractUser
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from annotator.models import Article, ImportJob, ImportStatus, Sentence, UploadChunk
from annotator.tokens import create_token

TEXT = "Seoul said the talks would resume. Pyongyang did not comment.\n"


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def incompressible_text(size: int, seed: int) -> bytes:
    """Text that deflate cannot shrink much (so only the size limit, not the ratio, applies)."""
    import random

    rng = random.Random(seed)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(4000)
    ]
    out = []
    length = 0
    while length < size:
        word = rng.choice(words)
        out.append(word)
        length += len(word) + 1
    return (" ".join(out)[:size] + ".").encode()


@dataclass
class Case:
    name: str  # the upload's file name
    data: bytes
    expect: str  # a piece of the reason every entry point must give
    settings: dict[str, int] | None = None


def cases() -> list[Case]:
    traversal = zip_of(
        {
            "ok.txt": TEXT.encode(),
            "../evil.txt": b"Escaped the folder.",
            "/etc/passwd.txt": b"Absolute path.",
            "..\\windows.txt": b"Backslash traversal.",
            "C:/drive.txt": b"Drive letter.",
        }
    )
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w", compression=zipfile.ZIP_STORED) as archive:
        for n in range(10_001):
            archive.writestr(f"a{n}.txt", b"x.")
    total = zip_of({f"part{n}.txt": incompressible_text(60_000, n) for n in range(3)})
    symlink = io.BytesIO()
    with zipfile.ZipFile(symlink, "w") as archive:
        archive.writestr("ok.txt", TEXT.encode())
        link = zipfile.ZipInfo("passwd.txt")
        link.create_system = 3  # Unix: the high 16 bits of external_attr are the file mode
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, b"/etc/passwd")
    return [
        Case("traversal.zip", traversal, "unsafe path in archive"),
        Case("ratio-bomb.zip", zip_of({"bomb.txt": b"a" * 3_000_000}), "zip bomb"),
        Case(
            "total-bomb.zip",
            total,
            "total limit",
            settings={"IMPORT_MAX_TOTAL_BYTES": 150_000},
        ),
        Case("members.zip", many.getvalue(), "10,000-member limit"),
        Case("symlink.zip", symlink.getvalue(), "symbolic link"),
        Case(
            "huge.txt",
            incompressible_text(300_000, 7),
            "-byte limit",
            {"IMPORT_MAX_FILE_BYTES": 200_000},
        ),
        Case("picture.txt", png_bytes(), "binary file"),
        Case("archive.jsonl", zip_of({"a.txt": TEXT.encode()}), "binary file"),
        Case("latin1.txt", "Café olé.".encode("latin-1"), "not UTF-8"),
        Case("script.exe", b"MZ\x90\x00", "unsupported file type"),
        Case("notes.txt.html", b"<p>hi</p>", "unsupported file type"),
        Case(
            "nested.zip",
            zip_of({"inner.zip": zip_of({"a.txt": TEXT.encode()})}),
            "unsupported file type",
        ),
        Case("corrupt.zip", b"PK\x03\x04" + b"garbage" * 20, "not a valid zip"),
        Case("empty.txt", b"  \n\t\n", "empty file"),
    ]


CASES = {case.name: case for case in cases()}


@pytest.fixture
def counts() -> Callable[[], tuple[int, int]]:
    return lambda: (Article.objects.count(), Sentence.objects.count())


@pytest.fixture
def upload_settings(settings: object) -> object:
    return settings


@pytest.mark.parametrize("name", CASES)
def test_import_command_refuses_and_names_the_file(
    name: str, corpus: object, tmp_path: Path, upload_settings: object, counts: Callable
) -> None:
    case = CASES[name]
    for key, value in (case.settings or {}).items():
        setattr(upload_settings, key, value)
    path = tmp_path / case.name
    path.write_bytes(case.data)
    before = counts()
    out = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_corpus", corpus.slug, str(path), stdout=out, stderr=io.StringIO())

    assert case.name in out.getvalue() and case.expect in out.getvalue(), out.getvalue()
    assert counts() == before


@pytest.mark.parametrize("name", CASES)
def test_api_upload_refuses_with_400_naming_the_file(
    name: str,
    corpus: object,
    manager: AbstractUser,
    upload_settings: object,
    counts: Callable,
) -> None:
    case = CASES[name]
    for key, value in (case.settings or {}).items():
        setattr(upload_settings, key, value)
    _, raw = create_token(user=manager, name="t")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    before = counts()

    response = client.post(
        "/api/v1/articles/",
        {"corpus": corpus.slug, "file": _named(case.name, case.data)},
    )

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    problems = " ".join(body["fields"].get("problems", []) + body["fields"].get("file", []))
    assert case.name in problems and case.expect in problems, problems
    assert counts() == before


@pytest.mark.parametrize("name", CASES)
def test_import_page_refuses_or_fails_the_job_naming_the_file(
    name: str,
    corpus: object,
    manager: AbstractUser,
    upload_settings: object,
    counts: Callable,
) -> None:
    case = CASES[name]
    for key, value in (case.settings or {}).items():
        setattr(upload_settings, key, value)
    client = Client()
    client.force_login(manager)
    before = counts()

    response = client.post(
        reverse("annotator:corpus-import", args=[corpus.slug]),
        {"files": _named(case.name, case.data)},
    )

    assert counts() == before
    job = ImportJob.objects.first()
    if job is None:  # refused by the form: the page says why
        assert response.status_code == 400
        page = response.content.decode()
        assert case.name in page and "unsupported file type" in page
    else:
        assert response.status_code == 302
        assert job.status == ImportStatus.FAILED
        reasons = " ".join(f"{p['source']}: {p['reason']}" for p in job.summary["rejected"])
        assert case.name in reasons and case.expect in reasons, reasons
        assert job.upload_bytes == 0 and not UploadChunk.objects.exists()  # upload not kept


@pytest.mark.parametrize(
    "upload_name", ["../evil.txt", "/etc/passwd", "..\\evil.txt", "..%2Fevil.txt", "a/../../b.txt"]
)
def test_upload_names_with_paths_never_leave_the_upload_folder(
    upload_name: str,
    corpus: object,
    manager: AbstractUser,
    upload_settings: object,
    tmp_path: Path,
) -> None:
    """Django keeps only the last part of an upload's name; the article is named by it."""
    _, raw = create_token(user=manager, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    response = api.post(
        "/api/v1/articles/", {"corpus": corpus.slug, "file": _named(upload_name, TEXT.encode())}
    )
    page = Client()
    page.force_login(manager)
    page.post(
        reverse("annotator:corpus-import", args=[corpus.slug]),
        {"files": _named(upload_name, b"Another text. Quite different.")},
    )

    for external_id in Article.objects.values_list("external_id", flat=True):
        # A bare file name ("..%2Fevil.txt" is one): no separator, nothing that climbs.
        assert "/" not in external_id and "\\" not in external_id
        assert external_id not in (".", "..")
    if response.status_code == 201:
        assert Article.objects.count() >= 1
    else:
        assert response.status_code == 400  # e.g. "/etc/passwd": no suffix, unsupported type
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert not UploadChunk.objects.exists()  # nothing left behind


def test_jsonl_content_in_a_txt_file_is_stored_as_plain_text(
    corpus: object, manager: AbstractUser
) -> None:
    """The suffix decides how a file is read: JSON lines named .txt are an article whose text is
    those lines, verbatim, never fields that set ids, titles or metadata."""
    _, raw = create_token(user=manager, name="t")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    data = b'{"id": "injected", "text": "Not a field.", "metadata": {"x": 1}}\n'

    response = client.post(
        "/api/v1/articles/", {"corpus": corpus.slug, "file": _named("lines.txt", data)}
    )

    assert response.status_code == 201
    article = Article.objects.get()
    assert (article.external_id, article.text, article.metadata) == (
        "lines.txt",
        data.decode(),
        {},
    )


def test_a_real_100_mb_upload_is_refused_without_holding_it_in_memory(
    live_server: object, corpus: object, manager: AbstractUser, counts: Callable
) -> None:
    """Streamed through real HTTP (the body is generated, never built in memory here); Django
    spools the file to disk and the importer refuses it by its size before reading it."""
    _, raw = create_token(user=manager, name="t")
    size = 100 * 1024 * 1024
    boundary = "hostile-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="corpus"\r\n\r\n{corpus.slug}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = _GeneratedBody(head, size, tail)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    response = requests.post(
        f"{live_server.url}/api/v1/articles/",
        data=body,
        headers={
            "Authorization": f"Bearer {raw}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        },
        timeout=300,
    )

    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert response.status_code == 400
    assert body.sent == size  # the whole body went out; the server did not stop reading early
    assert "big.txt: file is larger than the" in " ".join(
        response.json()["error"]["fields"]["problems"]
    )
    assert grown_mib < 50, f"the test process (with the live server) grew by {grown_mib:.0f} MiB"
    assert counts() == (0, 0)


class _GeneratedBody:
    """A multipart body of `size` bytes of text, produced in 1 MiB pieces as requests reads."""

    def __init__(self, head: bytes, size: int, tail: bytes) -> None:
        self.parts = [head, None, tail]
        self.size = size
        self.length = len(head) + size + len(tail)
        self.sent = 0
        self.block = (b"All work and no play. " * 50_000)[: 1 << 20]

    def __len__(self) -> int:
        return self.length

    def read(self, amount: int = -1) -> bytes:
        while self.parts:
            part = self.parts[0]
            if part is None:
                if self.sent < self.size:
                    piece = self.block[: min(len(self.block), self.size - self.sent)]
                    self.sent += len(piece)
                    return piece
                self.parts.pop(0)
                continue
            self.parts.pop(0)
            return part
        return b""


def _named(name: str, data: bytes) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


@pytest.mark.parametrize("field", ["text", "title", "metadata"])
def test_api_json_article_with_a_lone_surrogate_is_a_400_not_a_crash(
    field: str, corpus: object, manager: AbstractUser, counts: Callable
) -> None:
    """JSON can escape a lone surrogate; it is not text and cannot be stored."""
    _, raw = create_token(user=manager, name="t")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    fields = {"text": '"Fine text here."', "title": '"Title"', "metadata": '{"source": "x"}'}
    fields[field] = '{"k": "\\udc80"}' if field == "metadata" else '"bad \\ud800 here"'
    body = (
        f'{{"corpus": "{corpus.slug}", "external_id": "s1", "text": {fields["text"]}, '
        f'"title": {fields["title"]}, "metadata": {fields["metadata"]}}}'
    )

    response = client.post("/api/v1/articles/", body, content_type="application/json")

    assert response.status_code == 400
    assert "urrogate" in response.content.decode()
    assert counts() == (0, 0)


@pytest.mark.parametrize("field", ["external_id", "target", "annotator", "label"])
def test_label_import_with_a_lone_surrogate_is_a_400_naming_the_line(
    field: str, corpus: object, manager: AbstractUser
) -> None:
    _, raw = create_token(user=manager, name="t")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    record = {"external_id": "a.txt", "sentence_index": 0, "layer": "stance", "label": "favor"}
    record |= {"target": "Alliance", "annotator": "manager", field: "bad \ud800"}
    data = io.BytesIO(json.dumps(record).encode())
    data.name = "labels.jsonl"

    response = client.post("/api/v1/annotations/import/", {"corpus": corpus.slug, "file": data})

    assert response.status_code == 400
    assert "surrogate" in " ".join(response.json()["error"]["fields"]["line 1"])


@pytest.mark.parametrize("entry", ["api", "page"])
def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(
    entry: str,
    corpus: object,
    manager: AbstractUser,
    upload_settings: object,
    counts: Callable,
) -> None:
    """annotator/uploads.py refuses from the Content-Length: not one byte of the body is read
    (the test client's input stream is still full afterwards) and nothing is spooled."""
    upload_settings.IMPORT_MAX_TOTAL_BYTES = 1_000_000
    upload_settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    data = incompressible_text(1_100_000, 3)
    if entry == "api":
        client = Client(
            headers={"Authorization": f"Bearer {create_token(user=manager, name='t')[1]}"}
        )
        url, fields = "/api/v1/articles/", {"corpus": corpus.slug, "file": _named("big.txt", data)}
    else:
        client = Client(raise_request_exception=False)
        client.force_login(manager)
        url = reverse("annotator:corpus-import", args=[corpus.slug])
        fields = {"files": _named("big.txt", data)}

    response = client.post(url, fields)

    body = response.wsgi_request.META["wsgi.input"]
    assert len(body) == int(response.wsgi_request.META["CONTENT_LENGTH"])  # nothing read
    if entry == "api":
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["code"] == "too_large" and "1,010,000-byte limit" in error["message"]
    else:
        assert response.status_code == 413
        page = response.content.decode()
        assert "That upload is too large" in page and "1,010,000-byte limit" in page
        assert "Traceback" not in page
    assert counts() == (0, 0) and not ImportJob.objects.exists()
    assert not UploadChunk.objects.exists()
