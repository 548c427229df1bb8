"""Writes an annotator makes while labelling: a label (with its history), undo, notes and flags.

Every change of a label appends an `AnnotationHistory` row in the same transaction, so the
history is complete by construction. The annotator is always the signed-in user: nothing here
takes an annotation id, so no one can reach another person's label by changing a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    LabelChoice,
    Layer,
    Sentence,
    SentenceNote,
    StanceTarget,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Time on one sentence beyond an hour is a forgotten tab, not work; the client's figure is
# only a hint, so the server bounds it.
MAX_SECONDS_PER_CHANGE = 3600.0
MAX_NOTE_LENGTH = SentenceNote._meta.get_field("note").max_length


class LabelError(ValueError):
    """A label that does not fit the sentence's corpus schema (wrong corpus, layer or target)."""


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


def _current(
    *, sentence: Sentence, annotator: AbstractBaseUser, layer: str, target: StanceTarget | None
) -> Annotation | None:
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
    annotator: AbstractBaseUser,
    layer: str,
    target: StanceTarget | None,
    choice: LabelChoice | None,
    seconds: float,
    undo_of: AnnotationHistory | None = None,
) -> tuple[Annotation | None, AnnotationHistory | None]:
    """Set (or with choice=None remove) one label; must run inside a transaction."""
    current = _current(sentence=sentence, annotator=annotator, layer=layer, target=target)
    # Read the clock only once the row is locked, so the history's times follow the order in
    # which concurrent changes really happened (undo picks the newest by time).
    now = timezone.now()
    if current is None and choice is not None:
        try:
            with transaction.atomic():
                current = Annotation.objects.create(
                    sentence=sentence,
                    annotator=annotator,
                    layer=layer,
                    target=target,
                    choice=choice,
                    seconds_spent=seconds,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            # A concurrent save of the same label committed first; its row is ours to update.
            current = _current(sentence=sentence, annotator=annotator, layer=layer, target=target)
            if current is None:
                raise
            now = timezone.now()
        else:
            return current, _log(current, old="", new=choice.value, at=now, undo_of=undo_of)

    if current is None:  # removing a label that is not there
        return None, None
    old_value = current.current_value
    if choice is None:
        history = _log(current, old=old_value, new="", at=now, undo_of=undo_of)
        current.delete()
        return None, history
    current.seconds_spent += seconds
    if current.choice_id == choice.pk:
        # Same label again: no change to record, but the time was still spent on it.
        if seconds:
            Annotation.objects.filter(pk=current.pk).update(seconds_spent=current.seconds_spent)
        return current, None
    current.choice = choice
    current.updated_at = now
    current.save(update_fields=["choice", "seconds_spent", "updated_at"])
    return current, _log(current, old=old_value, new=choice.value, at=now, undo_of=undo_of)


def _log(
    annotation: Annotation,
    *,
    old: str,
    new: str,
    at: object,
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


def save_label(
    *,
    sentence: Sentence,
    annotator: AbstractBaseUser,
    layer: str,
    target: StanceTarget | None,
    choice: LabelChoice | None,
    seconds: float | str | None = 0,
) -> Annotation | None:
    """Set the annotator's label for a sentence, layer and target; choice=None removes it.

    Adds the (clamped) seconds to the time spent on the label. Safe under concurrency: two
    saves of the same label end in one row, and each change is logged once.
    `sentence.article` must be loaded (the view fetches it with select_related).
    """
    _check_fits_schema(sentence=sentence, layer=layer, target=target, choice=choice)
    with transaction.atomic():
        annotation, _ = _write(
            sentence=sentence,
            annotator=annotator,
            layer=layer,
            target=target,
            choice=choice,
            seconds=clamp_seconds(seconds),
        )
    return annotation


def undo_last_change(*, article: Article, annotator: AbstractBaseUser) -> Sentence | None:
    """Revert the annotator's newest not-yet-undone change on this article.

    Restores the previous choice (or removes a label that was new) and logs the reversal as a
    history entry pointing at the one it undoes, so pressing undo again goes one step further
    back. Returns the sentence that changed, or None when there is nothing left to undo.
    """
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


def save_note(
    *, sentence: Sentence, annotator: AbstractBaseUser, unsure: bool, note: str
) -> SentenceNote:
    """Set the annotator's own unsure flag and short note on a sentence."""
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise LabelError(f"A note can be at most {MAX_NOTE_LENGTH} characters.")
    sentence_note, _ = SentenceNote.objects.update_or_create(
        sentence=sentence,
        annotator=annotator,
        defaults={"unsure": unsure, "note": note, "updated_at": timezone.now()},
    )
    return sentence_note
