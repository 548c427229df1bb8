"""`manage.py segment`: JSON lines that match the stored sentences, and no database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_3b5d33387df6cb3c.txt"


def segment(*paths: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # A database URL nobody listens on proves the command never connects.
    environment = {**os.environ, "DEBUG": "1", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    return subprocess.run(
        [sys.executable, "manage.py", "segment", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment | (env or {}),
        check=False,
    )


def test_prints_one_json_object_per_sentence_with_exact_offsets() -> None:
    result = segment(str(SAMPLE))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    text = SAMPLE.read_text(encoding="utf-8")
    assert len(records) > 5
    assert [r["index"] for r in records] == list(range(len(records)))
    for record in records:
        assert set(record) == {"path", "index", "paragraph", "start", "end", "text"}
        assert record["path"] == str(SAMPLE)
        assert text[record["start"] : record["end"]] == record["text"]
    assert records[0]["paragraph"] == 0 and records[-1]["paragraph"] > 0


def test_reads_jsonl_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "x", "text": "One. Two."}\n{"id": "y"}\n')
    result = segment(str(path))
    assert result.returncode != 0
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["One.", "Two."]
    assert f"{path}, line 2: missing field 'text'" in result.stderr
