"""Scratch databases for the benches, on the PostgreSQL server of DATABASE_URL.

Two kinds: a fresh one per run, named after DATABASE_URL's database (so two people benchmarking
on one server, each with their own DATABASE_URL, do not drop each other's), and a fixed-name one
that is built once and kept between runs (`--rebuild` drops it first).
"""

from __future__ import annotations

import io
import os
import secrets
import sys
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/annotator"
# Sentences written by COPY: every one in the article's body, its zone not yet confirmed.
SENTENCE_ZONE_COLUMNS = "zone, zone_rule, zone_confirmed, excluded"
SENTENCE_ZONE = ("body", "", "f", "f")


def production_environment(
    database_url: str, *, allowed_hosts: str = "testserver", **extra: str
) -> None:
    """Run the app here as in production (DEBUG off: on, Django keeps every query in memory
    and skews time and memory), over plain HTTP on loopback, on `database_url`."""
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "ALLOWED_HOSTS": allowed_hosts,
            "SECURE_SSL_REDIRECT": "0",
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
            **extra,
        }
    )


def plain_static_files() -> None:
    """Production storage needs collectstatic's manifest; plain static URLs cost the same."""
    from django.test.utils import override_settings

    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()


def copy_rows(cursor: object, table: str, columns: str, rows: Iterable[tuple]) -> int:
    """COPY `rows` (tuples in `columns` order; `\\N` for NULL) into `table`; how many."""
    buffer = io.StringIO()
    n = 0
    for row in rows:
        buffer.write("\t".join(map(str, row)) + "\n")
        n += 1
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)  # type: ignore[attr-defined]
    return n


def _base() -> object:
    base = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_URL))
    if not base.scheme.startswith("postgres"):
        sys.exit(f"{os.path.basename(sys.argv[0])} needs a PostgreSQL DATABASE_URL")
    return base


def database_urls(suffix: str) -> tuple[str, str, str]:
    """(database name, its URL, the maintenance database's URL) for a per-run database
    `<DATABASE_URL's name>_bench_<suffix>`."""
    base = _base()
    name = f"{base.path.lstrip('/') or 'annotator'}_bench_{suffix}"  # type: ignore[attr-defined]
    return (
        name,
        urlunsplit(base._replace(path=f"/{name}")),  # type: ignore[attr-defined]
        urlunsplit(base._replace(path="/postgres")),  # type: ignore[attr-defined]
    )


def recreate_database(maintenance_url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop the database (closing its connections) and, unless `drop_only`, create it empty."""
    import psycopg2

    connection = psycopg2.connect(maintenance_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def kept_database_url(name: str) -> str:
    """The URL of the fixed-name database `name` on DATABASE_URL's server."""
    return urlunsplit(_base()._replace(path=f"/{name}"))  # type: ignore[attr-defined]


def ensure_database(url: str, *, rebuild: bool) -> None:
    """Create the database of `url` if it is missing; with `rebuild`, drop it first."""
    import psycopg2

    parsed = urlsplit(url)
    name = parsed.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parsed._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        if rebuild:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
