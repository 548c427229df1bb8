"""HTML forms of the web app: labelling, notes and skipping.

Forms validate input against the corpus they are bound to; the writes they lead to live in
annotating.py and assigning.py.
"""

from __future__ import annotations

from typing import Any

from django import forms

from annotator.annotating import MAX_NOTE_LENGTH, clamp_seconds
from annotator.assigning import MAX_SKIP_REASON_LENGTH
from annotator.models import LabelChoice, Layer, StanceTarget


def label_value(choice: LabelChoice, target: StanceTarget | None = None) -> str:
    """What a label button submits: the choice id, and for a stance the target id after ':'."""
    return f"{choice.pk}:{target.pk}" if target is not None else str(choice.pk)


class LabelForm(forms.Form):
    """One label for one sentence; the schema (choices, targets) comes from the caller."""

    label = forms.CharField(max_length=40)
    seconds = forms.CharField(required=False, max_length=40)

    def __init__(
        self,
        *args: Any,
        choices: dict[int, LabelChoice],
        targets: dict[int, StanceTarget],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.targets = targets

    def clean_seconds(self) -> float:
        return clamp_seconds(self.cleaned_data.get("seconds"))

    def clean_label(self) -> tuple[LabelChoice, StanceTarget | None]:
        raw = self.cleaned_data["label"]
        choice_id, _, target_id = raw.partition(":")
        try:
            choice = self.choices[int(choice_id)]
            target = self.targets[int(target_id)] if target_id else None
        except (KeyError, ValueError):
            raise forms.ValidationError(f"{raw!r} is not a label of this corpus.") from None
        if (choice.layer == Layer.STANCE) != (target is not None):
            raise forms.ValidationError("A stance needs a target; a claim type has none.")
        return choice, target


class NoteForm(forms.Form):
    unsure = forms.BooleanField(required=False, label="Unsure")
    note = forms.CharField(required=False, max_length=MAX_NOTE_LENGTH, label="Note")


class SkipForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_SKIP_REASON_LENGTH,
        label="Why skip this article?",
        widget=forms.TextInput(attrs={"placeholder": "e.g. not in English, duplicate, empty"}),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why you skip this article.")
        return reason
