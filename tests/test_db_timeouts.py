"""Which database timeouts a process gets, and how they reach PostgreSQL (annotator/db_timeouts.py).

Settings are read once per process, so each case runs a fresh interpreter. What the limits do
on a real PostgreSQL is in tests/faults/test_timeouts.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.db_timeouts import Timeouts, with_startup_options

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://app@db.example:5432/annotator"
SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps([settings.DATABASE_TIMEOUTS_ROLE, "
    "settings.DATABASES['default'].get('OPTIONS', {}).get('options', '')]))"
)


def settings_of(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_TIMEOUTS_ROLE")
        and not key.startswith("DATABASE_WEB_")
    }
    environment.update(DEBUG="1", DATABASE_URL=POSTGRES, **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def role_and_options(entry: str, **env: str) -> list[str]:
    result = settings_of(f"{entry}; {SHOW}", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_wsgi_processes_get_the_web_limits_as_startup_options() -> None:
    role, options = role_and_options("import annotator.wsgi")
    assert role == "web"
    assert options == (
        "-c statement_timeout=15000 -c lock_timeout=3000 "
        "-c idle_in_transaction_session_timeout=30000"
    )
    # An empty value, as a copied .env.example leaves it, is no choice either.
    assert role_and_options("import annotator.wsgi", DATABASE_TIMEOUTS_ROLE="")[0] == "web"


def test_management_commands_get_the_background_limits() -> None:
    setup = "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'annotator.settings'"
    role, options = role_and_options(f"{setup}; django.setup()")
    assert role == "background"
    assert "-c lock_timeout=600000" in options and "statement_timeout=3600000" in options
    role, options = role_and_options(
        f"{setup}; django.setup()", DATABASE_BACKGROUND_LOCK_TIMEOUT="2.5"
    )
    assert "-c lock_timeout=2500" in options


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_WEB_LOCK_TIMEOUT", "soon", "DATABASE_WEB_LOCK_TIMEOUT must be a number"),
        ("DATABASE_WEB_STATEMENT_TIMEOUT", "-1", "DATABASE_WEB_STATEMENT_TIMEOUT must be 0"),
        (
            "DATABASE_TIMEOUTS_ROLE",
            "batch",
            "DATABASE_TIMEOUTS_ROLE must be one of web, background",
        ),
    ],
)
def test_a_malformed_value_stops_start_up_naming_it(
    variable: str, value: str, message: str
) -> None:
    result = settings_of(
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'annotator.settings'; "
        "django.setup()",
        **{variable: value},
    )
    assert result.returncode != 0 and message in result.stderr


def test_sqlite_gets_no_options() -> None:
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}
    limits = Timeouts(statement_ms=1, lock_ms=2, idle_in_transaction_ms=3)
    assert with_startup_options(database, limits) == database


def test_options_from_the_database_url_come_after_ours_and_win() -> None:
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "OPTIONS": {"options": "-c lock_timeout=9", "sslmode": "require"},
    }
    limits = Timeouts(statement_ms=1, lock_ms=2, idle_in_transaction_ms=0)
    merged = with_startup_options(database, limits)
    assert merged["OPTIONS"] == {
        "options": "-c statement_timeout=1 -c lock_timeout=2 "
        "-c idle_in_transaction_session_timeout=0 -c lock_timeout=9",
        "sslmode": "require",
    }
    assert database["OPTIONS"]["options"] == "-c lock_timeout=9"  # not modified in place
    assert limits.set_sql() == (
        "SET statement_timeout = 1; SET lock_timeout = 2; "
        "SET idle_in_transaction_session_timeout = 0;"
    )
