"""/healthz and /readyz: what a load balancer's probe gets, and that it gets nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from annotator import health
from annotator.models import WorkerHeartbeat


@pytest.fixture(autouse=True)
def forget_migration_check() -> None:
    health._migrations_applied = False


def beat(*, seconds_ago: float = 0) -> WorkerHeartbeat:
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    return WorkerHeartbeat.objects.create(
        worker_id=f"w{seconds_ago}", hostname="h", pid=1, started_at=seen, seen_at=seen
    )


def assert_bare(response: object, status: int) -> None:
    """The status, and a body that says ok or unavailable and nothing else."""
    assert response.status_code == status
    assert response.content == (b"ok\n" if status == 200 else b"unavailable\n")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_without_the_database(client: Client) -> None:
    # No django_db mark: pytest-django fails any query this makes.
    assert_bare(client.get("/healthz"), 200)
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_needs_a_worker_seen_within_the_lease(client: Client, settings: object) -> None:
    settings.WORKER_LEASE_SECONDS = 30
    assert_bare(client.get("/readyz"), 503)
    old = beat(seconds_ago=120)
    assert_bare(client.get("/readyz"), 503)
    beat(seconds_ago=1)
    assert_bare(client.get("/readyz"), 200)
    old.delete()
    settings.READYZ_REQUIRES_WORKER = False
    WorkerHeartbeat.objects.all().delete()
    assert_bare(client.get("/readyz"), 200)


@pytest.mark.django_db
def test_readyz_is_unavailable_until_every_migration_is_applied(
    client: Client, settings: object
) -> None:
    settings.READYZ_REQUIRES_WORKER = False
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("DELETE FROM django_migrations WHERE app = 'annotator'")
    assert_bare(client.get("/readyz"), 503)


@pytest.mark.django_db
def test_probes_pass_host_checks_and_https_redirects_that_stop_other_requests(
    client: Client, settings: object
) -> None:
    # Production: HTTPS only, one public host name. A probe comes over plain HTTP to the
    # host's own address.
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["annotate.example.org"]
    settings.READYZ_REQUIRES_WORKER = False
    probe = {"HTTP_HOST": "10.0.0.5:8000"}
    assert_bare(client.get("/healthz", **probe), 200)
    assert_bare(client.get("/readyz", **probe), 200)
    # The same request to any page is refused for its Host, and redirected once allowed.
    assert client.get("/accounts/login/", **probe).status_code == 400
    redirected = client.get("/accounts/login/", HTTP_HOST="annotate.example.org")
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")


@pytest.mark.django_db
def test_other_methods_and_paths_are_left_to_the_site(client: Client) -> None:
    assert client.post("/healthz").status_code != 200
    assert client.get("/healthz/").status_code != 200
