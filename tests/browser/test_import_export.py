"""A manager imports files and watches the job to its end; a curator chooses export options,
reads the matching API call and command as they change, and downloads the file. Neither page
breaks the Content-Security-Policy."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from playwright.sync_api import Page, expect

from annotator.models import Article, Corpus, ImportJob, ImportStatus, Layer
from annotator.tasks import import_upload
from tests.browser.conftest import login

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""
# Enqueued tasks wait here instead of running inline, so the test decides when the "worker"
# runs and the page can be seen waiting, then moving, then done.
HELD_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def test_manager_uploads_files_watches_the_bar_and_finds_the_job_in_the_history(
    browser_page: Page,
    live_server: object,
    corpus: Corpus,
    manager: object,
    settings: object,
    tmp_path: Path,
) -> None:
    settings.TASKS = HELD_TASKS
    one = tmp_path / "one.txt"
    one.write_text("Headline one\n\nThe ministry said exports rose. Critics disagreed.\n")
    two = tmp_path / "two.jsonl"
    two.write_text(json.dumps({"id": "j1", "title": "Two", "text": "From a JSONL line."}) + "\n")
    page = browser_page
    page.add_init_script(COLLECT_VIOLATIONS)
    login(page, live_server, manager)

    page.goto(f"{live_server.url}{corpus.get_absolute_url()}")
    page.get_by_role("navigation", name="Corpus").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import articles")).to_be_visible()
    expect(page.get_by_text("No imports into this corpus yet")).to_be_visible()
    page.set_input_files("#id_files", [str(one), str(two)])
    page.get_by_role("button", name="Import").click()

    job_box = page.locator("#import-job")
    expect(job_box).to_contain_text("Queued")
    expect(job_box).to_contain_text("No background worker has been seen yet")
    bar = page.locator("#import-progress progress")
    expect(bar).to_have_attribute("value", "0")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.QUEUED and job.file_name == "2 files.zip"

    # The page polls: progress written by the worker shows up without a reload.
    ImportJob.objects.filter(pk=job.pk).update(processed=1, total=2)
    expect(bar).to_have_attribute("value", "1")
    expect(job_box).to_contain_text("1 / 2 articles")

    import_upload.call(job.pk)  # the worker runs the job
    expect(job_box).to_contain_text("Done")
    expect(page.locator("#import-summary")).to_contain_text(
        "Imported 2 articles (4 sentences); skipped 0 already in the corpus."
    )
    expect(bar).to_have_count(0)
    assert set(Article.objects.values_list("external_id", flat=True)) == {"one.txt", "j1"}

    page.get_by_role("link", name="Import more").click()
    row = page.locator("#import-history tbody tr").first
    expect(row).to_contain_text("2 files.zip")
    expect(row).to_contain_text("Done")
    expect(row).to_contain_text("manager")
    expect(row).to_contain_text("2 articles imported (4 sentences), 0 skipped")
    assert page.evaluate("window.__cspViolations") == []


def test_curator_chooses_options_reads_the_commands_and_downloads_the_file(
    browser_page: Page,
    live_server: object,
    corpus: Corpus,
    curator: object,
    annotator: object,
    other_annotator: object,
    make_article: object,
    make_annotation: object,
) -> None:
    article = make_article(
        corpus=corpus, text="Seoul said talks resume. That is welcome.", external_id="k.txt"
    )
    first, second = article.sentences.order_by("ordinal")
    for user in (annotator, other_annotator):
        make_annotation(sentence=first, annotator=user, value="factual_claim")
        make_annotation(sentence=second, annotator=user, value="opinion")
    make_annotation(sentence=second, annotator=annotator, value="favor", layer=Layer.STANCE)
    page = browser_page
    page.add_init_script(COLLECT_VIOLATIONS)
    login(page, live_server, curator)

    page.goto(f"{live_server.url}{corpus.get_absolute_url()}")
    page.get_by_role("navigation", name="Corpus").get_by_role("link", name="Export").click()
    command = page.locator("#export-command")
    curl = page.locator("#export-curl")
    expect(command).to_have_text(
        ".venv/bin/python manage.py export_dataset korea -o korea-wide.jsonl"
    )
    expect(curl).to_contain_text("Authorization: Bearer <your token>")

    # Each change asks the server for the matching commands; nothing is submitted.
    page.check("input[name=format][value=csv]")
    expect(command).to_contain_text("--format csv -o korea-wide.csv")
    page.check("input[name=shape][value=long]")
    page.check("input[name=anonymize]")
    expect(command).to_have_text(
        ".venv/bin/python manage.py export_dataset korea --format csv --shape long "
        "--anonymize -o korea-long.csv"
    )
    expect(curl).to_contain_text(
        f"{live_server.url}/api/v1/corpora/korea/export/?format=csv&shape=long&anonymize=1"
    )
    expect(page).to_have_url(
        f"{live_server.url}/corpora/korea/export/?format=csv&shape=long&layer=&anonymize=1"
        "&since=&until="
    )

    with page.expect_download() as waiting:
        page.get_by_role("button", name="Download").click()
    download = waiting.value
    assert download.suggested_filename.startswith("korea-long-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 5  # one row per annotation
    assert {row["label"] for row in rows} == {"factual_claim", "opinion", "favor"}
    assert all(row["annotator"].startswith("annotator-") for row in rows)
    assert page.evaluate("window.__cspViolations") == []
