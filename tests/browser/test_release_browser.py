"""A manager cuts a dataset release in the browser, sees its files and card, and downloads one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from annotator.models import Release, ReleaseStatus, Role
from tests.browser.conftest import login

TEXT = "The minister said the plan works. Critics disagree with him.\n\nReaders wrote in."


def test_manager_cuts_a_release_and_downloads_a_file(
    browser_page,
    live_server,
    make_corpus,
    make_member,
    make_article,
    make_annotation,
    settings,
    tmp_path: Path,
):
    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "releases")},
        },
    }
    corpus = make_corpus(name="Korea coverage", slug="korea")
    manager = make_member(corpus=corpus, role=Role.MANAGER, username="manager")
    people = [make_member(corpus=corpus, username=name) for name in ("alice", "bruno")]
    for number in range(12):
        article = make_article(corpus=corpus, text=TEXT.replace("plan", f"plan {number}"))
        for sentence in article.sentences.all():
            for person in people:
                make_annotation(sentence=sentence, annotator=person, value="opinion")
    page = browser_page
    login(page, live_server, manager)

    page.goto(f"{live_server.url}/corpora/korea/")
    page.get_by_role("navigation", name="Corpus").get_by_role("link", name="Releases").click()
    page.fill("#id_note", "First release for the classifier.")
    page.fill("#id_license", "cc-by-4.0")
    page.click("button:has-text('Cut release')")
    page.wait_for_url(f"{live_server.url}/corpora/korea/releases/1/")
    page.wait_for_selector("table.release-files")
    assert "First release for the classifier." in page.inner_text("main")
    assert "Korea coverage: release 1" in page.inner_text(".dataset-card")
    if os.environ.get("RELEASE_SCREENSHOT"):
        page.screenshot(path=os.environ["RELEASE_SCREENSHOT"], full_page=True)

    with page.expect_download() as download:
        page.click("table.release-files >> text=data/train.parquet")
    saved = tmp_path / "train.parquet"
    download.value.save_as(saved)
    release = Release.objects.get(corpus=corpus)
    assert release.status == ReleaseStatus.READY
    assert (
        hashlib.sha256(saved.read_bytes()).hexdigest()
        == release.file("data/train.parquet")["sha256"]
    )
