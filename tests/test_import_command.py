"""`manage.py import_corpus`: summary, exit status, --create, and all-or-nothing from the shell."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotator.activity import ActivityBeacon
from annotator.middleware import site_activity
from annotator.models import Article, Corpus, LabelChoice, Sentence

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def wait_until_recorded(beacon: ActivityBeacon) -> None:
    deadline = time.monotonic() + 10
    while not beacon.writes and time.monotonic() < deadline:
        time.sleep(0.02)
    assert beacon.writes, "the activity writer never wrote the beat"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_corpus", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_makes_corpus_with_default_schema_and_imports(db: None) -> None:
    out, err = run("fresh", str(SAMPLES), "--create")
    corpus = Corpus.objects.get(slug="fresh")
    assert LabelChoice.objects.filter(corpus=corpus).count() == 7
    assert corpus.articles.count() == 5
    sentences = Sentence.objects.filter(article__corpus=corpus).count()
    assert f"Imported 5 article(s) ({sentences} sentences); skipped 0 already present" in out
    assert "5/5" in err  # the progress bar went to stderr


def test_missing_corpus_without_create_names_the_slug(db: None) -> None:
    with pytest.raises(CommandError, match="No corpus with slug 'nope'; pass --create"):
        run("nope", str(SAMPLES))
    assert not Corpus.objects.exists()


def test_second_import_skips_everything(corpus: Corpus) -> None:
    run(corpus.slug, str(SAMPLES))
    out, _ = run(corpus.slug, str(SAMPLES))
    assert "Imported 0 article(s) (0 sentences); skipped 5 already present; rejected 0." in out
    assert corpus.articles.count() == 5


def test_rejection_lists_file_and_reason_and_fails(corpus: Corpus, tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(CommandError, match="1 problem"):
        out = io.StringIO()
        try:
            call_command(
                "import_corpus",
                corpus.slug,
                str(SAMPLES),
                str(tmp_path / "bad.jsonl"),
                stdout=out,
                stderr=io.StringIO(),
            )
        finally:
            text = out.getvalue()
    assert f"{tmp_path / 'bad.jsonl'}, line 1: missing field 'text'" in text
    assert "nothing was imported" in text
    assert Article.objects.count() == 0


def test_a_rejected_import_leaves_no_corpus_it_created(db: None, tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_corpus",
            "fresh",
            str(tmp_path / "bad.jsonl"),
            "--create",
            stdout=out,
            stderr=io.StringIO(),
        )
    assert "Removed corpus 'fresh', created for this import." in out.getvalue()
    assert not Corpus.objects.exists()
    assert not LabelChoice.objects.exists()


def test_a_rejected_import_keeps_a_corpus_that_was_there(corpus: Corpus, tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(CommandError):
        run(corpus.slug, str(tmp_path / "bad.jsonl"), "--create")
    assert Corpus.objects.filter(pk=corpus.pk).exists()


@pytest.mark.parametrize("someone_annotating", [True, False])
def test_duty_cycle_paces_the_import_only_while_the_site_is_in_use(
    quiet_site: None, monkeypatch: pytest.MonkeyPatch, someone_annotating: bool
) -> None:
    from annotator import importing
    from annotator.throttling import DutyCycle

    cycles: list[DutyCycle] = []

    def recording(fraction: float, busy: object) -> DutyCycle:
        cycles.append(DutyCycle(fraction, slice_seconds=0, busy=busy))
        return cycles[-1]

    monkeypatch.setattr(importing, "DutyCycle", recording)
    if someone_annotating:
        site_activity().touch()  # a page view, on this or any other web host
        wait_until_recorded(site_activity())
    run("full", str(SAMPLES), "--create")
    run("paced", str(SAMPLES), "--create", "--duty-cycle", "0.5")

    def stored(slug: str) -> list[tuple[str, int, str]]:
        return list(
            Sentence.objects.filter(article__corpus__slug=slug)
            .order_by("article__external_id", "ordinal")
            .values_list("article__external_id", "ordinal", "text")
        )

    assert stored("paced") == stored("full") != []
    full, paced = cycles
    assert full.rested == 0
    if someone_annotating:
        # At 50 % (resting after every stretch) the import rested exactly as long as it worked.
        assert paced.rested > 0
        assert paced.rested == pytest.approx(paced.worked)
    else:
        assert paced.rested == 0


@pytest.mark.parametrize("value", ["0", "1.5", "half"])
def test_duty_cycle_outside_zero_to_one_is_refused(db: None, value: str) -> None:
    with pytest.raises(CommandError, match="--duty-cycle"):
        run("fresh", str(SAMPLES), "--create", "--duty-cycle", value)
    assert not Corpus.objects.exists()
