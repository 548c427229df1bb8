"""Several web hosts, one database: an upload on one host is imported by a worker on another
and followed from a third; the probes of a host follow the database; people working on one
host pace the background work of another.

Two gunicorn instances and a worker, each with its own working directory, temporary folder
and MEDIA_ROOT, as on three machines; they share nothing but the test database. The manager's
session lives in the database, so both hosts know it; they upload on host A and read the
progress on host B.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import AbstractUser
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client

from annotator.models import Corpus, ImportJob, ImportStatus, Role, SiteActivity, UploadChunk
from annotator.tasks import start_import
from tests.faults.conftest import (
    DB_BACKEND,
    ROOT,
    WorkerProcess,
    database_name,
    database_url,
    jsonl_articles,
    wait_for,
)

pytestmark = pytest.mark.slow

# Unpaced, a worker imports this many in under a second here; paced to 5 %, in about 19 s.
ARTICLES = 3000
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def host_environment(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a process on a machine of its own: its own disk folders."""
    for name in ("tmp", "media"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    environment = {
        key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="annotator.settings",
        DATABASE_URL=database_url(),
        DEBUG="1",
        ALLOWED_HOSTS="127.0.0.1",
        TMPDIR=str(folder / "tmp"),
        MEDIA_ROOT=str(folder / "media"),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return environment


@pytest.fixture
def web_hosts(transactional_db: None, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """`start("a")` runs gunicorn as host "a" (its own folder) and returns its base URL."""
    servers: list[subprocess.Popen] = []

    def start(name: str) -> str:
        folder = tmp_path / f"host-{name}"
        port = free_port()
        environment = host_environment(
            folder, PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_THREADS="2"
        )
        with (tmp_path / f"gunicorn-{name}.log").open("wb") as log:
            servers.append(
                subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "gunicorn"),
                        "--config",
                        str(ROOT / "gunicorn.conf.py"),
                        "annotator.wsgi",
                    ],
                    cwd=folder,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def csrf_token(session: requests.Session, url: str) -> str:
    return CSRF_INPUT.search(session.get(url, timeout=30).text).group(1)


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_upload_on_one_host_is_imported_by_a_worker_elsewhere_and_followed_on_another(
    web_hosts: Callable[[str], str],
    corpus: Corpus,
    make_user: Callable[..., AbstractUser],
    maintenance: Callable[..., list[tuple]],
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    root = make_user(username="root")
    corpus.memberships.create(user=root, role=Role.MANAGER)
    host_a, host_b = web_hosts("a"), web_hosts("b")
    worker_folder = tmp_path / "worker"
    worker = start_worker(cwd=worker_folder, **host_environment(worker_folder))
    for host in (host_a, host_b):
        wait_for(lambda host=host: answers(f"{host}/healthz"), timeout=60, what=f"{host} up")

    # Signed in (the session row is in the database, like every host's sessions).
    signed_in = Client()
    signed_in.force_login(root)
    manager = requests.Session()
    manager.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
    upload_page = f"{host_a}/corpora/{corpus.slug}/import/"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("batch.jsonl", jsonl_articles(30))
    uploaded = manager.post(
        upload_page,
        data={"csrfmiddlewaretoken": csrf_token(manager, upload_page)},
        files={"files": ("batch.zip", archive.getvalue(), "application/zip")},
        allow_redirects=False,
        timeout=60,
    )
    assert uploaded.status_code == 302, uploaded.text[-2000:]
    job = ImportJob.objects.get()
    assert uploaded.headers["Location"] == f"/corpora/{corpus.slug}/import/{job.pk}/"

    progress = host_b + uploaded.headers["Location"]
    wait_for(
        lambda: "Imported 30 articles" in manager.get(progress, timeout=30).text,
        timeout=90,
        what=f"host B to show the finished job\n{worker.output()[-2000:]}",
    )
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and corpus.articles.count() == 30
    assert not UploadChunk.objects.exists()
    # Nothing of the upload stayed on any machine's disk.
    for folder in (tmp_path / "host-a", tmp_path / "host-b", worker_folder):
        assert files_under(folder) == [], folder

    # The probes of host B follow the database.
    assert answers(f"{host_b}/readyz")
    maintenance(f'ALTER DATABASE "{database_name()}" ALLOW_CONNECTIONS false')
    maintenance(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (database_name(),),
    )
    down = requests.get(f"{host_b}/readyz", timeout=30)
    assert (down.status_code, down.text) == (503, "unavailable\n")
    assert answers(f"{host_b}/healthz")
    maintenance(f'ALTER DATABASE "{database_name()}" ALLOW_CONNECTIONS true')
    wait_for(lambda: answers(f"{host_b}/readyz"), timeout=30, what="host B ready again")
    connection.close()  # terminated above; the test database's teardown opens a new one


def test_people_on_one_web_host_pace_the_import_of_a_worker_on_another(
    settings: object,
    web_hosts: Callable[[str], str],
    corpus: Corpus,
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """The activity record is shared through the database: a page view on host A makes the
    worker on host C rest between batches; once nobody has been seen, it runs at full speed."""
    settings.TASKS = DB_BACKEND
    SiteActivity.objects.all().delete()
    host_a = web_hosts("a")
    worker_folder = tmp_path / "worker"
    worker = start_worker(
        cwd=worker_folder,
        **host_environment(worker_folder, IMPORT_DUTY_CYCLE="0.05", ACTIVITY_WINDOW_SECONDS="3600"),
    )
    wait_for(lambda: answers(f"{host_a}/healthz"), timeout=60, what="host A up")

    # A person opens a page on host A; its process records the visit in the database.
    assert requests.get(f"{host_a}/accounts/login/", timeout=30).status_code == 200
    wait_for(SiteActivity.objects.exists, timeout=30, what="host A to record the page view")

    job = start_import(
        corpus=corpus,
        created_by=None,
        file_name="batch.jsonl",
        content=ContentFile(jsonl_articles(ARTICLES)),
    )

    def state() -> tuple[str, int]:
        job.refresh_from_db()
        return job.status, job.processed

    wait_for(
        lambda: state()[0] == ImportStatus.RUNNING and job.processed >= 20,
        timeout=90,
        what=f"the worker to import part of the job\n{worker.output()[-2000:]}",
    )
    time.sleep(3)
    assert state()[0] == ImportStatus.RUNNING and job.processed < ARTICLES, "not paced"

    SiteActivity.objects.all().delete()  # nobody has used the site
    wait_for(  # what is left takes a second at full speed, over ten seconds paced
        lambda: state()[0] == ImportStatus.DONE,
        timeout=10,
        what=f"the worker to finish at full speed\n{worker.output()[-2000:]}",
    )
    assert corpus.articles.count() == ARTICLES
