"""Suggestions while labelling: which model label the workspace shows on a sentence, to whom,
and what a saved label records about it.

The rule, written once here and used by the article page, the saved-row fragment and the label
save:
- The suggestion for a sentence, layer and target is the prediction of the newest finished model
  version that predicted it (trained here or external; newest by creation, then id).
- The corpus's `suggestions` setting says who sees it: nobody ("off"), curators on the curation
  page ("curators"), everyone who labels, as a hint on the row ("annotators"), or as a hint with
  the label pre-selected ("preselect"). Pre-selected is only a look: nothing is stored until the
  annotator presses the label's key, clicks it, or confirms the row's pre-selection with Enter.
- In the two modes that show annotators suggestions, `assisting.suggestion_is_hidden` keeps a
  share of the sentences (`suggestion_control_share`) hidden: computed, not shown, so the
  statistics can compare agreement with visible and hidden suggestions.

What a label records (`Annotation.suggestion_visible`, `suggested_choice`, `suggestion_model`) is
decided here on the server, from the Prediction rows and the corpus's setting, never from what
the browser sends: a browser could send anything, and the API and imports show no suggestion at
all. In the modes that show annotators suggestions, a label records the suggestion of its
sentence, layer and target with visible True, or False for a hidden control; in the other modes
(nobody saw a suggestion while labelling) it records nothing. A label saved after a newer model
version arrived records that version's suggestion, which the page may not have shown yet; the
page is redrawn with it on the save.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from annotator.annotating import SuggestionSeen
from annotator.assisting import suggestion_is_hidden
from annotator.models import Corpus, Prediction, SuggestionMode
from annotator.uncertainty import newest_per_unit

# Modes in which the people labelling see suggestions on their rows.
SHOWN_TO_ANNOTATORS = (SuggestionMode.ANNOTATORS, SuggestionMode.PRESELECT)
# Modes in which the curation page shows the model's label beside the annotators'.
SHOWN_TO_CURATORS = (SuggestionMode.CURATORS, *SHOWN_TO_ANNOTATORS)

Key = tuple[int, str, int | None]  # sentence id, layer, target id


@dataclass(frozen=True)
class Suggestion:
    """The newest model's label for one sentence, layer and target."""

    sentence_id: int
    layer: str
    target_id: int | None
    choice_id: int
    score: float
    model_version_id: int
    model_name: str
    model_version: str
    hidden: bool = False  # computed but not shown: a control (suggestion_is_hidden)

    @property
    def key(self) -> Key:
        return (self.sentence_id, self.layer, self.target_id)

    @property
    def model_label(self) -> str:
        return f"{self.model_name} {self.model_version}"

    def seen(self) -> SuggestionSeen:
        """What the label saved for this sentence, layer and target records about it."""
        return SuggestionSeen(
            visible=not self.hidden,
            choice_id=self.choice_id,
            model_version_id=self.model_version_id,
        )


def shows_annotators(corpus: Corpus) -> bool:
    return corpus.suggestions in SHOWN_TO_ANNOTATORS


def shows_curators(corpus: Corpus) -> bool:
    return corpus.suggestions in SHOWN_TO_CURATORS


def newest_predictions(sentence_ids: Iterable[int]) -> dict[Key, Suggestion]:
    """The newest finished model version's prediction per sentence, layer and target, in one
    query however many versions predicted them."""
    ids = list(sentence_ids)
    if not ids:
        return {}
    rows = newest_per_unit(
        Prediction.objects.filter(sentence_id__in=ids),
        "choice_id",
        "score",
        "model_version_id",
        "model_version__name",
        "model_version__version",
    )
    found = (Suggestion(*row) for row in rows)
    return {suggestion.key: suggestion for suggestion in found}


def suggestions_for(*, corpus: Corpus, sentence_ids: Iterable[int]) -> dict[Key, Suggestion]:
    """The suggestions the people labelling get on these sentences, hidden controls marked;
    empty (and no query) when the corpus shows annotators none."""
    if not shows_annotators(corpus):
        return {}
    found = newest_predictions(sentence_ids)
    return {
        key: replace(suggestion, hidden=suggestion_is_hidden(suggestion.sentence_id, corpus))
        for key, suggestion in found.items()
    }


def seen_for_save(
    suggestions: dict[Key, Suggestion], *, sentence_id: int, layer: str, target_id: int | None
) -> SuggestionSeen | None:
    """What a label saved now records: the suggestion of its unit (visible or a hidden control),
    None when there is none (no prediction, or the corpus shows annotators no suggestions)."""
    suggestion = suggestions.get((sentence_id, layer, target_id))
    return suggestion.seen() if suggestion is not None else None
