"""The site-wide activity record that lets background work give way to annotators.

The record is a row in the database written by a thread of each web process, so these tests
run as transactional tests: what one beacon writes is committed, as another host would see it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Now
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotator.activity import ActivityBeacon
from annotator.middleware import site_activity
from annotator.models import Corpus, ImportJob, Role, SiteActivity


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def eventually(condition: Callable[[], object], *, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def set_last_seen(seconds_from_now: float) -> None:
    """Put the record `seconds_from_now` away from the database's now (negative: the past)."""
    SiteActivity.objects.update_or_create(
        id=SiteActivity.SINGLETON_ID,
        defaults={"last_seen": Now() + Value(timedelta(seconds=seconds_from_now))},
    )


@pytest.fixture
def beacons(quiet_site: None) -> Iterator[Callable[..., ActivityBeacon]]:
    """Beacons as separate hosts would have them, on a database where nobody was active yet."""
    made: list[ActivityBeacon] = []

    def make(**options: object) -> ActivityBeacon:
        made.append(ActivityBeacon(**{"window_seconds": 5, **options}))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for beacon in made:
        beacon.stop()


def test_a_touch_on_one_host_is_seen_by_another(beacons: Callable[..., ActivityBeacon]) -> None:
    web, worker = beacons(), beacons()
    assert not worker.recently_active()
    assert web.last_seen() is None

    web.touch()

    assert eventually(worker.recently_active), "the worker never saw the web host's request"
    assert web.writes == 1 and worker.writes == 0


def test_the_window_is_measured_by_the_database_clock(
    beacons: Callable[..., ActivityBeacon],
) -> None:
    # Only the database's time counts: this process's clock is frozen and plays no part.
    clock = FakeClock(0.0)
    beacon = beacons(window_seconds=5, read_cache_seconds=0, clock=clock)
    set_last_seen(-4)
    assert beacon.recently_active()
    set_last_seen(-6)
    assert not beacon.recently_active()
    set_last_seen(3600)  # ahead of the database: a person is active for the hour to come
    assert beacon.recently_active()


def test_a_write_never_moves_the_time_backwards(beacons: Callable[..., ActivityBeacon]) -> None:
    set_last_seen(3600)
    ahead = SiteActivity.objects.get().last_seen
    assert beacons().write()
    assert SiteActivity.objects.get().last_seen == ahead
    set_last_seen(-60)
    behind = SiteActivity.objects.get().last_seen
    assert beacons().write()
    assert SiteActivity.objects.get().last_seen >= behind + timedelta(seconds=59)


def test_reads_are_cached_so_a_duty_cycle_asks_rarely(
    beacons: Callable[..., ActivityBeacon],
    django_assert_num_queries: Callable[..., object],
) -> None:
    clock = FakeClock(100.0)
    beacon = beacons(read_cache_seconds=0.5, clock=clock)
    set_last_seen(-1)
    with django_assert_num_queries(1):
        assert all(beacon.recently_active() for _ in range(100))  # 50 Hz for two seconds
        clock.now += 0.4
        assert beacon.recently_active()
    set_last_seen(-60)
    assert beacon.recently_active()  # the cached answer, for up to half a second
    clock.now += 0.2
    with django_assert_num_queries(1):
        assert not beacon.recently_active()
        assert not beacon.recently_active()


def test_the_writer_writes_at_most_once_per_interval(
    beacons: Callable[..., ActivityBeacon],
) -> None:
    beacon = beacons(write_interval_seconds=0.5)
    started = time.monotonic()
    while time.monotonic() - started < 1.2:
        beacon.touch()  # a busy site: a request every 10 ms
        time.sleep(0.01)
    beacon.stop()
    # Writes at about 0, 0.5 and 1.0 s; one per touch would be over a hundred.
    assert 2 <= beacon.writes <= 3


def test_a_failed_write_is_dropped_and_the_writer_carries_on(
    beacons: Callable[..., ActivityBeacon],
    caplog: pytest.LogCaptureFixture,
) -> None:
    beacon = beacons(write_interval_seconds=0.1)
    table = SiteActivity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        with caplog.at_level(logging.WARNING, logger="annotator.activity"):
            beacon.touch()  # must not raise
            assert eventually(lambda: "Could not record site activity" in caplog.text)
        assert beacon.writes == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')
    beacon.touch()
    assert eventually(lambda: beacon.writes == 1), "the writer did not recover"
    assert beacons().recently_active()


def test_a_page_view_marks_the_site_active_without_a_query_of_its_own(
    beacons: Callable[..., ActivityBeacon],
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    client: Client,
) -> None:
    client.force_login(make_member(corpus=corpus))
    worker = beacons()
    assert not worker.recently_active()

    with CaptureQueriesContext(connection) as request_queries:
        assert client.get(corpus.get_absolute_url()).status_code == 200

    table = SiteActivity._meta.db_table
    assert not [query for query in request_queries if table in query["sql"]]
    assert site_activity().touched_at is not None
    assert eventually(worker.recently_active), "the page view was never recorded"


def test_api_requests_and_watching_background_work_do_not_count(
    beacons: Callable[..., ActivityBeacon],
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., object],
    client: Client,
) -> None:
    """API clients are scripts (the export's own among them); the import page polls its job
    every second and a download is the export itself: counting them would slow down the very
    work they watch or fetch."""
    make_article(corpus=corpus)
    job = ImportJob.objects.create(corpus=corpus, file_name="a.txt")
    client.force_login(make_member(corpus=corpus, role=Role.MANAGER))

    assert client.get(f"/api/v1/articles/?corpus={corpus.slug}").status_code == 200
    api_export = client.get(f"/api/v1/corpora/{corpus.slug}/export/?format=jsonl")
    assert api_export.status_code == 200 and b"".join(api_export.streaming_content)
    poll = client.get(f"/corpora/{corpus.slug}/import/{job.pk}/", headers={"HX-Request": "true"})
    assert poll.status_code == 200
    download = client.get(f"/corpora/{corpus.slug}/export/download/?format=csv")
    assert download.status_code == 200 and b"".join(download.streaming_content)

    assert site_activity().touched_at is None
    assert site_activity().writes == 0 and not SiteActivity.objects.exists()
    assert client.get(f"/corpora/{corpus.slug}/export/").status_code == 200
    assert site_activity().touched_at is not None


@pytest.mark.parametrize(
    "address", ["/api/v1/corpora/{slug}/export/", "/corpora/{slug}/export/download/"]
)
def test_the_export_is_paced_at_the_setting_and_asks_the_activity_record(
    address: str,
    beacons: Callable[..., ActivityBeacon],
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
    assert cycle.busy is not None and not cycle.busy()
    client.get(corpus.get_absolute_url())
    assert eventually(cycle.busy), "the export never learnt of the page view"
