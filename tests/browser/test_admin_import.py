"""A superuser imports a zip of articles from the admin and watches the job finish."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from annotator.models import Article, ImportJob, ImportStatus
from tests.browser.conftest import login


def test_superuser_uploads_zip_in_admin_and_sees_summary(
    browser_page, live_server, corpus, make_user, settings, tmp_path: Path
):
    root = make_user(username="root", is_staff=True, is_superuser=True)
    archive = tmp_path / "batch.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr(
            "one.txt", "Headline one\n\nThe ministry said exports rose. Critics disagreed."
        )
        out.writestr("two.txt", "Headline two\n\nA <script>alert(1)</script> in the text.")
    archive.write_bytes(buffer.getvalue())

    page: Page = browser_page
    login(page, live_server, root)
    page.goto(f"{live_server.url}/admin/annotator/corpus/{corpus.pk}/change/")
    page.get_by_role("link", name="Import articles").click()
    expect(page.get_by_text("No imports into this corpus yet")).to_be_visible()
    page.set_input_files("input[type=file]", str(archive))
    page.get_by_role("button", name="Import").click()

    expect(page.locator("#import-progress")).to_contain_text("Done")
    expect(page.locator("#import-progress")).to_contain_text("Imported 2 article(s)")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE
    assert set(Article.objects.values_list("external_id", flat=True)) == {"one.txt", "two.txt"}

    page.get_by_role("link", name="See the corpus's articles").click()
    expect(page.get_by_role("link", name="one.txt")).to_be_visible()
