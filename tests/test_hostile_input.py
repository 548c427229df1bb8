"""User text parsed outside the segmenter and the guidelines renderer: deeply nested JSON in an
article JSONL or a label-import JSONL is a line's error, not a crash (json.loads raises
RecursionError past ~1,000 levels, which the parsers did not catch)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractUser

from annotator.labels_import import LabelImportRejected, import_labels
from annotator.models import Corpus
from annotator.sources import Limits, Problem, SourceRejected, articles_from_bytes

DEEP = "[" * 100_000 + "]" * 100_000
LIMITS = Limits(
    max_file_bytes=10_000_000,
    max_total_bytes=10_000_000,
    max_zip_members=10,
    max_zip_ratio=100,
    max_articles=10,
)


def test_deeply_nested_article_line_is_named_not_a_crash() -> None:
    data = f'{{"id": "a", "text": "Fine."}}\n{{"id": "b", "metadata": {DEEP}}}\n'.encode()
    with pytest.raises(SourceRejected) as rejected:
        articles_from_bytes("deep.jsonl", data, limits=LIMITS)
    assert rejected.value.problems == [Problem("deep.jsonl", 2, "invalid JSON: nested too deeply")]


def test_deeply_nested_label_line_is_named_not_a_crash(
    corpus: Corpus, annotator: AbstractUser
) -> None:
    with pytest.raises(LabelImportRejected) as rejected:
        import_labels(corpus=corpus, caller=annotator, data=DEEP.encode(), max_lines=10)
    assert rejected.value.errors == {"line 1": ["not valid JSON (nested too deeply)"]}
