"""What changed between two releases of a corpus, from their snapshots.

Pure computation, no Django: two `snapshot.parquet` tables in (every sentence at each cut, with
its released label, source and gold per unit), a JSON-ready dict out. Sentences are matched by
their stable `sentence_id`; labels by the unit's column, which for stance is keyed by the
target's slug, so renaming a target is not a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


KEYS = ("sentence_id", "external_id", "sentence_index", "text")
DEFAULT_LIMIT = 1000


def unit_columns(table: pa.Table) -> list[str]:
    """Label columns of a snapshot: each has `<column>_value` and `<column>_source`."""
    names = set(table.column_names)
    return [
        name[: -len("_source")]
        for name in table.column_names
        if name.endswith("_source") and name[: -len("_source")] + "_value" in names
    ]


def _rows(table: pa.Table, columns: Sequence[str]) -> dict[str, list[Any]]:
    return {name: table.column(name).to_pylist() for name in columns}


def diff_snapshots(old: pa.Table, new: pa.Table, *, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Sentences added and removed, released labels changed (from -> to), gold settled,
    overturned or withdrawn, and any sentence whose split moved (never expected).

    Counts are complete; each list holds at most `limit` entries, in sentence id order.
    """
    old_units, new_units = unit_columns(old), unit_columns(new)
    units = [name for name in new_units if name in old_units]
    wanted = [*KEYS, "split"]
    for unit in units:
        wanted += [f"{unit}_value", f"{unit}_source"]
    a, b = _rows(old, wanted), _rows(new, wanted)
    where_a = {sid: i for i, sid in enumerate(a["sentence_id"])}
    where_b = {sid: i for i, sid in enumerate(b["sentence_id"])}

    def sentence(rows: dict[str, list[Any]], i: int) -> dict[str, Any]:
        return {key: rows[key][i] for key in KEYS}

    lists: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in ("added", "removed", "changed", "settled", "overturned", "withdrawn", "moved")
    }
    counts = dict.fromkeys(lists, 0)

    def note(kind: str, entry: Any) -> None:
        counts[kind] += 1
        if len(lists[kind]) < limit:
            lists[kind].append(entry() if callable(entry) else entry)

    for sid in sorted(where_b.keys() - where_a.keys()):
        note("added", lambda sid=sid: sentence(b, where_b[sid]))
    for sid in sorted(where_a.keys() - where_b.keys()):
        note("removed", lambda sid=sid: sentence(a, where_a[sid]))
    for sid in sorted(where_a.keys() & where_b.keys()):
        i, j = where_a[sid], where_b[sid]
        if a["split"][i] is not None and a["split"][i] != b["split"][j]:
            note(
                "moved",
                lambda i=i, j=j: {**sentence(b, j), "from": a["split"][i], "to": b["split"][j]},
            )
        for unit in units:
            before, after = a[f"{unit}_value"][i], b[f"{unit}_value"][j]
            was, now = a[f"{unit}_source"][i], b[f"{unit}_source"][j]
            if before == after and was == now:
                continue

            def entry(
                j: int = j,
                unit: str = unit,
                before: Any = before,
                after: Any = after,
                was: Any = was,
                now: Any = now,
            ) -> dict[str, Any]:
                return {
                    **sentence(b, j),
                    "column": unit,
                    "from": before,
                    "to": after,
                    "from_source": was,
                    "to_source": now,
                }

            if before != after:
                note("changed", entry)
            if was != "gold" and now == "gold":
                note("settled", entry)
            elif was == "gold" and now == "gold" and before != after:
                note("overturned", entry)
            elif was == "gold" and now != "gold":
                note("withdrawn", entry)
    return {
        "counts": {
            "sentences_before": len(where_a),
            "sentences_after": len(where_b),
            "sentences_added": counts["added"],
            "sentences_removed": counts["removed"],
            "labels_changed": counts["changed"],
            "gold_settled": counts["settled"],
            "gold_overturned": counts["overturned"],
            "gold_withdrawn": counts["withdrawn"],
            "split_moved": counts["moved"],
        },
        "units": {
            "compared": units,
            "added": [name for name in new_units if name not in old_units],
            "removed": [name for name in old_units if name not in new_units],
        },
        "limit": limit,
        "sentences_added": lists["added"],
        "sentences_removed": lists["removed"],
        "labels_changed": lists["changed"],
        "gold_settled": lists["settled"],
        "gold_overturned": lists["overturned"],
        "gold_withdrawn": lists["withdrawn"],
        "split_moved": lists["moved"],
    }
