"""Forms of a manager's corpus pages: settings, members, label schema, stance targets, import.

Each form checks its input against the corpus it is bound to before anything is written (a key
or value already taken, an account that does not exist), so a person reads a form error rather
than a database error; the writes themselves live in corpora.py.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile

from annotator.models import (
    RESERVED_KEYS,
    AssignmentOrder,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Role,
    StanceTarget,
    SuggestionMode,
)

_RESERVED_WORDS = ", ".join(key for key in RESERVED_KEYS if key != " ") + " or space"


class CorpusSettingsForm(forms.ModelForm):
    annotators_per_article = forms.IntegerField(
        min_value=1,
        max_value=100,
        help_text=(
            "How many people label each article. Lowering it keeps the annotators an article "
            "already has (nobody's work is removed); new assignments stop at the new number."
        ),
    )

    # Model assistance (assisting.py). Not required: a form posted without them (an older
    # page, a script) keeps the corpus's current values.
    suggestions = forms.ChoiceField(
        choices=SuggestionMode.choices,
        required=False,
        label="Model suggestions",
        help_text="Who sees the baseline model's suggested label while labelling.",
    )
    suggestion_control_share = forms.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        label="Hidden suggestion share",
        help_text=(
            "Share of sentences (0 to 1) whose suggestion is computed but not shown: the "
            "control group the statistics page compares agreement with shown suggestions to."
        ),
    )
    retrain_every = forms.IntegerField(
        min_value=0,
        max_value=10_000_000,
        required=False,
        label="Retrain after this many new labels",
        help_text="0: train models only when a manager asks, on the statistics page.",
    )
    assignment_order = forms.ChoiceField(
        choices=AssignmentOrder.choices,
        required=False,
        label="Article order",
        help_text="Which article “Next article” hands out first.",
    )

    class Meta:
        model = Corpus
        fields = [
            "name",
            "description",
            "guidelines",
            "annotators_per_article",
            "stance_required",
            "suggestions",
            "suggestion_control_share",
            "retrain_every",
            "assignment_order",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "guidelines": forms.Textarea(attrs={"rows": 14}),
        }
        help_texts = {
            "guidelines": "Markdown. Shown to annotators beside every article; HTML and scripts "
            "are removed.",
        }

    def _kept(self, name: str) -> object:
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value in (None, "") else value

    def clean_suggestions(self) -> object:
        return self._kept("suggestions")

    def clean_suggestion_control_share(self) -> object:
        return self._kept("suggestion_control_share")

    def clean_retrain_every(self) -> object:
        return self._kept("retrain_every")

    def clean_assignment_order(self) -> object:
        return self._kept("assignment_order")


class RoleField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("initial", Role.ANNOTATOR)
        super().__init__(choices=Role.choices, **kwargs)


class AddMemberForm(forms.Form):
    """An existing account joins the corpus."""

    username = forms.CharField(max_length=150)
    role = RoleField()

    def __init__(self, *args: Any, corpus: Corpus, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.corpus = corpus

    def clean_username(self) -> AbstractBaseUser:
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(
                f"There is no account named “{username}”. Create a new account below instead."
            )
        if Membership.objects.filter(corpus=self.corpus, user=user).exists():
            raise forms.ValidationError(
                f"{username} is already a member; change their role in the list."
            )
        return user


class CreateAccountForm(forms.Form):
    """A new account; its random password is shown once to the manager who creates it."""

    username = forms.CharField(
        max_length=150,
        validators=[get_user_model().username_validator],
        help_text="Letters, digits and @ . + - _ only.",
    )
    email = forms.EmailField(required=False, help_text="Optional; nothing is sent to it.")
    role = RoleField()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # Case-insensitive: "Ana" and "ana" as two people would be a sign-in trap.
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                f"The username “{username}” is already taken. To add that person, use "
                "“Add an existing account”."
            )
        return username


class RoleForm(forms.Form):
    role = RoleField()


class ChoiceForm(forms.ModelForm):
    """Add a choice to one layer, or edit one; keys are unique across both layers."""

    class Meta:
        model = LabelChoice
        fields = ["value", "name", "key", "numeric_code"]
        help_texts = {
            "value": "Lower-case letters, digits, - and _; exports use it, so it cannot change "
            "once the choice is used.",
            "key": "One character, unique in the corpus (both layers share the keyboard); "
            f"not {_RESERVED_WORDS}, which the pages use themselves.",
            "numeric_code": "Optional number for interval-level agreement (e.g. against -1, "
            "neutral 0, favor 1).",
        }

    def __init__(self, *args: Any, corpus: Corpus, layer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.corpus = corpus
        self.layer = layer
        self.instance.corpus = corpus
        self.instance.layer = layer
        self.fields["key"].strip = False

    def _others(self) -> Any:
        others = LabelChoice.objects.filter(corpus=self.corpus)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        return others

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        if self._others().filter(layer=self.layer, value=value).exists():
            raise forms.ValidationError(
                f"The value “{value}” is already used in {Layer(self.layer).label.lower()}."
            )
        return value

    def clean_key(self) -> str:
        # Reserved keys are refused by the model's own validator (validate_choice_key).
        key = self.cleaned_data["key"]
        taken = self._others().filter(key=key).first()
        if taken is not None:
            raise forms.ValidationError(f"The key “{key}” is already used by {taken}.")
        return key


class TargetForm(forms.ModelForm):
    class Meta:
        model = StanceTarget
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, corpus: Corpus, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.corpus = corpus
        self.instance.corpus = corpus

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = StanceTarget.objects.filter(corpus=self.corpus, name__iexact=name)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(f"A stance target named “{name}” already exists.")
        return name


# ---------------------------------------------------------------------------------------------
# Import


UPLOAD_SUFFIXES = (".txt", ".jsonl", ".zip")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        # No file at all is an empty list: FileField's own check then says it is required.
        if isinstance(data, (list, tuple)) and data:
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ImportUploadForm(forms.Form):
    """The files of one import: a .zip on its own, or .txt and .jsonl files, within the size
    limit (a body over it never gets here: annotator/uploads.py answers 413 first). What is
    inside them is the importer's to check, in the background job."""

    files = MultipleFileField(
        help_text="One .zip archive, or one or more .txt and .jsonl files.",
    )

    def clean_files(self) -> list[UploadedFile]:
        files = self.cleaned_data["files"]
        for upload in files:
            if PurePath(upload.name).suffix.lower() not in UPLOAD_SUFFIXES:
                raise forms.ValidationError(
                    f"{upload.name}: unsupported file type (expected .txt, .jsonl or .zip)."
                )
        if len(files) > 1 and any(upload.name.lower().endswith(".zip") for upload in files):
            raise forms.ValidationError("Upload a .zip archive on its own.")
        total = sum(upload.size for upload in files)
        if total > settings.IMPORT_MAX_TOTAL_BYTES:
            raise forms.ValidationError(
                f"The upload is {total:,} bytes, over the "
                f"{settings.IMPORT_MAX_TOTAL_BYTES:,}-byte limit; split it into smaller batches."
            )
        return files


class PredictionUploadForm(forms.Form):
    """A JSONL file of a model's predictions (assisting.import_predictions reads it)."""

    file = forms.FileField(
        label="Predictions (JSONL)",
        help_text=(
            "One prediction a line: sentence (id) or article (external id) and sentence_index, "
            "layer, target (stance target slug), label, score, model, model_version, optional "
            "probabilities. All lines are stored or none."
        ),
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {settings.IMPORT_MAX_FILE_BYTES:,} bytes; "
                "use manage.py import_predictions for bigger files."
            )
        return upload
