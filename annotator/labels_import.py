"""Bulk import of labels made in another tool: JSONL lines -> annotations, all or nothing.

Every line is checked first (JSON, fields, article, sentence, target, label, who may write for
whom, and the labelling rule: the line's annotator must hold the article) and every problem is
reported by line number; only a clean file is written, in one transaction, through
`annotating.save_label`, so the rule, history and concurrency are the same as for labels made
in the workspace.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from django.db import transaction

from annotator.annotating import LabelError, labelling_refusals, save_label
from annotator.models import Annotation, LabelChoice, Layer, Membership, Role, Sentence

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from annotator.models import Corpus

LINE_FIELDS = frozenset(
    {"external_id", "sentence_index", "layer", "target", "label", "annotator", "seconds"}
)
MAX_ERRORS_REPORTED = 1000


class LabelImportRejected(Exception):
    """`errors` maps "line N" (or "file") to the messages for that line."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} line(s) rejected")
        self.errors = errors


class _Row(NamedTuple):
    """A checked line, ready to write."""

    line: int
    sentence_id: int
    annotator_id: int
    layer: str
    target_id: int | None
    choice_id: int
    seconds: float


@dataclass(frozen=True)
class _Line:
    number: int
    external_id: str
    sentence_index: int
    layer: str
    target: str | None
    label: str
    annotator: str
    seconds: float


def _parse(number: int, raw: str, caller_name: str) -> tuple[_Line | None, list[str]]:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as error:
        return None, [f"not valid JSON ({error.msg})"]
    except RecursionError:
        return None, ["not valid JSON (nested too deeply)"]
    if not isinstance(record, dict):
        return None, ["expected a JSON object"]
    try:
        # JSON may escape a lone surrogate ("\ud800"): no text, and the database refuses it.
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return None, ["not valid Unicode: a lone surrogate escape"]
    problems = [f"unknown field {name!r}" for name in sorted(set(record) - LINE_FIELDS)]
    for name in ("external_id", "sentence_index", "layer", "label"):
        if name not in record:
            problems.append(f"{name}: required")
    external_id, index = record.get("external_id"), record.get("sentence_index")
    layer, target, label = record.get("layer"), record.get("target"), record.get("label")
    annotator = record.get("annotator", caller_name)
    seconds = record.get("seconds", 0)
    if "external_id" in record and (not isinstance(external_id, str) or not external_id):
        problems.append("external_id: must be a non-empty string")
    if "sentence_index" in record and (
        not isinstance(index, int) or isinstance(index, bool) or index < 0
    ):
        problems.append("sentence_index: must be an integer >= 0")
    if "layer" in record and layer not in Layer.values:
        problems.append(f"layer: must be one of {', '.join(Layer.values)}")
    if layer == Layer.STANCE and not isinstance(target, str):
        problems.append("target: a stance label needs the stance target's name")
    if layer == Layer.CLAIM_TYPE and target is not None:
        problems.append("target: a claim type has no stance target")
    if "label" in record and (not isinstance(label, str) or not label):
        problems.append("label: must be a non-empty string")
    if not isinstance(annotator, str) or not annotator:
        problems.append("annotator: must be a username")
    if (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or not 0 <= seconds <= 86400
    ):
        problems.append("seconds: must be a number from 0 to 86400")
    if problems:
        return None, problems
    # Each of these, when anything else, added a problem above.
    assert isinstance(external_id, str) and isinstance(index, int)
    assert isinstance(layer, str) and isinstance(label, str)
    return _Line(number, external_id, index, layer, target, label, annotator, float(seconds)), []


