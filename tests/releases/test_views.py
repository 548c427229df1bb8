"""The release pages: who sees and cuts what, the status fragment, downloads, diff, queries."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from annotator.models import Corpus, Release, ReleaseStatus

pytestmark = pytest.mark.django_db


def list_url(slug: str = "korea") -> str:
    return reverse("annotator:release-list", kwargs={"slug": slug})


def detail_url(number: int, slug: str = "korea") -> str:
    return reverse("annotator:release-detail", kwargs={"slug": slug, "number": number})


def file_url(number: int, name: str, slug: str = "korea") -> str:
    return reverse("annotator:release-file", kwargs={"slug": slug, "number": number, "name": name})


CUT = {
    "note": "First release.",
    "include": "gold_or_majority",
    "anonymize": "on",
    "train": "0.8",
    "validation": "0.1",
    "test": "0.1",
    "seed": "0",
    "license": "cc-by-4.0",
}


def test_a_manager_cuts_a_release_and_lands_on_its_page(
    client: Client, labelled_corpus: Corpus, manager
) -> None:
    client.force_login(manager)
    response = client.post(list_url(), CUT)

    release = Release.objects.get(corpus=labelled_corpus)
    assert response.status_code == 302 and response.url == detail_url(1)
    # Tests run the background task inline, so it is ready at once.
    assert release.status == ReleaseStatus.READY and release.license == "cc-by-4.0"
    page = client.get(detail_url(1)).content.decode()
    assert "First release." in page and "data/train.parquet" in page
    assert "Korea coverage: release 1" in page  # the dataset card, rendered
    assert "pretty_name" not in page  # its YAML header is for the hub, not the page


def test_bad_shares_are_refused_with_the_reason(
    client: Client, labelled_corpus: Corpus, manager
) -> None:
    client.force_login(manager)
    response = client.post(list_url(), {**CUT, "train": "0.5"})
    assert response.status_code == 400
    assert "add up to 1" in response.content.decode()
    assert not Release.objects.exists()


def test_curators_see_and_download_but_do_not_cut(
    client: Client, labelled_corpus: Corpus, curator, release_of
) -> None:
    release = release_of(labelled_corpus)
    client.force_login(curator)
    page = client.get(list_url())
    assert page.status_code == 200 and "Cut a new release" not in page.content.decode()
    assert client.post(list_url(), CUT).status_code == 403
    download = client.get(file_url(1, "data/train.parquet"))
    body = b"".join(download.streaming_content)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.apache.parquet"
    assert 'filename="korea-release-1-train.parquet"' in download["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == release.file("data/train.parquet")["sha256"]


@pytest.mark.parametrize("who", ["annotator", "outsider"])
def test_annotators_and_outsiders_get_404(
    client: Client, request, labelled_corpus: Corpus, release_of, who: str
) -> None:
    release_of(labelled_corpus)
    client.force_login(request.getfixturevalue(who))
    for url in (
        list_url(),
        detail_url(1),
        file_url(1, "README.md"),
        reverse("annotator:release-diff", kwargs={"slug": "korea"}),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(list_url(), CUT).status_code == 404


def test_unknown_files_and_releases_are_404(
    client: Client, labelled_corpus: Corpus, manager, release_of
) -> None:
    release_of(labelled_corpus)
    client.force_login(manager)
    assert client.get(file_url(1, "../../settings.py")).status_code == 404
    assert client.get(file_url(1, "data/nothing.parquet")).status_code == 404
    assert client.get(detail_url(9)).status_code == 404


def test_the_status_fragment_polls_until_the_build_is_over(
    client: Client, labelled_corpus: Corpus, manager
) -> None:
    from annotator.releases.building import build_release
    from annotator.releases.catalog import ReleaseOptions, cut_release

    release = cut_release(corpus=labelled_corpus, options=ReleaseOptions(), enqueue=False)
    client.force_login(manager)
    fragment = client.get(detail_url(1), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert 'hx-trigger="every 2s"' in html and "Queued" in html and "<html" not in html
    page = client.get(detail_url(1)).content.decode()
    assert "Queued" in page and "Files" not in page
    build_release(release.pk, replicates=10)
    done = client.get(detail_url(1), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_diff_page_shows_what_changed(
    client: Client, labelled_corpus: Corpus, manager, gold, release_of
) -> None:
    release_of(labelled_corpus)
    sentence = labelled_corpus.articles.get(external_id="article-01.txt").sentences.get(ordinal=1)
    gold(sentence=sentence, value="opinion", by=manager)
    release_of(labelled_corpus)
    client.force_login(manager)

    page = client.get(reverse("annotator:release-diff", kwargs={"slug": "korea"}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Gold labels settled" in html and sentence.text in html
    bad = client.get(reverse("annotator:release-diff", kwargs={"slug": "korea"}) + "?from=1&to=7")
    assert bad.status_code == 400


def test_list_page_queries_do_not_grow_with_releases(
    client: Client, labelled_corpus: Corpus, manager, django_assert_num_queries
) -> None:
    from annotator.releases.catalog import ReleaseOptions, cut_release

    client.force_login(manager)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(list_url()).status_code == 200
        return len(queries)

    for _ in range(2):
        cut_release(corpus=labelled_corpus, options=ReleaseOptions(), enqueue=False)
    few = count()
    for _ in range(3):
        cut_release(corpus=labelled_corpus, options=ReleaseOptions(), enqueue=False)
    # session + user, corpus with role, may_cut's role, last release (form defaults), releases
    with django_assert_num_queries(few):
        assert client.get(list_url()).status_code == 200
    assert few == 6


def test_corpus_menu_links_to_releases_for_reviewers_only(
    client: Client, labelled_corpus: Corpus, manager, annotator
) -> None:
    page = reverse("annotator:corpus-detail", kwargs={"slug": "korea"})
    client.force_login(manager)
    assert list_url() in client.get(page).content.decode()
    client.force_login(annotator)
    assert list_url() not in client.get(page).content.decode()


@pytest.mark.parametrize("through", ["page", "api"])
@pytest.mark.django_db(transaction=True)
def test_release_downloads_are_never_paced_while_live_exports_are(
    through: str,
    client: Client,
    settings,  # noqa: ANN001 - pytest-django fixture
    monkeypatch: pytest.MonkeyPatch,
    labelled_corpus: Corpus,
    manager,  # noqa: ANN001
    release_of,  # noqa: ANN001
) -> None:
    # Export pacing is for the live export, whose body is computed while it streams; a release
    # file is bytes on disk (bench/README.md, "Export pacing after releases").
    from annotator import background_stream
    from annotator.middleware import site_activity
    from annotator.throttling import DutyCycle
    from annotator.tokens import create_token

    paced: list[DutyCycle] = []

    def recording(fraction: float, busy: object) -> DutyCycle:
        paced.append(DutyCycle(fraction, busy=busy))
        return paced[-1]

    monkeypatch.setattr(background_stream, "DutyCycle", recording)
    settings.EXPORT_DUTY_CYCLE = 0.5
    release = release_of(labelled_corpus)
    site_activity().touch()  # people are annotating right now
    headers = {}
    if through == "api":
        _, token = create_token(user=manager, name="tests")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        url = f"/api/v1/corpora/korea/releases/{release.number}/files/data/train.parquet/"
        live_url = "/api/v1/corpora/korea/export/?format=jsonl"
    else:
        client.force_login(manager)
        url = file_url(release.number, "data/train.parquet")
        live_url = reverse("annotator:corpus-export-download", kwargs={"slug": "korea"})
        live_url += "?format=jsonl"

    download = client.get(url, **headers)

    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == release.file("data/train.parquet")["sha256"]
    assert paced == []
    # The same client, the same moment: the live export is paced (so `paced` can fill up).
    live = client.get(live_url, **headers)
    assert live.status_code == 200 and b"".join(live.streaming_content)
    assert [cycle.fraction for cycle in paced] == [0.5]
