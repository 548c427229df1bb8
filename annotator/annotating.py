"""Writes an annotator makes while labelling: a label (with its history), undo, notes and flags,
and the one rule that decides whether a user may make them.

The rule ("may this user label this sentence") is `LABELLING_RULE` below, and every write here
applies it: `save_label`, `save_note` and `undo_last_change` refuse with `LabellingRefused`,
whoever calls them (workspace views, REST API, bulk label import). Entry points translate the
refusal into 403 or a line report; none of them checks on its own.

Every change of a label appends an `AnnotationHistory` row in the same transaction, so the
history is complete by construction. The annotator is always the signed-in user: nothing here
takes an annotation id, so no one can reach another person's label by changing a number.

On PostgreSQL a label save is one SQL statement (the rule, the upsert and the history row), so
the label loop costs one round trip; other databases (SQLite for `make run`) take the plain ORM
path, with the same rule and the same results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.dispatch import Signal
from django.utils import timezone

from annotator.assigning import HOLDING_PLACE
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Assignment,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Sentence,
    SentenceNote,
    StanceTarget,
    max_length_of,
)

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import User
    from django_stubs_ext import WithAnnotations

    class _CurrentValue(TypedDict):
        current_value: str


# Time on one sentence beyond an hour is a forgotten tab, not work; the client's figure is
# only a hint, so the server bounds it.
MAX_SECONDS_PER_CHANGE = 3600.0
MAX_NOTE_LENGTH = max_length_of(SentenceNote, "note")
# A save that loses the race to create a label retries once it can see the winner's row.
MAX_SAVE_ATTEMPTS = 3

# Sent after a label write has been made (and committed, unless the caller holds a transaction):
# the point between the write and the answer, for code that reacts to saves.
label_saved = Signal()


class LabelError(ValueError):
    """A label write that cannot be made: it does not fit the sentence's corpus schema (wrong
    corpus, layer or target), or the user may not label the sentence (`LabellingRefused`)."""


class LabellingRefused(LabelError):
    """The user may not label this sentence; the message says why, to that user."""


# ---------------------------------------------------------------------------------------------
# The rule: may this user label this sentence?


@dataclass(frozen=True)
class Condition:
    """One part of the labelling rule.

    `sql` is a boolean SQL expression over the row of the sentence table of the enclosing
    query (named by its table name), with the user's id wherever it says %s. It is plain SQL so
    the same text serves the one-statement save on PostgreSQL, the check before a write on
    other databases and the bulk check of an import, and the rule cannot drift between them.
    """

    name: str
    sql: str
    refusal: str  # said to the user
    refusal_for: str  # said about someone else ({annotator}), in an import's line report
    # False when the condition reads only the sentence's article (membership, assignment), so
    # it also answers "may this user label in this article" (undo with nothing to undo).
    per_sentence: bool = False


_S = Sentence._meta.db_table
_HOLDING = ", ".join(f"'{status.value}'" for status in HOLDING_PLACE)

LABELLING_RULE: tuple[Condition, ...] = (
    Condition(
        "member",
        f"EXISTS (SELECT 1 FROM {Membership._meta.db_table} m"
        f" JOIN {Article._meta.db_table} a ON a.corpus_id = m.corpus_id"
        f" WHERE a.id = {_S}.article_id AND m.user_id = %s)",
        "You are not a member of this corpus.",
        "{annotator!r} is not a member of this corpus",
    ),
    Condition(
        # Members may read every article of their corpus, but label only those they hold, so
        # no path gets round annotators_per_article.
        "holds_article",
        f"EXISTS (SELECT 1 FROM {Assignment._meta.db_table} x"
        f" WHERE x.article_id = {_S}.article_id AND x.annotator_id = %s"
        f" AND x.status IN ({_HOLDING}))",
        "This article is not assigned to you; take it with “Next article” first.",
        "the article is not assigned to {annotator!r}",
    ),
    Condition(
        # Page furniture a manager excluded (annotator/resegmenting.py) is not article text:
        # no path may label it, even from a page drawn before it was excluded.
        "not_excluded",
        f"NOT {_S}.excluded",
        "This sentence is excluded from labelling (it is not article text).",
        "the sentence is excluded from labelling (not article text)",
        per_sentence=True,
    ),
)


def _columns(conditions: Iterable[Condition], annotator_id: int) -> tuple[str, list[int]]:
    """The conditions as SELECT columns, with their parameters."""
    conditions = list(conditions)
    sql = ", ".join(f"{condition.sql} AS {condition.name}" for condition in conditions)
    return sql, [annotator_id] * sum(condition.sql.count("%s") for condition in conditions)


def labelling_refusals(
    *, annotator_id: int, sentence_ids: Iterable[int], about: str | None = None
) -> dict[int, str]:
    """Why `annotator_id` may not label each of `sentence_ids`: {sentence id: reason}.

    Sentences the user may label are absent; unknown ids count as refused. `about` names the
    annotator in the reasons (an import's report) instead of speaking to them.
    """
    wanted = list(dict.fromkeys(sentence_ids))
    refused: dict[int, str] = {}
    found: set[int] = set()
    columns, params = _columns(LABELLING_RULE, annotator_id)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {_S}.id, {columns} FROM {_S} WHERE {_S}.id IN ({marks})",
                params + chunk,
            )
            for sentence_id, *holds in cursor.fetchall():
                found.add(sentence_id)
                reason = _refusal(holds, about=about)
                if reason:
                    refused[sentence_id] = reason
    for sentence_id in wanted:
        if sentence_id not in found:
            refused[sentence_id] = "No such sentence."
    return refused


def _refusal(holds: Iterable[object], *, about: str | None = None) -> str | None:
    for condition, held in zip(LABELLING_RULE, holds, strict=True):
        if not held:
            if about is not None:
                return condition.refusal_for.format(annotator=about)
            return condition.refusal
    return None


def article_refusal(*, annotator_id: int, article_id: int) -> str | None:
    """Why the user may not label in this article at all (the rule's article-wide conditions,
    read on any one of its sentences); None when they may."""
    conditions = [c for c in LABELLING_RULE if not c.per_sentence]
    columns, params = _columns(conditions, annotator_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {_S} WHERE {_S}.article_id = %s LIMIT 1",
            params + [article_id],
        )
        row = cursor.fetchone()
    if row is None:
        return "No such article."
    return next((c.refusal for c, held in zip(conditions, row, strict=True) if not held), None)


def ensure_may_label(*, annotator: User, sentence: Sentence) -> None:
    """Raise LabellingRefused unless `annotator` may label `sentence` (one query)."""
    reason = labelling_refusals(annotator_id=annotator.pk, sentence_ids=[sentence.pk]).get(
        sentence.pk
    )
    if reason:
        raise LabellingRefused(reason)


# ---------------------------------------------------------------------------------------------
# What the workspace shows of one sentence, read in one query


@dataclass
class LabellingState:
    """One sentence as its annotator sees it: where it is, their labels and note on it.

    `sentence.article.corpus` is a partial Corpus (id, schema_version, stance_required,
    suggestions, suggestion_control_share): enough to find the cached schema, to draw the row
    and to find its suggestions, not to be saved.
    """

    sentence: Sentence
    role: str
    labels: dict[tuple[str, int | None], int] = field(default_factory=dict)
    note: SentenceNote | None = None

    @property
    def corpus(self) -> Corpus:
        return self.sentence.article.corpus

    def annotations(self) -> list[Annotation]:
        """The labels as (unsaved) Annotation rows, the shape the row builder reads."""
        return [
            Annotation(
                sentence_id=self.sentence.pk,
                layer=layer,
                target_id=target_id,
                choice_id=choice_id,
            )
            for (layer, target_id), choice_id in self.labels.items()
        ]


_STATE_SQL = f"""
    SELECT s.id, s.article_id, s.ordinal, s.paragraph, s.start, s."end", s.text,
           a.corpus_id, c.schema_version, c.stance_required, m.role,
           n.id, n.unsure, n.note, l.layer, l.target_id, l.choice_id, s.zone, s.excluded,
           c.suggestions, c.suggestion_control_share
    FROM {_S} s
    JOIN {Article._meta.db_table} a ON a.id = s.article_id
    JOIN {Corpus._meta.db_table} c ON c.id = a.corpus_id
    JOIN {Membership._meta.db_table} m ON m.corpus_id = a.corpus_id AND m.user_id = %s
    LEFT JOIN {SentenceNote._meta.db_table} n ON n.sentence_id = s.id AND n.annotator_id = %s
    LEFT JOIN {Annotation._meta.db_table} l ON l.sentence_id = s.id AND l.annotator_id = %s
    WHERE s.id = %s
"""


def labelling_state(*, annotator: User, sentence_id: int) -> LabellingState | None:
    """The sentence with its corpus, the user's role there, their labels and note; None when
    there is no such sentence in a corpus the user belongs to.

    One query in plain SQL (it runs on every label save, and the ORM's query building would
    cost more than the query): one row per label of the user's, the rest repeated on each.
    """
    user_id = annotator.pk
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, [user_id, user_id, user_id, sentence_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    corpus = Corpus(
        id=first[7],
        schema_version=first[8],
        stance_required=bool(first[9]),
        suggestions=first[19],
        suggestion_control_share=first[20],
    )
    sentence = Sentence(
        id=first[0],
        article=Article(id=first[1], corpus=corpus),
        ordinal=first[2],
        paragraph=first[3],
        start=first[4],
        end=first[5],
        text=first[6],
        zone=first[17],
        excluded=bool(first[18]),
    )
    note = None
    if first[11] is not None:
        note = SentenceNote(
            id=first[11],
            sentence=sentence,
            annotator_id=user_id,
            unsure=bool(first[12]),
            note=first[13],
        )
    labels = {(row[14], row[15]): row[16] for row in rows if row[14] is not None}
    return LabellingState(sentence=sentence, role=first[10], labels=labels, note=note)


# ---------------------------------------------------------------------------------------------
# Writes


def clamp_seconds(seconds: float | str | None) -> float:
    """Seconds sent by the browser, bounded to 0..MAX_SECONDS_PER_CHANGE; junk counts as 0."""
    try:
        value = float(seconds) if seconds is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
    if value != value:  # NaN
        return 0.0
    return min(max(value, 0.0), MAX_SECONDS_PER_CHANGE)


def _check_fits_schema(
    *, sentence: Sentence, layer: str, target: StanceTarget | None, choice: LabelChoice | None
) -> None:
    corpus_id = sentence.article.corpus_id
    if layer not in Layer.values:
        raise LabelError(f"Unknown layer {layer!r}.")
    if layer == Layer.CLAIM_TYPE and target is not None:
        raise LabelError("A claim type has no stance target.")
    if layer == Layer.STANCE and (target is None or target.corpus_id != corpus_id):
        raise LabelError("A stance needs a stance target of this corpus.")
    if choice is not None and (choice.corpus_id != corpus_id or choice.layer != layer):
        raise LabelError(f"{choice} is not a {layer} choice of this corpus.")


@dataclass(frozen=True)
class SuggestionSeen:
    """What the model suggested to the annotator for the label being saved.

    `visible` False means the suggestion was computed but hidden as a control
    (`assisting.suggestion_is_hidden`); `choice_id` is the suggested LabelChoice and
    `model_version_id` the ModelVersion that made it.
    """

    visible: bool
    choice_id: int | None
    model_version_id: int | None

    def fields(self) -> dict[str, object]:
        """The Annotation fields this sets."""
        return {
            "suggestion_visible": self.visible,
            "suggested_choice_id": self.choice_id,
            "suggestion_model_id": self.model_version_id,
        }


def _current(
    *, sentence: Sentence, annotator: User, layer: str, target: StanceTarget | None
) -> WithAnnotations[Annotation, _CurrentValue] | None:
    # Lock only the annotation: locking its choice too would queue every annotator on the
    # few LabelChoice rows. The current value comes from a subquery, not a join: when a
    # concurrent save changes the row's choice, PostgreSQL rechecks a locked row's join against
    # the old choice row, the join fails and the row silently drops out of the result.
    return (
        Annotation.objects.select_for_update(of=("self",))
        .annotate(
            current_value=Subquery(
                LabelChoice.objects.filter(pk=OuterRef("choice_id")).values("value")[:1]
            )
        )
        .filter(sentence=sentence, annotator=annotator, layer=layer, target=target)
        .first()
    )


def _write(
    *,
    sentence: Sentence,
    annotator: User,
    layer: str,
    target: StanceTarget | None,
    choice: LabelChoice | None,
    seconds: float,
    undo_of: AnnotationHistory | None = None,
    suggestion: SuggestionSeen | None = None,
) -> tuple[Annotation | None, AnnotationHistory | None]:
    """Set (or with choice=None remove) one label; must run inside a transaction."""
    current = _current(sentence=sentence, annotator=annotator, layer=layer, target=target)
    # Read the clock only once the row is locked, so the history's times follow the order in
    # which concurrent changes really happened (undo picks the newest by time).
    now = timezone.now()
    if current is None and choice is not None:
        try:
            with transaction.atomic():
                created = Annotation.objects.create(
                    sentence=sentence,
                    annotator=annotator,
                    layer=layer,
                    target=target,
                    choice=choice,
                    seconds_spent=seconds,
                    created_at=now,
                    updated_at=now,
                    **(suggestion.fields() if suggestion else {}),
                )
        except IntegrityError:
            # A concurrent save of the same label committed first; its row is ours to update.
            current = _current(sentence=sentence, annotator=annotator, layer=layer, target=target)
            if current is None:
                raise
            now = timezone.now()
        else:
            return created, _log(created, old="", new=choice.value, at=now, undo_of=undo_of)

    if current is None:  # removing a label that is not there
        return None, None
    old_value = current.current_value
    if choice is None:
        history = _log(current, old=old_value, new="", at=now, undo_of=undo_of)
        current.delete()
        return None, history
    current.seconds_spent += seconds
    suggested = suggestion.fields() if suggestion else {}
    for name, value in suggested.items():
        setattr(current, name, value)
    if current.choice_id == choice.pk:
        # Same label again: no change to record, but the time was still spent on it.
        if seconds or suggested:
            Annotation.objects.filter(pk=current.pk).update(
                seconds_spent=current.seconds_spent, **suggested
            )
        return current, None
    current.choice = choice
    current.updated_at = now
    current.save(update_fields=["choice", "seconds_spent", "updated_at", *suggested])
    return current, _log(current, old=old_value, new=choice.value, at=now, undo_of=undo_of)


def _log(
    annotation: Annotation,
    *,
    old: str,
    new: str,
    at: datetime,
    undo_of: AnnotationHistory | None,
) -> AnnotationHistory:
    return AnnotationHistory.objects.create(
        sentence_id=annotation.sentence_id,
        annotator_id=annotation.annotator_id,
        layer=annotation.layer,
        target_id=annotation.target_id,
        changed_by_id=annotation.annotator_id,
        changed_at=at,
        old_value=old,
        new_value=new,
        undo_of=undo_of,
    )


def _upsert_sql(*, stance: bool) -> str:
    """The one statement of a label save on PostgreSQL: rule, upsert, history, answer.

    `current` locks the existing label (FOR UPDATE waits for a concurrent save and then sees
    its committed value), so the history's old value is the one really replaced and each
    change is logged once. When there is no label yet, two first saves race on the unique
    index: the loser's INSERT does nothing (ON CONFLICT) and the statement returns no label,
    and the caller runs it again, now seeing the winner's row. Times come from
    clock_timestamp() after the lock, so history times follow the order of the changes.
    """
    annotation = Annotation._meta.db_table
    history = AnnotationHistory._meta.db_table
    choice = LabelChoice._meta.db_table
    same_target = "target_id = %(target)s" if stance else "target_id IS NULL"
    allowed = " AND ".join(condition.name for condition in LABELLING_RULE)
    return f"""
        WITH rule AS (
            SELECT {
        ", ".join(f"{c.sql.replace('%s', '%(annotator)s')} AS {c.name}" for c in LABELLING_RULE)
    }
            FROM {_S} WHERE {_S}.id = %(sentence)s
        ),
        allowed AS (SELECT 1 FROM rule WHERE {allowed}),
        current AS (
            SELECT id, choice_id FROM {annotation}
            WHERE sentence_id = %(sentence)s AND annotator_id = %(annotator)s
              AND layer = %(layer)s AND {same_target} AND EXISTS (SELECT 1 FROM allowed)
            FOR UPDATE
        ),
        changed AS (
            UPDATE {annotation} AS a SET
                choice_id = %(choice)s,
                seconds_spent = a.seconds_spent + %(seconds)s,
                updated_at = CASE WHEN a.choice_id = %(choice)s
                                  THEN a.updated_at ELSE clock_timestamp() END,
                suggestion_visible = CASE WHEN %(suggested)s
                                          THEN %(suggestion_visible)s::boolean
                                          ELSE a.suggestion_visible END,
                suggested_choice_id = CASE WHEN %(suggested)s
                                           THEN %(suggested_choice)s::bigint
                                           ELSE a.suggested_choice_id END,
                suggestion_model_id = CASE WHEN %(suggested)s
                                           THEN %(suggestion_model)s::bigint
                                           ELSE a.suggestion_model_id END
            FROM current WHERE a.id = current.id
            RETURNING a.id, current.choice_id AS old_choice, a.seconds_spent, a.created_at,
                      a.updated_at
        ),
        created AS (
            INSERT INTO {annotation}
                (sentence_id, annotator_id, layer, target_id, choice_id, seconds_spent,
                 created_at, updated_at, suggestion_visible, suggested_choice_id,
                 suggestion_model_id)
            SELECT %(sentence)s, %(annotator)s, %(layer)s, %(target)s, %(choice)s,
                   %(seconds)s, clock.at, clock.at, %(suggestion_visible)s::boolean,
                   %(suggested_choice)s::bigint, %(suggestion_model)s::bigint
            FROM allowed, (SELECT clock_timestamp() AS at) AS clock
            WHERE NOT EXISTS (SELECT 1 FROM current)
            ON CONFLICT DO NOTHING
            RETURNING id, NULL::bigint AS old_choice, seconds_spent, created_at, updated_at
        ),
        written AS (SELECT * FROM changed UNION ALL SELECT * FROM created),
        logged AS (
            INSERT INTO {history}
                (sentence_id, annotator_id, layer, target_id, changed_by_id, changed_at,
                 old_value, new_value, undo_of_id)
            SELECT %(sentence)s, %(annotator)s, %(layer)s, %(target)s, %(annotator)s,
                   written.updated_at,
                   COALESCE((SELECT value FROM {choice} WHERE id = written.old_choice), ''),
                   %(value)s, NULL
            FROM written WHERE written.old_choice IS DISTINCT FROM %(choice)s
            RETURNING id
        )
        SELECT {", ".join(f"rule.{c.name}" for c in LABELLING_RULE)},
               written.id, written.seconds_spent, written.created_at, written.updated_at
        FROM rule LEFT JOIN written ON TRUE
    """


_UPSERT_SQL = {stance: _upsert_sql(stance=stance) for stance in (False, True)}


def _save_in_one_statement(
    *,
    sentence: Sentence,
    annotator: User,
    layer: str,
    target: StanceTarget | None,
    choice: LabelChoice,
    seconds: float,
    suggestion: SuggestionSeen | None,
) -> Annotation:
    params: dict[str, int | str | float | bool | None] = {
        "suggested": suggestion is not None,
        "suggestion_visible": suggestion.visible if suggestion else None,
        "suggested_choice": suggestion.choice_id if suggestion else None,
        "suggestion_model": suggestion.model_version_id if suggestion else None,
        "sentence": sentence.pk,
        "annotator": annotator.pk,
        "layer": layer,
        "target": target.pk if target is not None else None,
        "choice": choice.pk,
        "value": choice.value,
        "seconds": seconds,
    }
    with connection.cursor() as cursor:
        for _ in range(MAX_SAVE_ATTEMPTS):
            cursor.execute(_UPSERT_SQL[target is not None], params)
            row = cursor.fetchone()
            if row is None:
                raise LabellingRefused("No such sentence.")
            holds, (pk, seconds_spent, created_at, updated_at) = (
                row[: len(LABELLING_RULE)],
                row[len(LABELLING_RULE) :],
            )
            reason = _refusal(holds)
            if reason:
                raise LabellingRefused(reason)
            if pk is not None:
                break
        else:
            raise IntegrityError("The label kept changing under a concurrent save; try again.")
    annotation = Annotation(
        id=pk,
        sentence=sentence,
        annotator=annotator,
        layer=layer,
        target=target,
        choice=choice,
        seconds_spent=seconds_spent,
        created_at=created_at,
        updated_at=updated_at,
        **(suggestion.fields() if suggestion else {}),
    )
    annotation._state.adding = False
    annotation._state.db = connection.alias
    return annotation


def save_label(
    *,
    sentence: Sentence,
    annotator: User,
    layer: str,
    target: StanceTarget | None,
    choice: LabelChoice | None,
    seconds: float | str | None = 0,
    suggestion: SuggestionSeen | None = None,
) -> Annotation | None:
    """Set the annotator's label for a sentence, layer and target; choice=None removes it.

    `suggestion` records what the model suggested when the annotator chose (written by the same
    statement); without it a changed label keeps what was recorded before.

    Refuses (LabellingRefused) when the labelling rule does, and (LabelError) a label that
    does not fit the corpus's schema. Adds the (clamped) seconds to the time spent on the
    label. Safe under concurrency: two saves of the same label end in one row, and each change
    is logged once. `sentence.article` must be loaded (its corpus_id is checked).
    """
    _check_fits_schema(sentence=sentence, layer=layer, target=target, choice=choice)
    seconds = clamp_seconds(seconds)
    if choice is not None and connection.vendor == "postgresql":
        annotation: Annotation | None = _save_in_one_statement(
            sentence=sentence,
            annotator=annotator,
            layer=layer,
            target=target,
            choice=choice,
            seconds=seconds,
            suggestion=suggestion,
        )
    else:
        ensure_may_label(annotator=annotator, sentence=sentence)
        with transaction.atomic():
            annotation, _ = _write(
                sentence=sentence,
                annotator=annotator,
                layer=layer,
                target=target,
                choice=choice,
                seconds=seconds,
                suggestion=suggestion,
            )
    label_saved.send(sender=Annotation, sentence=sentence, annotator=annotator, layer=layer)
    return annotation


def undo_last_change(*, article: Article, annotator: User) -> Sentence | None:
    """Revert the annotator's newest not-yet-undone change on this article.

    Restores the previous choice (or removes a label that was new) and logs the reversal as a
    history entry pointing at the one it undoes, so pressing undo again goes one step further
    back. Returns the sentence that changed, or None when there is nothing left to undo.
    Refuses (LabellingRefused) when the user may not label in the article, or no longer label
    the sentence that change was on.
    """
    reason = article_refusal(annotator_id=annotator.pk, article_id=article.pk)
    if reason:
        raise LabellingRefused(reason)
    try:
        with transaction.atomic():
            entry = (
                AnnotationHistory.objects.filter(
                    annotator=annotator,
                    sentence__article=article,
                    undo_of__isnull=True,
                    undone_by__isnull=True,
                )
                .select_related("sentence__article", "target")
                .order_by("-changed_at", "-id")
                .first()
            )
            if entry is None:
                return None
            ensure_may_label(annotator=annotator, sentence=entry.sentence)
            previous = None
            if entry.old_value:
                previous = LabelChoice.objects.filter(
                    corpus_id=article.corpus_id, layer=entry.layer, value=entry.old_value
                ).first()
                if previous is None:
                    return None  # the schema lost that choice; nothing sensible to restore
            _, history = _write(
                sentence=entry.sentence,
                annotator=annotator,
                layer=entry.layer,
                target=entry.target,
                choice=previous,
                seconds=0.0,
                undo_of=entry,
            )
            return entry.sentence if history is not None else None
    except IntegrityError:
        # Another undo of the same entry won the race (undo_of is unique); nothing to do.
        return None


def save_note(*, sentence: Sentence, annotator: User, unsure: bool, note: str) -> SentenceNote:
    """Set the annotator's own unsure flag and short note on a sentence (the labelling rule
    applies: a note is part of labelling the sentence)."""
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise LabelError(f"A note can be at most {MAX_NOTE_LENGTH} characters.")
    ensure_may_label(annotator=annotator, sentence=sentence)
    sentence_note, _ = SentenceNote.objects.update_or_create(
        sentence=sentence,
        annotator=annotator,
        defaults={"unsure": unsure, "note": note, "updated_at": timezone.now()},
    )
    return sentence_note