def import_labels(*, corpus: Corpus, caller: User, data: bytes, max_lines: int) -> dict[str, int]:
    """Import JSONL labels into `corpus`; raises LabelImportRejected and writes nothing on error.

    Lines without `annotator` are the caller's own labels (the caller must be an annotator);
    lines naming another annotator need the caller to manage the corpus.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LabelImportRejected({"file": ["not UTF-8 text"]}) from None
    errors: dict[str, list[str]] = {}
    lines: list[_Line] = []
    numbered = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if not numbered:
        raise LabelImportRejected({"file": ["no lines to import"]})
    if len(numbered) > max_lines:
        raise LabelImportRejected({"file": [f"more than {max_lines} lines"]})
    for number, raw in numbered:
        line, problems = _parse(number, raw, caller.get_username())
        if problems:
            errors[f"line {number}"] = problems
        elif line is not None:
            lines.append(line)

    members = dict(Membership.objects.filter(corpus=corpus).values_list("user__username", "role"))
    users = dict(Membership.objects.filter(corpus=corpus).values_list("user__username", "user_id"))
    caller_is_manager = members.get(caller.get_username()) == Role.MANAGER
    articles = dict(
        corpus.articles.filter(external_id__in={line.external_id for line in lines}).values_list(
            "external_id", "id"
        )
    )
    sentences = {
        (article_id, ordinal): pk
        for pk, article_id, ordinal in Sentence.objects.filter(
            article_id__in=articles.values()
        ).values_list("id", "article_id", "ordinal")
    }
    targets = dict(corpus.stance_targets.values_list("name", "id"))
    choices = {
        (layer, value): pk
        for pk, layer, value in corpus.choices.values_list("id", "layer", "value")
    }
    rows: list[_Row] = []
    seen: dict[tuple[int, int, str, int | None], int] = {}
    for line in lines:
        problems = []
        if line.annotator != caller.get_username() and not caller_is_manager:
            problems.append("annotator: only managers may import labels for other annotators")
        elif line.annotator not in members:
            problems.append(f"annotator: {line.annotator!r} is not a member of this corpus")
        article_id = articles.get(line.external_id)
        sentence_id = None
        if article_id is None:
            problems.append(f"external_id: no article {line.external_id!r} in this corpus")
        else:
            sentence_id = sentences.get((article_id, line.sentence_index))
            if sentence_id is None:
                problems.append(
                    f"sentence_index: the article has no sentence {line.sentence_index}"
                )
        target_id = None
        if line.layer == Layer.STANCE:
            assert line.target is not None  # _parse requires it of a stance label
            target_id = targets.get(line.target)
            if target_id is None:
                problems.append(f"target: no stance target {line.target!r} in this corpus")
        choice_id = choices.get((line.layer, line.label))
        if choice_id is None:
            problems.append(f"label: {line.label!r} is not a {line.layer} label of this corpus")
        if not problems and sentence_id is not None and choice_id is not None:
            key = (sentence_id, users[line.annotator], line.layer, target_id)
            if key in seen:
                problems.append(f"same sentence, layer, target and annotator as line {seen[key]}")
            else:
                seen[key] = line.number
                rows.append(
                    _Row(
                        line.number,
                        sentence_id,
                        users[line.annotator],
                        line.layer,
                        target_id,
                        choice_id,
                        line.seconds,
                    )
                )
        if problems:
            errors[f"line {line.number}"] = problems
    names = {user_id: name for name, user_id in users.items()}
    rows_of: defaultdict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        rows_of[row.annotator_id].append(row)
    for user_id, theirs in rows_of.items():
        refused = labelling_refusals(
            annotator_id=user_id,
            sentence_ids=[row.sentence_id for row in theirs],
            about=names[user_id],
        )
        for row in theirs:
            if row.sentence_id in refused:
                errors.setdefault(f"line {row.line}", []).append(
                    f"annotator: {refused[row.sentence_id]}"
                )
    if errors:
        shown = dict(
            sorted(errors.items(), key=lambda item: _line_order(item[0]))[:MAX_ERRORS_REPORTED]
        )
        raise LabelImportRejected(shown)
    return _write(corpus=corpus, rows=rows)


def _line_order(key: str) -> int:
    return int(key.split()[-1]) if key.startswith("line ") else 0


def _write(*, corpus: Corpus, rows: list[_Row]) -> dict[str, int]:
    from django.contrib.auth import get_user_model

    sentence_objects = Sentence.objects.select_related("article").in_bulk(
        {row.sentence_id for row in rows}
    )
    user_objects = get_user_model().objects.in_bulk({row.annotator_id for row in rows})
    target_objects = {t.pk: t for t in corpus.stance_targets.all()}
    choice_objects = {c.pk: c for c in LabelChoice.objects.filter(corpus=corpus)}
    counts = {"lines": len(rows), "created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        existing: dict[tuple[int, int, str, int | None], int] = {
            (s, a, layer, t): c
            for s, a, layer, t, c in Annotation.objects.filter(
                sentence_id__in=sentence_objects, annotator_id__in=user_objects
            ).values_list("sentence_id", "annotator_id", "layer", "target_id", "choice_id")
        }
        for number, sentence_id, user_id, layer, target_id, choice_id, seconds in rows:
            before = existing.get((sentence_id, user_id, layer, target_id))
            try:
                save_label(
                    sentence=sentence_objects[sentence_id],
                    annotator=user_objects[user_id],
                    layer=layer,
                    target=target_objects.get(target_id) if target_id else None,
                    choice=choice_objects[choice_id],
                    seconds=seconds,
                )
            except LabelError as error:
                # Checked above; this is an assignment released while the file was written.
                # Raising inside the transaction writes nothing at all.
                raise LabelImportRejected({f"line {number}": [str(error)]}) from None
            if before is None:
                counts["created"] += 1
            elif before == choice_id:
                counts["unchanged"] += 1
            else:
                counts["updated"] += 1
    return counts
