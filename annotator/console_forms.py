"""Forms of the managers' console: the articles table's filters (shared by bulk assignment) and
the bulk assignment's choices.

Both read GET query strings, so a filtered table or a preview is a link that can be shared or
bookmarked. They translate input into an `ArticleFilter` or a call of `assigning.distribute`;
the rows they select and the rules that may refuse come from models.py and assigning.py.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django import forms

from annotator.assigning import MODES
from annotator.models import ArticleFilter, ArticleStatus, AssignmentStatus

SORT_CHOICES = [
    (f"{prefix}{key}", f"{name}{suffix}")
    for key, name in (
        ("article", "Article (import order)"),
        ("labels", "Labels"),
        ("disputed", "Disputed sentences"),
        ("gold", "Gold coverage"),
        ("agreement", "Agreement"),
    )
    for prefix, suffix in (("", ", lowest first"), ("-", ", highest first"))
]
# (field prefix, label, is a percentage) of each range filter.
RANGES = (
    ("labels", "Labels", False),
    ("disputed", "Disputed sentences", False),
    ("gold", "Gold coverage %", True),
    ("agreement", "Agreement %", True),
)


class ArticleFilterForm(forms.Form):
    """The articles table's filters and sort, from the query string; all optional."""

    q = forms.CharField(
        required=False,
        max_length=300,
        label="Title or id",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "words of the title, file name or #id"}
        ),
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ArticleStatus.choices])
    annotator = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[("", "Anyone")]
    )
    their_status = forms.ChoiceField(
        required=False,
        label="Their assignment",
        choices=[("", "any"), *AssignmentStatus.choices],
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # self.fields holds copies of the declared fields, typed only as Field.
        cast(forms.ChoiceField, self.fields["annotator"]).choices = [("", "Anyone"), *members]
        for prefix, label, percent in RANGES:
            for end, word in (("min", "at least"), ("max", "at most")):
                self.fields[f"{prefix}_{end}"] = forms.IntegerField(
                    required=False,
                    label=f"{label} {word}",
                    min_value=0,
                    max_value=100 if percent else None,
                )

    def clean(self) -> dict[str, Any]:
        super().clean()  # returns self.cleaned_data, typed as optional
        data = self.cleaned_data
        for prefix, label, _ in RANGES:
            low, high = data.get(f"{prefix}_min"), data.get(f"{prefix}_max")
            if low is not None and high is not None and low > high:
                self.add_error(f"{prefix}_max", f"{label}: “at most” is below “at least”.")
        return data

    @property
    def range_fields(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(label, self[f"{p}_min"], self[f"{p}_max"]) for p, label, _ in RANGES]

    def article_filter(self) -> ArticleFilter:
        """The valid form as an ArticleFilter."""
        data = self.cleaned_data

        def bounds(prefix: str, percent: bool) -> tuple[float | None, float | None]:
            low, high = data.get(f"{prefix}_min"), data.get(f"{prefix}_max")
            if percent:
                return (
                    None if low is None else low / 100,
                    None if high is None else high / 100,
                )
            return low, high

        return ArticleFilter(
            text=data.get("q") or "",
            status=data.get("status") or "",
            annotator=data.get("annotator"),
            their_status=data.get("their_status") or "",
            **{prefix: bounds(prefix, percent) for prefix, _, percent in RANGES},
        )

    @property
    def sort_key(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else None) or "article"

    def query(self, *, keep_sort: bool = True) -> list[tuple[str, str]]:
        """The filters as given (valid or not), for links and hidden fields: every non-empty
        value, in field order."""
        names = [name for name in self.fields if keep_sort or name != "sort"]
        return [(name, self.data.get(name, "")) for name in names if self.data.get(name, "")]

    def query_string(self, *, keep_sort: bool = True, **changes: str) -> str:
        pairs = dict(self.query(keep_sort=keep_sort))
        pairs.update(changes)
        return urlencode([(k, v) for k, v in pairs.items() if v])

    def described(self, member_names: dict[int, str]) -> list[str]:
        """The valid form's filters in words, for the assignment page."""
        data = self.cleaned_data
        words = []
        if data.get("q"):
            words.append(f"title or id contains “{data['q']}”")
        if data.get("status"):
            words.append(f"status {ArticleStatus(data['status']).label.lower()}")
        if data.get("annotator") is not None:
            who = member_names.get(data["annotator"], f"member #{data['annotator']}")
            their = data.get("their_status")
            state = AssignmentStatus(their).label.lower() if their else "any state"
            words.append(f"assigned to {who} ({state})")
        for prefix, label, percent in RANGES:
            low, high = data.get(f"{prefix}_min"), data.get(f"{prefix}_max")
            unit = "%" if percent else ""
            if low is not None:
                words.append(f"{label.removesuffix(' %').lower()} ≥ {low}{unit}")
            if high is not None:
                words.append(f"{label.removesuffix(' %').lower()} ≤ {high}{unit}")
        return words


class DistributeForm(forms.Form):
    """What to do with the selected articles: whom, how, and at most how many each."""

    mode = forms.ChoiceField(
        choices=list(MODES.items()), widget=forms.RadioSelect, initial="balanced", label="Action"
    )
    annotators = forms.TypedMultipleChoiceField(
        coerce=int, widget=forms.CheckboxSelectMultiple, label="Annotators"
    )
    limit = forms.IntegerField(
        required=False,
        min_value=1,
        label="At most this many new articles per annotator",
        help_text="Leave empty for no limit. Not used when taking articles back.",
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["annotators"]).choices = members
