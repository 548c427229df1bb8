"""The files of a release: typed Arrow schemas and streaming writers for every format.

Pure computation, no Django: columns from `records.py` in, files in a local folder out (the
caller moves them into the release storage). Every format has the same columns:

- `data/<split>.parquet`: one file per split, typed, with the Hugging Face features (label
  columns as `ClassLabel`, ids in the schema's order) in the Parquet metadata;
- `sentences.jsonl.gz`, `sentences.csv.gz`: the same records in one file with a `split` column;
- `annotations.parquet`: every annotation, one row each (Parquet only: as JSONL and CSV, five
  million rows would double a release's build time; see bench/README.md);
- `snapshot.parquet`: every sentence of the corpus at the cut, included or not (for diffs).

CSV: nulls are written as empty cells, integers are never null (no label is -1), and text cells
a spreadsheet would run as a formula get a leading apostrophe, as in the export.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from annotator.exporting import FORMULA_TRIGGERS
from annotator.releases.records import ANNOTATION_COLUMNS, ChunkColumns, ReleaseSchema
from annotator.releases.splits import SPLITS

# gzip level of the JSONL and CSV files: 3 compresses at level 1's speed and 13% smaller;
# 6 (zlib's default) saves another 12% at 2.5 times the time (bench/README.md, "Releases").
GZIP_LEVEL = 3
# Rows per Parquet row group: big enough for good compression and fast scans, small enough
# that the buffers stay a few tens of megabytes whatever the corpus size.
ROW_GROUP_ROWS = 65_536
PARQUET_COMPRESSION = "zstd"

_INT32 = {"sentence_index", "paragraph", "start", "end"}
_INT64 = {"sentence_id", "article_id"}
_FORMULA_PATTERN = "^([" + "".join("\\" + c if c in "-\\" else c for c in FORMULA_TRIGGERS) + "])"


@dataclass(frozen=True)
class FileInfo:
    name: str
    bytes: int
    sha256: str
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "sha256": self.sha256, "rows": self.rows}


def _column_type(schema: ReleaseSchema, name: str) -> tuple[pa.DataType, dict[str, Any]]:
    """Arrow type and Hugging Face feature of one record column."""
    for unit in schema.units:
        if name == unit.column:
            return pa.int64(), {"names": list(unit.categories), "_type": "ClassLabel"}
        if name == unit.column + "_n_labels":
            return pa.int32(), {"dtype": "int32", "_type": "Value"}
    if name in _INT64:
        return pa.int64(), {"dtype": "int64", "_type": "Value"}
    if name in _INT32:
        return pa.int32(), {"dtype": "int32", "_type": "Value"}
    if name == "included":
        return pa.bool_(), {"dtype": "bool", "_type": "Value"}
    return pa.string(), {"dtype": "string", "_type": "Value"}


def features(schema: ReleaseSchema, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Hugging Face `Features.to_dict()` of these columns."""
    return {name: _column_type(schema, name)[1] for name in names}


def arrow_schema(schema: ReleaseSchema, names: Sequence[str]) -> pa.Schema:
    """The Arrow schema of these record columns, with the Hugging Face features attached."""
    fields = [pa.field(name, _column_type(schema, name)[0]) for name in names]
    metadata = {"huggingface": json.dumps({"info": {"features": features(schema, names)}})}
    return pa.schema(fields, metadata=metadata)


def annotation_schema(schema: ReleaseSchema) -> pa.Schema:
    types = {
        "sentence_id": pa.int64(),
        "article_id": pa.int64(),
        "sentence_index": pa.int32(),
        "label_id": pa.int64(),
        "seconds_spent": pa.float64(),
    }
    fields = [pa.field(name, types.get(name, pa.string())) for name in ANNOTATION_COLUMNS]
    hf = {
        name: {
            "dtype": str(types.get(name, pa.string())).replace("double", "float64"),
            "_type": "Value",
        }
        for name in ANNOTATION_COLUMNS
    }
    metadata = {"huggingface": json.dumps({"info": {"features": hf}})}
    return pa.schema(fields, metadata=metadata)


def neutralise(table: pa.Table) -> pa.Table:
    """Text cells starting with a formula character get a leading ' (CSV only)."""
    columns = [
        pc.replace_substring_regex(column, pattern=_FORMULA_PATTERN, replacement="'\\1")
        if pa.types.is_string(column.type)
        else column
        for column in table.columns
    ]
    return pa.Table.from_arrays(columns, schema=table.schema)


def _json_strings(column: pa.Array) -> pa.Array:
    """JSON string literals of a string column (quoted and escaped); nulls stay null.

    A column of few distinct values (labels, sources, splits, ids of articles) is escaped once
    per value; the replacements run only when a value needs them.
    """
    if len(column) > 64:
        encoded = column.dictionary_encode()
        if len(encoded.dictionary) * 4 < len(column):
            return _json_strings(encoded.dictionary).take(encoded.indices)
    escaped = column
    if pc.any(pc.match_substring_regex(escaped, r'["\\]')).as_py():
        escaped = pc.replace_substring(escaped, "\\", "\\\\")
        escaped = pc.replace_substring(escaped, '"', '\\"')
    if pc.any(pc.match_substring_regex(escaped, r"[\x00-\x1f]")).as_py():
        for char, escape in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            escaped = pc.replace_substring(escaped, char, escape)
        for code in range(32):
            escaped = pc.replace_substring(escaped, chr(code), f"\\u{code:04x}")
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _json_values(column: pa.Array) -> pa.Array:
    kind = column.type
    if pa.types.is_string(kind):
        values = _json_strings(column)
    elif pa.types.is_integer(kind):
        values = pc.cast(column, pa.string())
    elif pa.types.is_floating(kind):
        text = pc.cast(column, pa.string())
        # 2.0 casts to "2": keep floats floats for JSON readers.
        values = pc.if_else(
            pc.match_substring_regex(text, "[.eE]"),
            text,
            pc.binary_join_element_wise(text, ".0", ""),
        )
    elif pa.types.is_boolean(kind):
        values = pc.if_else(column, "true", "false")
    else:  # pragma: no cover - every release column is one of the above
        raise TypeError(f"no JSON encoding for {kind}")
    return pc.fill_null(values, "null")


