"""Reading (unit, annotator, label) ratings from CSV or JSONL files, for `manage.py agreement`.

Pure: no Django. Any tool's export works as long as it has `unit`, `annotator` and `label` fields.
Every problem is reported as `RatingFileError` naming the file, the line and the reason, and
nothing is returned from a file with a problem.

A missing rating is a row left out. A label spelled as a missing value (`NaN`, `None`, `NA`,
`null`, or empty, in any case, with any surrounding spaces; JSON `null` too) is refused, because
counting it as a category silently lowers agreement; with `missing="drop"` such rows are left
out and counted instead. Unit and annotator ids are text: in JSONL, `1` and `"1"` are the same
unit. One annotator rates a unit once; a second rating is refused with both lines.

A million-row CSV is read in about a second: when the file has no quotes (the usual export),
whole columns are split out with a few string operations instead of a Python loop per row, and
everything is checked on the distinct values; `csv.reader` reads files with quotes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from annotator.agreement import CodedRatings

FIELDS = ("unit", "annotator", "label")
MISSING_SPELLINGS = frozenset({"", "nan", "none", "na", "null"})
Missing = Literal["error", "drop"]


class RatingFileError(ValueError):
    """A ratings file that cannot be used; the message names the file and line."""


class MissingLabelError(RatingFileError):
    """A label spelled as a missing value, refused because `missing="error"`."""


@dataclass(frozen=True)
class RatingsFile:
    """What a ratings file holds: the ratings, and how many rows with a missing label were
    left out (always 0 unless `missing="drop"`)."""

    ratings: CodedRatings
    n_missing_dropped: int


@dataclass
class _Columns:
    """The three fields of every row, and each row's line in the file."""

    units: list[str]
    annotators: list[str]
    labels: list[Any]  # str, or in JSONL a number or None
    lines: Sequence[int]


def is_missing(label: object) -> bool:
    """Whether a label is one of the spellings of "no value" (or JSON null)."""
    return label is None or (isinstance(label, str) and label.strip().lower() in MISSING_SPELLINGS)


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


# --- CSV --------------------------------------------------------------------------------------


def _csv_columns(handle: IO[str], name: str) -> _Columns:
    try:
        text = handle.read()
    except UnicodeDecodeError as error:
        raise RatingFileError(
            f"{name}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start})"
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    header_line, _, body = text.partition("\n")
    if not header_line.strip():
        raise RatingFileError(f"{name}: the file is empty; expected a header {','.join(FIELDS)}")
    if '"' in text or "\r" in text:
        return _csv_columns_with_reader(text, name)
    header = header_line.split(",")
    positions = _header_positions(header, name)
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    counts = set(map(methodcaller("count", ","), lines))
    if counts - {len(header) - 1}:
        # A short or long row, or a blank line: csv.reader finds it and names the line.
        return _csv_columns_with_reader(text, name)
    # Every line holds width - 1 commas, so the fields of row r sit at r * width onwards.
    fields = body.rstrip("\n").replace("\n", ",").split(",") if lines else []
    width = len(header)
    unit, annotator, label = (fields[position::width] for position in positions)
    return _Columns(unit, annotator, label, range(2, len(lines) + 2))


def _csv_columns_with_reader(text: str, name: str) -> _Columns:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        positions = _header_positions(header, name)
        columns = _Columns([], [], [], [])
        assert isinstance(columns.lines, list)
        for row in reader:
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                raise RatingFileError(
                    f"{name}, line {reader.line_num}: expected {len(header)} fields as in the "
                    f"header, found {len(row)}"
                )
            columns.units.append(row[positions[0]])
            columns.annotators.append(row[positions[1]])
            columns.labels.append(row[positions[2]])
            columns.lines.append(reader.line_num)
    except csv.Error as error:
        raise RatingFileError(f"{name}, line {reader.line_num}: malformed CSV ({error})") from None
    return columns


def _header_positions(header: list[str], name: str) -> tuple[int, int, int]:
    absent = [field for field in FIELDS if field not in header]
    if absent:
        raise RatingFileError(
            f"{name}, line 1: header lacks column(s) {', '.join(absent)}; found {', '.join(header)}"
        )
    repeated = sorted({field for field in header if header.count(field) > 1} & set(FIELDS))
    if repeated:
        raise RatingFileError(f"{name}, line 1: header names {', '.join(repeated)} twice")
    return header.index("unit"), header.index("annotator"), header.index("label")


# --- JSONL ------------------------------------------------------------------------------------


def _json_id(value: object, field: str, name: str, line: int) -> str:
    # Ids are compared as text: a unit written 1 in one line and "1" in another is one unit.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RatingFileError(
        f"{name}, line {line}: {field} must be a string or an integer, got {value!r}"
    )


