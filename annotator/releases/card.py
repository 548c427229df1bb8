"""The dataset card of a release: README.md with the Hugging Face YAML header and prose.

Pure computation, no Django: a plain dict of facts about the release in (`building.py` gathers
them), Markdown out. The YAML header is written by hand with every string as a JSON string,
which is valid YAML, so no YAML library is needed; the tests read it back with one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
)
SOURCE_WORDS = {
    "gold": "confirmed gold label (unanimous, majority or adjudicated by a curator)",
    "majority": "most frequent label of two or more annotators, no tie, no gold",
    "single": "the one label of a sentence only one annotator labelled",
    None: "no label (no annotation, or a tie): id -1, value empty",
}
INCLUDE_WORDS = {
    "gold_or_majority": "sentences with a gold label or a majority of two or more labels in "
    "at least one layer",
    "any_label": "sentences with any label in at least one layer (single-annotator labels too)",
    "all": "every sentence of the corpus, labelled or not",
}
FIELD_WORDS = {
    "sentence_id": "Database id of the sentence; stable across releases.",
    "article_id": "Database id of the article; stable across releases.",
    "external_id": "File name or JSONL id the article was imported from.",
    "title": "Article title ('' when unknown).",
    "url": "Article URL ('' when unknown).",
    "sentence_index": "0-based position of the sentence in its article.",
    "paragraph": "0-based paragraph of the sentence in its article.",
    "start": "Offset of the sentence's first character in the article text.",
    "end": "Offset just past its last character.",
    "text": "The sentence, verbatim.",
    "previous_text": "The sentence before it in the article (empty/null for the first).",
    "next_text": "The sentence after it in the article (empty/null for the last).",
    "split": "train, validation or test; every sentence of an article is in the same split.",
}


def _q(value: object) -> str:
    """A YAML scalar: JSON strings and numbers are valid YAML."""
    return json.dumps(value, ensure_ascii=False)


def size_category(n: int) -> str:
    for limit, name in SIZE_CATEGORIES:
        if n < limit:
            return name
    return "n>100M"


def yaml_header(facts: Mapping[str, Any]) -> str:
    splits = facts["splits"]
    lines = [
        "---",
        f"pretty_name: {_q(facts['title'])}",
        f"license: {_q(facts['license'])}",
        "task_categories:",
        "- text-classification",
        "task_ids:",
        "- multi-class-classification",
        "size_categories:",
        f"- {_q(size_category(sum(s['num_examples'] for s in splits)))}",
        "configs:",
        "- config_name: default",
        "  data_files:",
    ]
    for split in splits:
        lines += [f"  - split: {split['name']}", f"    path: {_q(split['path'])}"]
    lines += ["dataset_info:", "  features:"]
    for name, feature in facts["features"].items():
        lines.append(f"  - name: {_q(name)}")
        if feature["_type"] == "ClassLabel":
            lines += ["    dtype:", "      class_label:", "        names:"]
            lines += [
                f"          {_q(str(i))}: {_q(label)}" for i, label in enumerate(feature["names"])
            ]
        else:
            lines.append(f"    dtype: {feature['dtype']}")
    lines.append("  splits:")
    for split in splits:
        lines += [
            f"  - name: {split['name']}",
            f"    num_bytes: {split['num_bytes']}",
            f"    num_examples: {split['num_examples']}",
        ]
    total = sum(split["num_bytes"] for split in splits)
    lines += [f"  download_size: {total}", f"  dataset_size: {total}", "---", ""]
    return "\n".join(lines)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines + [""]


def _figure(value: float | None, interval: Sequence[float] | None = None) -> str:
    if value is None:
        return "not defined"
    text = f"{value:.3f}"
    if interval:
        text += f" [{interval[0]:.3f}, {interval[1]:.3f}]"
    return text


def dataset_card(facts: Mapping[str, Any]) -> str:
    """README.md of a release from its facts (see `building.release_facts`)."""
    units = facts["units"]
    split_names = [split["name"] for split in facts["splits"]]
    out = [yaml_header(facts)]
    out += [f"# {facts['title']}", ""]
    if facts.get("note"):
        out += ["## Release note", "", facts["note"].strip(), ""]
    if facts.get("description"):
        out += [facts["description"].strip(), ""]
    counts = facts["counts"]
    string_columns = [
        name
        for name, feature in facts["features"].items()
        if feature["_type"] == "Value" and feature["dtype"] == "string"
    ]
    out += [
        f"Release {facts['number']} of corpus `{facts['corpus']}`, cut {facts['snapshot_at']}: "
        f"{counts['records']:,} records ({INCLUDE_WORDS[facts['include']]}) of "
        f"{counts['sentences']:,} sentences in {counts['articles']:,} articles, with "
        f"{counts['annotations']:,} annotations. A release never changes: later labels go into "
        "later releases.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        "dataset = load_dataset(",
        '    "parquet",',
        "    data_files={"
        + ", ".join(f'"{s["name"]}": "{s["path"]}"' for s in facts["splits"])
        + "},",
        ")",
        f"names = dataset[{_q(split_names[0] if split_names else 'train')}]"
        '.features["claim_type"].names',
        "",
        "import pandas as pd",
        "",
        'train = pd.read_parquet("data/train.parquet")',
        "# The CSV reads back with the Parquet's types when empty cells stay strings:",
        f"STRING_COLUMNS = {_q(string_columns)}",
        f"frame = pd.read_csv({_q('sentences.csv.gz')}, keep_default_na=False, "
        "dtype=dict.fromkeys(STRING_COLUMNS, 'str'))",
        "```",
        "",
        "In CSV a null is an empty cell;"
        " integers are never empty (no label is -1), and text cells starting with `=`, `+`, `-`,"
        " `@`, a tab or a carriage return carry a leading `'` so spreadsheets do not run them"
        " (Parquet and JSONL hold the text verbatim).",
        "",
        "## Labels",
        "",
        "Each label column holds the integer id of a Hugging Face `ClassLabel` whose names are "
        "the label schema's values **in the schema's order** (id 0 is the first choice); -1 "
        "means no label. Beside it: `<column>_value` (the value as text), `<column>_source`, "
        "`<column>_majority` (the majority of two or more labels, also when gold overrides it) "
        "and `<column>_n_labels` (annotators who labelled it). Stance columns are named after "
        "the target's slug, which never changes when a target is renamed.",
        "",
    ]
    for unit in units:
        title = "Claim type" if unit["layer"] == "claim_type" else f"Stance toward {unit['name']}"
        out += [f"### `{unit['column']}`: {title}", ""]
        out += _table(
            ["id", "value", "name"],
            [(i, c["value"], c["name"]) for i, c in enumerate(unit["categories"])],
        )
    out += ["`<column>_source`:", ""]
    out += [f"- `{source}`: {words}" for source, words in SOURCE_WORDS.items() if source] + [
        f"- empty: {SOURCE_WORDS[None]}",
        "",
    ]
    out += ["## Fields", ""]
    out += _table(
        ["column", "type", "meaning"],
        [
            (name, _feature_type(feature), FIELD_WORDS.get(name, _unit_words(name, units)))
            for name, feature in facts["features"].items()
        ],
    )
    proportions = facts["proportions"]
    out += [
        "## Splits",
        "",
        "Assigned by article, so no article is in two splits. An article's split is fixed by "
        "the first release that includes it and kept by every later one; articles new to a "
        "release are split per stratum (the article's most frequent claim-type label), each, in "
        f"the order of a SHA-256 hash of the seed ({_q(facts['seed'])}) and its external id, "
        "going to the split furthest below its share of the stratum. Shares: "
        + ", ".join(f"{name} {proportions[name]:g}" for name in proportions)
        + ".",
        "",
    ]
    out += _table(
        ["split", "records", "articles", "file"],
        [
            (
                s["name"],
                s["num_examples"],
                counts["articles_per_split"].get(s["name"], 0),
                s["path"],
            )
            for s in facts["splits"]
        ],
    )
    out += ["## Label distribution", "", "Records per label and split (included records)."]
    out.append("")
    for unit in units:
        per_split = facts["labels"].get(unit["column"], {})
        values = [c["value"] for c in unit["categories"]] + [None]
        rows = [
            (
                value if value is not None else "(none)",
                *(per_split.get(s, {}).get(str(value), 0) for s in split_names),
            )
            for value in values
        ]
        out += [f"`{unit['column']}`:", ""] + _table(["label", *split_names], rows)
    out += ["Label sources (included records):", ""]
    out += _table(
        ["column", "gold", "majority", "single", "none"],
        [
            (
                unit["column"],
                *(
                    facts["sources"].get(unit["column"], {}).get(str(s), 0)
                    for s in (*SOURCE_WORDS,)
                ),
            )
            for unit in units
        ],
    )
    out += [
        "## Annotation",
        "",
        f"Each article was to be labelled by {facts['annotators_per_article']} annotator(s). "
        "Articles by the number of annotators who labelled at least one of their sentences:",
        "",
    ]
    out += _table(
        ["annotators", "articles"],
        sorted((int(k), v) for k, v in facts["annotators_histogram"].items()),
    )
    out += [
        "Annotators are "
        + (
            "pseudonymised (`annotator-…`, a keyed hash of the username, the same in every "
            "release and export of this installation)."
            if facts["anonymize"]
            else "named by their usernames."
        ),
        "",
        "### Guidelines",
        "",
    ]
    guidelines = (facts.get("guidelines") or "").strip()
    out += (
        [("> " + line).rstrip() for line in guidelines.splitlines()]
        if guidelines
        else ["(none written)"]
    )
    out += ["", "## Agreement", ""]
    out += [
        "Inter-annotator agreement at the cut, over sentences with two or more labels: "
        "Krippendorff's alpha with its 95% bootstrap interval, percent agreement, Fleiss' kappa "
        "and the mean of pairwise Cohen's kappas.",
        "",
    ]
    out += _table(
        ["layer", "level", "units", "annotators", "alpha [95% CI]", "percent", "Fleiss", "Cohen"],
        [
            (
                row.get("label") or row.get("layer"),
                row.get("level"),
                row.get("n_units"),
                row.get("n_annotators"),
                _figure(row.get("krippendorff_alpha"), row.get("krippendorff_alpha_ci")),
                _figure(row.get("percent_agreement")),
                _figure(row.get("fleiss_kappa")),
                _figure(row.get("mean_pairwise_kappa")),
            )
            for row in facts["agreement"]
        ],
    )
    if facts.get("models"):
        out += [
            "",
            "## Models",
            "",
            "Model versions of this corpus: the baseline models trained on its labels, external "
            "models whose predictions were imported, and any whose suggestions annotators saw "
            "while labelling (`labels with its suggestion`, shown or hidden as a control). Labels "
            "made with a suggestion shown may lean towards it; the statistics page measures how "
            "much against the hidden control.",
            "",
        ]
        out += _table(
            [
                "model",
                "version",
                "kind",
                "layer",
                "macro-F1 [95% CI]",
                "labels with its suggestion",
            ],
            [
                (
                    row["name"],
                    row["version"],
                    row["kind"],
                    row["layer"] + (f" (target {row['target']})" if row.get("target") else ""),
                    _figure(row.get("macro_f1"), row.get("macro_f1_interval")),
                    row.get("labels_with_its_suggestion", 0),
                )
                for row in facts["models"]
            ],
        )
        out += [""]
    out += [
        "## Provenance",
        "",
        f"- Label schema version: {facts['schema_version']}",
        "- Sentence segmenter: "
        + (", ".join(f"`{v}`" for v in facts["segmenter_versions"]) or "unknown"),
        f"- Snapshot taken: {facts['snapshot_at']}",
        f"- Context columns (`previous_text`, `next_text`): {'yes' if facts['context'] else 'no'}",
        "",
        "Files (SHA-256):",
        "",
    ]
    out += _table(
        ["file", "bytes", "rows", "sha256"],
        [(f["name"], f["bytes"], f["rows"], f["sha256"]) for f in facts["files"]],
    )
    return "\n".join(out)


def _feature_type(feature: Mapping[str, Any]) -> str:
    if feature["_type"] == "ClassLabel":
        return f"ClassLabel ({len(feature['names'])} names)"
    return feature["dtype"]


def _unit_words(name: str, units: Sequence[Mapping[str, Any]]) -> str:
    for unit in units:
        column = unit["column"]
        if not name.startswith(column):
            continue
        what = "claim type" if unit["layer"] == "claim_type" else f"stance toward {unit['name']}"
        suffix = name[len(column) :]
        words = {
            "": f"Label id of the {what} (-1: none).",
            "_value": f"Label value of the {what}.",
            "_source": "gold, majority or single (empty: no label).",
            "_majority": "Majority of two or more annotators' labels (empty: none or a tie).",
            "_n_labels": "Annotators who labelled it.",
        }
        if suffix in words:
            return words[suffix]
    return ""