def jsonl_bytes(table: pa.Table | pa.RecordBatch) -> bytes:
    """The rows as JSON Lines, built column by column in Arrow (no Python per row).

    Equal, key for key and value for value, to `orjson.dumps(row)` per row; the tests check it.
    """
    if not table.num_rows:
        return b""
    parts: list[Any] = []
    for position, name in enumerate(table.schema.names):
        key = orjson.dumps(name).decode("utf-8")
        parts.append(("{" if position == 0 else ",") + key + ":")
        parts.append(_json_values(pc_array(table.column(position))))
    parts.append("}\n")
    lines = pc.binary_join_element_wise(*parts, "")
    # A string array's values lie back to back in one buffer: that buffer is the JSONL.
    offsets = np.frombuffer(
        lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4
    )
    return lines.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def pc_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


class _Background:
    """One thread that does every write in order, so compression (zlib and Parquet release the
    GIL) overlaps with building the next chunk; at most a few writes wait, so memory is bounded."""

    def __init__(self, pending: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="release-writer")
        self._pending: deque[Future[object]] = deque()
        self._limit = pending

    def submit(self, work: Callable[..., object], *args: object) -> None:
        self._pending.append(self._pool.submit(work, *args))
        while len(self._pending) > self._limit:
            self._pending.popleft().result()

    def drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True)


class _ParquetOut:
    """A Parquet file written in row groups of about ROW_GROUP_ROWS."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer = pq.ParquetWriter(path, schema, compression=PARQUET_COMPRESSION)

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(
                pa.concat_tables(self._pending), row_group_size=self._pending_rows
            )
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


class _GzipOut:
    """A gzip stream with no file name or time in its header, so equal input is equal bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._raw = path.open("wb")
        self.stream = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._raw, compresslevel=GZIP_LEVEL, mtime=0
        )

    def close(self) -> None:
        self.stream.close()
        self._raw.close()


class _CsvOut(_GzipOut):
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        super().__init__(path)
        self._writer = pacsv.CSVWriter(self.stream, schema.remove_metadata())

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(neutralise(table.replace_schema_metadata(None)))
            self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()
        super().close()


class _JsonlOut(_GzipOut):
    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self.stream.write(jsonl_bytes(table))
            self.rows += table.num_rows


class ReleaseWriter:
    """Streams a release's chunks into its files in `folder`; `close()` lists them."""

    def __init__(self, folder: Path, *, schema: ReleaseSchema, context: bool) -> None:
        self.folder = folder
        self.schema = schema
        self.record_names = schema.record_columns(context=context)
        self.record_schema = arrow_schema(schema, self.record_names)
        self.snapshot_names = schema.snapshot_columns()
        self._snapshot_schema = arrow_schema(schema, self.snapshot_names)
        self._table_schema = arrow_schema(schema, (*self.record_names, "included"))
        self._annotation_schema = annotation_schema(schema)
        self._splits: dict[str, _ParquetOut] = {}
        self._snapshot = _ParquetOut(folder / "snapshot.parquet", self._snapshot_schema)
        self._jsonl = _JsonlOut(folder / "sentences.jsonl.gz")
        self._csv = _CsvOut(folder / "sentences.csv.gz", self.record_schema)
        self._annotations = _ParquetOut(folder / "annotations.parquet", self._annotation_schema)
        self._background = _Background()

    def write(self, columns: ChunkColumns) -> None:
        table = columns.sentences.cast(self._table_schema)
        submit = self._background.submit
        submit(self._snapshot.write, table.select(list(self.snapshot_names)))
        records = table.filter(table.column("included")).select(list(self.record_names))
        if records.num_rows:
            records = records.replace_schema_metadata(self.record_schema.metadata)
            for split in SPLITS:
                part = records.filter(pc.equal(records.column("split"), split))
                if part.num_rows:
                    out = self._splits.get(split)
                    if out is None:
                        out = self._splits[split] = _ParquetOut(
                            self.folder / "data" / f"{split}.parquet", self.record_schema
                        )
                    submit(out.write, part)
            submit(self._csv.write, records)
            submit(self._jsonl.write, records)
        annotations = columns.annotations
        if annotations.num_rows:
            annotations = annotations.cast(self._annotation_schema)
            submit(self._annotations.write, annotations)

    def close(self) -> list[FileInfo]:
        self._background.close()
        outs: list[Any] = [*(self._splits[s] for s in SPLITS if s in self._splits)]
        outs += [self._jsonl, self._csv, self._annotations, self._snapshot]
        for out in outs:
            out.close()
        return [describe(self.folder, out.path, rows=out.rows) for out in outs]


def describe(folder: Path, path: Path, *, rows: int = 0) -> FileInfo:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return FileInfo(
        name=path.relative_to(folder).as_posix(),
        bytes=path.stat().st_size,
        sha256=digest.hexdigest(),
        rows=rows,
    )


def pandas_csv_arguments(schema: pa.Schema) -> dict[str, Any]:
    """What `pandas.read_csv` needs to read a release CSV back with the Parquet's types."""
    return {
        "keep_default_na": False,
        "dtype": {field.name: "str" for field in schema if pa.types.is_string(field.type)},
    }
