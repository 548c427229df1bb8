"""Reading (unit, annotator, label) ratings from CSV or JSONL files, for `manage.py agreement`.

Pure: no Django. Any tool's export works as long as it has `unit`, `annotator` and `label` fields.
Every problem is reported as `RatingFileError` naming the file, the line and the reason, and
nothing is returned from a file with a problem.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import IO

from tqdm import tqdm

FIELDS = ("unit", "annotator", "label")


class RatingFileError(ValueError):
    """A ratings file that cannot be used; the message names the file and line."""


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _csv_rows(handle: IO[str], name: str) -> Iterator[tuple[int, Hashable, Hashable, Hashable]]:
    reader = csv.DictReader(handle, restkey="\0extra")
    header = reader.fieldnames
    if not header:
        raise RatingFileError(f"{name}: the file is empty; expected a header {','.join(FIELDS)}")
    missing = [field for field in FIELDS if field not in header]
    if missing:
        raise RatingFileError(
            f"{name}, line 1: header lacks column(s) {', '.join(missing)}; "
            f"found {', '.join(header)}"
        )
    for row in reader:
        line = reader.line_num
        if "\0extra" in row or any(row[field] is None for field in FIELDS):
            raise RatingFileError(
                f"{name}, line {line}: expected {len(header)} fields as in the header"
            )
        yield line, row["unit"], row["annotator"], row["label"]


def _jsonl_rows(handle: IO[str], name: str) -> Iterator[tuple[int, Hashable, Hashable, Hashable]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise RatingFileError(f"{name}, line {line}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise RatingFileError(f"{name}, line {line}: expected a JSON object")
        missing = [field for field in FIELDS if field not in record]
        if missing:
            raise RatingFileError(f"{name}, line {line}: missing field(s) {', '.join(missing)}")
        for field in FIELDS:
            value = record[field]
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise RatingFileError(
                    f"{name}, line {line}: {field} must be a string or a number, got {value!r}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise RatingFileError(f"{name}, line {line}: {field} is {value!r}")
        yield line, record["unit"], record["annotator"], record["label"]


def read_ratings_file(
    path: Path | str, *, progress: bool = True
) -> list[tuple[Hashable, Hashable, Hashable]]:
    """Ratings from a CSV file with a header, or a JSONL file (one object per line).

    The format follows the extension (.csv; .jsonl/.ndjson/.json), else the first character.
    CSV labels become numbers when every label in the file is a number, so numeric scales order
    themselves. Empty values, duplicate (unit, annotator) pairs and malformed lines are errors.
    """
    path = Path(path)
    name = str(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as error:
        raise RatingFileError(f"{name}: cannot open ({error.strerror})") from None
    with handle:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            is_csv = True
        elif suffix in {".jsonl", ".ndjson", ".json"}:
            is_csv = False
        else:
            is_csv = not handle.read(1).startswith("{")
            handle.seek(0)
        rows = (_csv_rows if is_csv else _jsonl_rows)(handle, name)
        ratings: list[tuple[Hashable, Hashable, Hashable]] = []
        first_line: dict[tuple[Hashable, Hashable], int] = {}
        try:
            for line, unit, annotator, label in tqdm(
                rows, unit=" ratings", desc="Reading ratings", disable=not progress
            ):
                for field, value in zip(FIELDS, (unit, annotator, label), strict=True):
                    if isinstance(value, str) and not value.strip():
                        raise RatingFileError(f"{name}, line {line}: {field} is empty")
                key = (unit, annotator)
                if key in first_line:
                    raise RatingFileError(
                        f"{name}, line {line}: annotator {annotator!r} already rated unit "
                        f"{unit!r} on line {first_line[key]}"
                    )
                first_line[key] = line
                ratings.append((unit, annotator, label))
        except UnicodeDecodeError:
            raise RatingFileError(f"{name}: not UTF-8 text") from None
        except csv.Error as error:
            raise RatingFileError(f"{name}: malformed CSV ({error})") from None
    if not ratings:
        raise RatingFileError(f"{name}: no ratings found")
    if is_csv:
        numbers = [_number(label) for _, _, label in ratings]  # type: ignore[arg-type]
        if all(number is not None for number in numbers):
            ratings = [(u, a, n) for (u, a, _), n in zip(ratings, numbers, strict=True)]
    return ratings


def parse_order(text: str, labels: list[Hashable]) -> list[Hashable]:
    """`--order a,b,c` as a list; items become numbers when the labels are numbers."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if labels and all(isinstance(label, int | float) for label in labels):
        converted = [_number(item) for item in items]
        if all(number is not None for number in converted):
            return converted  # type: ignore[return-value]
    return items
