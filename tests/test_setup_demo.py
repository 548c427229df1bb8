"""`manage.py setup_demo` as `make run` calls it, on an embedded SQLite file, twice.

This is also the smoke test that SQLite still works: migrations, import and accounts.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD_LINE = re.compile(r"^\s+(demo-\S+)\s+\S+\s+password: (\S+)$", re.MULTILINE)


def manage(database: Path, *args: str) -> str:
    environment = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return {
            table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (
                "annotator_corpus",
                "annotator_article",
                "annotator_sentence",
                "auth_user",
                "annotator_membership",
            )
        }


@pytest.mark.slow
def test_setup_demo_twice_on_sqlite_creates_once_and_prints_passwords_once(
    tmp_path: Path,
) -> None:
    database = tmp_path / "db.sqlite3"
    manage(database, "migrate", "--noinput")
    first = manage(database, "setup_demo")
    passwords = dict(PASSWORD_LINE.findall(first))
    assert set(passwords) == {"demo-manager", "demo-annotator-1", "demo-annotator-2"}
    assert len(set(passwords.values())) == 3
    after_first = counts(database)
    assert after_first["annotator_corpus"] == 1
    assert after_first["annotator_article"] == 5
    assert after_first["annotator_sentence"] > 50
    assert after_first["auth_user"] == after_first["annotator_membership"] == 3

    manage(database, "migrate", "--noinput")
    second = manage(database, "setup_demo")
    assert "password:" not in second
    assert not any(password in second for password in passwords.values())
    assert "already exists" in second
    assert counts(database) == after_first

    with sqlite3.connect(database) as connection:
        staff = dict(connection.execute("SELECT username, is_staff FROM auth_user"))
        rows = connection.execute(
            'SELECT start, "end", s.text, a.text FROM annotator_sentence s '
            "JOIN annotator_article a ON a.id = s.article_id"
        ).fetchall()
    assert staff == {"demo-manager": 1, "demo-annotator-1": 0, "demo-annotator-2": 0}
    assert all(article[start:end] == text for start, end, text, article in rows)
