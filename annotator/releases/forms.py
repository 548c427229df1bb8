"""The form a manager fills in to cut a release (web page); the API has its serializer."""

from __future__ import annotations

from typing import Any

from django import forms

from annotator.models import RecordInclusion
from annotator.releases.catalog import ReleaseError, ReleaseOptions, validate_options


class ReleaseForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is new in this release, for the people who use it.",
    )
    include = forms.ChoiceField(
        choices=RecordInclusion.choices, label="Records", initial=RecordInclusion.GOLD_OR_MAJORITY
    )
    context = forms.BooleanField(
        required=False, label="Add the previous and next sentence to every record"
    )
    anonymize = forms.BooleanField(required=False, initial=True, label="Pseudonymise annotators")
    train = forms.FloatField(min_value=0, max_value=1, initial=0.8, label="Train share")
    validation = forms.FloatField(min_value=0, max_value=1, initial=0.1, label="Validation share")
    test = forms.FloatField(min_value=0, max_value=1, initial=0.1, label="Test share")
    seed = forms.CharField(max_length=100, initial="0", label="Split seed")
    license = forms.CharField(
        max_length=100, initial="other", label="Licence", help_text="e.g. cc-by-4.0, or other."
    )

    @classmethod
    def initial_from(cls, options: ReleaseOptions) -> dict[str, Any]:
        return {
            "include": options.include,
            "context": options.context,
            "anonymize": options.anonymize,
            "seed": options.seed,
            "license": options.license,
            **options.proportions,
        }

    def clean(self) -> dict[str, Any]:
        super().clean()  # returns self.cleaned_data, typed as optional
        data = self.cleaned_data
        if self.errors:
            return data
        try:
            self.options = validate_options(
                ReleaseOptions(
                    note=data["note"],
                    include=data["include"],
                    context=data["context"],
                    anonymize=data["anonymize"],
                    seed=data["seed"],
                    license=data["license"],
                    proportions={k: data[k] for k in ("train", "validation", "test")},
                )
            )
        except ReleaseError as error:
            raise forms.ValidationError(str(error)) from None
        return data
