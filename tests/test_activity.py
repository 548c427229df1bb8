"""The machine-wide activity record that lets background work give way to annotators."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

from annotator.activity import ActivityBeacon
from annotator.middleware import site_activity
from annotator.models import Corpus, Role


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_nobody_active_until_the_first_touch_and_then_for_the_window(tmp_path: Path) -> None:
    clock = FakeClock(1_000_000.0)
    beacon = ActivityBeacon(tmp_path / "activity", window_seconds=5, clock=clock)
    assert not beacon.recently_active()
    beacon.touch()
    assert beacon.last_activity() == pytest.approx(1_000_000.0)
    clock.now += 5
    assert beacon.recently_active()
    clock.now += 0.5
    assert not beacon.recently_active()


def test_another_process_sees_the_touch_through_the_file(tmp_path: Path) -> None:
    clock = FakeClock(2_000_000.0)
    web = ActivityBeacon(tmp_path / "activity", window_seconds=5, clock=clock)
    worker = ActivityBeacon(tmp_path / "activity", window_seconds=5, clock=clock)
    web.touch()
    assert worker.recently_active()


def test_touches_are_rate_limited_per_process(tmp_path: Path) -> None:
    clock = FakeClock(3_000_000.0)
    beacon = ActivityBeacon(
        tmp_path / "activity", window_seconds=5, touch_interval_seconds=1, clock=clock
    )
    beacon.touch()
    clock.now += 0.5
    beacon.touch()  # within the interval: the file keeps the first time
    assert beacon.last_activity() == pytest.approx(3_000_000.0)
    clock.now += 0.6
    beacon.touch()
    assert beacon.last_activity() == pytest.approx(3_000_001.1)


@pytest.fixture
def activity_file(tmp_path: Path, settings) -> Path:  # noqa: ANN001 - pytest-django fixture
    settings.ACTIVITY_FILE = str(tmp_path / "activity")
    return tmp_path / "activity"


@pytest.mark.django_db
def test_a_page_view_marks_the_site_active(
    activity_file: Path,
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    client: Client,
) -> None:
    client.force_login(make_member(corpus=corpus))
    assert not site_activity().recently_active()
    assert client.get(corpus.get_absolute_url()).status_code == 200
    assert activity_file.exists()
    assert site_activity().recently_active()


@pytest.mark.django_db
def test_api_requests_do_not_count_as_people_using_the_site(
    activity_file: Path,
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., object],
    client: Client,
) -> None:
    make_article(corpus=corpus)
    client.force_login(make_member(corpus=corpus, role=Role.MANAGER))
    assert client.get(f"/api/v1/articles/?corpus={corpus.slug}").status_code == 200
    response = client.get(f"/api/v1/corpora/{corpus.slug}/export/?format=jsonl")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
    assert not activity_file.exists()
    assert client.get(corpus.get_absolute_url()).status_code == 200
    assert activity_file.exists()


def test_an_unwritable_location_never_fails_the_request(tmp_path: Path) -> None:
    beacon = ActivityBeacon(tmp_path / "missing-folder" / "activity", window_seconds=5)
    beacon.touch()  # must not raise
    assert not beacon.recently_active()


def test_a_symlink_planted_at_the_path_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.utime(victim, (1_000.0, 1_000.0))
    (tmp_path / "activity").symlink_to(victim)
    beacon = ActivityBeacon(tmp_path / "activity", window_seconds=5)
    beacon.touch()
    assert victim.stat().st_mtime == 1_000.0
    assert victim.read_text() == "keep"


@pytest.mark.django_db
def test_watching_an_import_or_downloading_an_export_does_not_count(
    activity_file: Path,
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., object],
    client: Client,
) -> None:
    """The import page polls its job every second, and a download is the export itself:
    counting them would slow down the very work they watch or fetch."""
    from annotator.models import ImportJob

    make_article(corpus=corpus)
    job = ImportJob.objects.create(corpus=corpus, file_name="a.txt")
    client.force_login(make_member(corpus=corpus, role=Role.MANAGER))

    poll = client.get(f"/corpora/{corpus.slug}/import/{job.pk}/", headers={"HX-Request": "true"})
    download = client.get(f"/corpora/{corpus.slug}/export/download/?format=csv")

    assert poll.status_code == 200
    assert download.status_code == 200 and b"".join(download.streaming_content)
    assert not activity_file.exists()
    assert client.get(f"/corpora/{corpus.slug}/export/").status_code == 200
    assert activity_file.exists()


@pytest.mark.parametrize(
    "address", ["/api/v1/corpora/{slug}/export/", "/corpora/{slug}/export/download/"]
)
@pytest.mark.django_db(transaction=True)
def test_the_export_is_paced_at_the_setting_and_asks_the_activity_record(
    address: str,
    activity_file: Path,
    settings,  # noqa: ANN001 - pytest-django fixture
    monkeypatch: pytest.MonkeyPatch,
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., object],
    client: Client,
) -> None:
    from annotator import background_stream
    from annotator.throttling import DutyCycle

    cycles: list[DutyCycle] = []

    def recording(fraction: float, busy: object) -> DutyCycle:
        cycles.append(DutyCycle(fraction, busy=busy))
        return cycles[-1]

    monkeypatch.setattr(background_stream, "DutyCycle", recording)
    settings.EXPORT_DUTY_CYCLE = 0.3
    make_article(corpus=corpus)
    client.force_login(make_member(corpus=corpus, role=Role.MANAGER))

    response = client.get(address.format(slug=corpus.slug) + "?format=jsonl")

    assert response.status_code == 200 and b"".join(response.streaming_content)
    (cycle,) = cycles
    assert cycle.fraction == 0.3
    assert not cycle.busy()
    client.get(corpus.get_absolute_url())
    assert cycle.busy()
