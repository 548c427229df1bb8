"""manage.py release: cut (here or queued), list, show, download, diff, and its errors."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Corpus, Release, ReleaseStatus

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("release", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_cut_builds_here_and_reports(split_corpus: Corpus) -> None:
    output = run("cut", "splits", "--note", "From the shell.", "--context", "--by", "split-manager")
    release = Release.objects.get(corpus=split_corpus)
    assert release.status == ReleaseStatus.READY and release.context
    assert release.created_by.username == "split-manager"
    assert "Release 1 of splits: 60 records (train 48, validation 6, test 6)" in output


def test_list_show_download_and_diff(split_corpus: Corpus, tmp_path: Path) -> None:
    run("cut", "splits", "--no-anonymize")
    run("cut", "splits", "--note", "Second.")
    listing = run("list", "splits").splitlines()
    assert [line.split("\t")[:2] for line in listing] == [["1", "ready"], ["2", "ready"]]
    shown = json.loads(run("show", "splits", "2"))
    assert shown["note"] == "Second." and shown["anonymize"] is False  # carried over
    run("download", "splits", "2", str(tmp_path / "r2"))
    assert (tmp_path / "r2" / "data" / "train.parquet").exists()
    assert (tmp_path / "r2" / "README.md").read_text().startswith("---\n")
    diff = json.loads(run("diff", "splits", "1", "2"))
    assert diff["counts"]["sentences_added"] == 0 and diff["counts"]["split_moved"] == 0


def test_background_cut_only_queues(split_corpus: Corpus, settings: object) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    assert "queued" in run("cut", "splits", "--background")
    assert Release.objects.get().status == ReleaseStatus.QUEUED


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cut", "nowhere"), "No corpus"),
        (("cut", "splits", "--train", "0.5"), "add up to 1"),
        (("cut", "splits", "--by", "ghost"), "No user"),
        (("show", "splits", "4"), "has no release 4"),
        (("cut", "splits", "--train", "lots"), "not a number"),
    ],
)
def test_bad_input_is_a_clear_error(
    split_corpus: Corpus, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("release", *args, stdout=StringIO(), stderr=StringIO())