def _jsonl_columns(handle: IO[str], name: str) -> _Columns:
    columns = _Columns([], [], [], [])
    assert isinstance(columns.lines, list)
    line = 0
    try:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                raise RatingFileError(
                    f"{name}, line {line}: not valid JSON ({error.msg})"
                ) from None
            except RecursionError:
                raise RatingFileError(f"{name}, line {line}: JSON nested too deeply") from None
            if not isinstance(record, dict):
                raise RatingFileError(f"{name}, line {line}: expected a JSON object")
            absent = [field for field in FIELDS if field not in record]
            if absent:
                raise RatingFileError(f"{name}, line {line}: missing field(s) {', '.join(absent)}")
            label = record["label"]
            if label is not None and (
                isinstance(label, bool) or not isinstance(label, str | int | float)
            ):
                raise RatingFileError(
                    f"{name}, line {line}: label must be a string or a number, got {label!r}"
                )
            if isinstance(label, float) and not math.isfinite(label):
                raise RatingFileError(f"{name}, line {line}: label is {label!r}")
            columns.units.append(_json_id(record["unit"], "unit", name, line))
            columns.annotators.append(_json_id(record["annotator"], "annotator", name, line))
            columns.labels.append(label)
            columns.lines.append(line)
    except UnicodeDecodeError:
        raise RatingFileError(f"{name}, line {line + 1}: not UTF-8 text") from None
    return columns


# --- Checks shared by both formats ------------------------------------------------------------


def _first_row(column: Sequence[Hashable], values: Iterable[Hashable]) -> int:
    return min(column.index(value) for value in values)


def _check_ids(ratings: CodedRatings, lines: Sequence[int], name: str) -> None:
    for field, values, codes in (
        ("unit", ratings.units, ratings.unit),
        ("annotator", ratings.annotators, ratings.annotator),
    ):
        # Checked once per distinct value (ids are text), not once per row.
        if "" not in values and not any(map(str.isspace, values)):  # type: ignore[arg-type]
            continue
        empty = [code for code, value in enumerate(values) if not str(value).strip()]
        row = int(np.flatnonzero(np.isin(codes, empty))[0])
        raise RatingFileError(f"{name}, line {lines[row]}: {field} is empty")


def _drop_missing(columns: _Columns, name: str, missing: Missing) -> tuple[_Columns, int]:
    absent = [label for label in set(columns.labels) if is_missing(label)]
    if not absent:
        return columns, 0
    if missing == "error":
        row = _first_row(columns.labels, absent)
        raise MissingLabelError(
            f"{name}, line {columns.lines[row]}: label {columns.labels[row]!r} is a missing "
            "value, not a category"
        )
    absent_set = set(absent)
    keep = [row for row, label in enumerate(columns.labels) if label not in absent_set]
    kept = _Columns(
        [columns.units[row] for row in keep],
        [columns.annotators[row] for row in keep],
        [columns.labels[row] for row in keep],
        [columns.lines[row] for row in keep],
    )
    return kept, len(columns.labels) - len(keep)


def _check_duplicates(ratings: CodedRatings, lines: Sequence[int], name: str) -> None:
    key = ratings.unit * len(ratings.annotators) + ratings.annotator
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if not repeated.size:
        return
    # The earliest row that repeats an earlier one, and the row it repeats.
    first = int(np.argmin(order[repeated + 1]))
    later, earlier = int(order[repeated[first] + 1]), int(order[repeated[first]])
    unit, annotator, _ = ratings.rating(later)
    raise RatingFileError(
        f"{name}, line {lines[later]}: annotator {annotator!r} already rated unit {unit!r} "
        f"on line {lines[earlier]}"
    )


def read_ratings_file(path: Path | str, *, missing: Missing = "error") -> RatingsFile:
    """Ratings from a CSV file with a header, or a JSONL file (one object per line).

    The format follows the extension (.csv; .jsonl/.ndjson/.json), else the first character.
    CSV labels become numbers when every label in the file is a number, so numeric scales order
    themselves. Missing labels (see the module docstring) are refused, or with
    `missing="drop"` left out and counted. Empty ids, duplicate (unit, annotator) pairs and
    malformed lines are errors.
    """
    path = Path(path)
    name = str(path)
    try:
        # utf-8-sig: spreadsheet programs put a byte-order mark in front of the header.
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise RatingFileError(f"{name}: cannot open ({error.strerror})") from None
    with handle:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            is_csv = True
        elif suffix in {".jsonl", ".ndjson", ".json"}:
            is_csv = False
        else:
            try:
                is_csv = not handle.read(1).startswith("{")
            except UnicodeDecodeError:
                raise RatingFileError(f"{name}: not UTF-8 text") from None
            handle.seek(0)
        columns = (_csv_columns if is_csv else _jsonl_columns)(handle, name)
    columns, n_dropped = _drop_missing(columns, name, missing)
    if not columns.labels:
        detail = f" ({n_dropped} with a missing label left out)" if n_dropped else ""
        raise RatingFileError(f"{name}: no ratings found{detail}")
    ratings = CodedRatings.from_columns(columns.units, columns.annotators, columns.labels)
    _check_ids(ratings, columns.lines, name)
    _check_duplicates(ratings, columns.lines, name)
    if is_csv:
        numbers = [_number(label) for label in ratings.labels]  # type: ignore[arg-type]
        if all(number is not None for number in numbers):
            ratings = ratings.relabel(numbers)
    return RatingsFile(ratings=ratings, n_missing_dropped=n_dropped)


def parse_order(text: str, labels: Sequence[Hashable]) -> list[Hashable]:
    """`--order a,b,c` as a list; items become numbers when the labels are numbers."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if labels and all(isinstance(label, int | float) for label in labels):
        converted = [_number(item) for item in items]
        if all(number is not None for number in converted):
            return converted  # type: ignore[return-value]
    return list[Hashable](items)
