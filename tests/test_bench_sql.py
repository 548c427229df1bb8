"""The benches that generate their data in SQL (INSERT … SELECT, COPY) name every column the
schema requires: a migration that adds a NOT NULL column without a database default broke four
of them at once, unnoticed until someone ran them. Read from the bench sources, checked against
the migrated test database."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
INSERT = re.compile(r"INSERT INTO (annotator_\w+)\s*\(([^)]*)\)")

pytestmark = pytest.mark.django_db


def _text(node: ast.AST) -> str | None:
    """A string constant, or an f-string's literal parts (its fields become spaces)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else " " for part in node.values
        )
    return None


def written_columns() -> list[tuple[str, str, set[str]]]:
    """(bench file, table, columns) for every INSERT and copy_rows call in bench/."""
    sys.path.insert(0, str(BENCH))
    try:
        import scratch_db
    finally:
        sys.path.remove(str(BENCH))
    names = {name: getattr(scratch_db, name) for name in dir(scratch_db) if name.isupper()}
    found = []
    for path in sorted(BENCH.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = _text(node)
            if text is not None:
                for table, columns in INSERT.findall(text):
                    found.append((path.name, table, columns))
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "copy_rows"
                and len(node.args) >= 3
            ):
                table = ast.literal_eval(node.args[1])
                columns = eval(compile(ast.Expression(node.args[2]), str(path), "eval"), names)  # noqa: S307 - constants of our own bench code
                found.append((path.name, table, columns))
    return [
        (name, table, {column.strip().strip('"') for column in columns.split(",")})
        for name, table, columns in found
    ]


def test_every_bench_insert_names_the_columns_the_schema_requires() -> None:
    writes = written_columns()
    tables = {table for _, table, _ in writes}
    assert {"annotator_sentence", "annotator_annotation", "annotator_article"} <= tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, is_nullable = 'NO' AND column_default IS NULL "
            "AND is_identity = 'NO' FROM information_schema.columns WHERE table_name = ANY(%s)",
            [sorted(tables)],
        )
        rows = cursor.fetchall()
    existing = {(table, column) for table, column, _ in rows}
    required = {(table, column) for table, column, needed in rows if needed}
    for name, table, columns in writes:
        unknown = sorted(c for c in columns if (table, c) not in existing)
        assert not unknown, f"{name}: {table} has no column {unknown}"
        missing = sorted(c for t, c in required if t == table and c not in columns | {"id"})
        assert not missing, f"{name}: an insert into {table} leaves out {missing}"
