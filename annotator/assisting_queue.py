"""The curation page's view of the models: "Check these" (labels that look wrong, ranked) and
the model's label beside the annotators' on every curation card.

"Check these" lists the gold labels and individual annotations of one layer (and target) that
confident learning flags (`assisting.label_issues`: the current trained version's out-of-fold
probabilities, each sentence predicted by the fold model that never saw its article). It is a
list of sentences: a sentence with a flagged gold label comes before sentences with only flagged
annotations (gold is what a release publishes and the next model learns from), and within each
group the least plausible label (lowest held-out probability of the given label) comes first.
The curator re-settles a sentence with the usual settle form; the flag goes once the gold label
is one the model finds plausible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Max

from annotator.assisting import SuspectLabel, label_issues
from annotator.curating import CurationItem, ModelView, Unit
from annotator.models import Annotation, Corpus, GoldLabel, LabelChoice, ModelVersion
from annotator.suggesting import newest_predictions, shows_curators

# How long a computed list is kept; its key already changes with every label or gold change,
# so this only bounds the memory of lists nobody asks for again.
CACHE_SECONDS = 600


@dataclass(frozen=True)
class CheckEntry:
    """One sentence of "Check these" with its flagged labels, gold first."""

    sentence_id: int
    issues: tuple[SuspectLabel, ...]

    @property
    def gold_flagged(self) -> bool:
        return any(issue.source == "gold" for issue in self.issues)


def check_these(corpus: Corpus, unit: Unit) -> list[CheckEntry]:
    """The sentences to check, ranked (see the module doc); empty without a trained model.

    Finding them reads the out-of-fold probabilities of every labelled sentence (seconds on a
    large corpus, `bench/README.md`), so the answer is kept in the cache under a key that
    changes whenever it could: the current trained version, and the newest change and number
    of the unit's gold labels and annotations (three small aggregate queries). Paging through
    the list, or coming back to it, does not compute it again; a settle or a relabel does."""
    key = _cache_key(corpus, unit)
    if key is None:
        return []
    found = cache.get(key)
    if found is None:
        found = _check_these(corpus, unit)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _cache_key(corpus: Corpus, unit: Unit) -> str | None:
    version = ModelVersion.objects.current(corpus, unit.layer, unit.target)
    if version is None:
        return None
    # Scoped to the corpus through its own choice ids, as label_issues reads them.
    choice_ids = LabelChoice.objects.filter(corpus=corpus, layer=unit.layer).values("pk")
    same_unit = {"layer": unit.layer, "target": unit.target, "choice_id__in": choice_ids}
    gold = GoldLabel.objects.filter(**same_unit).aggregate(at=Max("decided_at"), n=Count("pk"))
    labels = Annotation.objects.filter(**same_unit).aggregate(at=Max("updated_at"), n=Count("pk"))
    stamp = f"{version.pk}:{gold['at']}:{gold['n']}:{labels['at']}:{labels['n']}"
    target = unit.target.pk if unit.target is not None else ""
    return f"check-these:{corpus.pk}:{unit.layer}:{target}:{stamp}".replace(" ", "_")


def _check_these(corpus: Corpus, unit: Unit) -> list[CheckEntry]:
    by_sentence: dict[int, list[SuspectLabel]] = {}
    for issue in label_issues(corpus, unit.layer, unit.target):  # least plausible first
        by_sentence.setdefault(issue.sentence_id, []).append(issue)
    entries = [
        CheckEntry(
            sentence_id,
            tuple(sorted(issues, key=lambda issue: issue.source != "gold")),  # stable
        )
        for sentence_id, issues in by_sentence.items()
    ]
    return sorted(entries, key=lambda entry: not entry.gold_flagged)  # stable: keeps the rank


def with_model_views(
    corpus: Corpus,
    unit: Unit,
    items: list[CurationItem],
    *,
    choices: Iterable[LabelChoice],
    entries: Iterable[CheckEntry] = (),
) -> list[CurationItem]:
    """The items with what the models say: the newest model's label when the corpus shows
    curators suggestions (one query), and the flags of "Check these" entries (two queries:
    the model version, the annotators' names)."""
    name_of = {choice.value: choice.name for choice in choices}
    name_of_id = {choice.pk: choice.name for choice in choices}
    views: dict[int, list[ModelView]] = {item.sentence.pk: [] for item in items}
    if shows_curators(corpus) and items:
        newest = newest_predictions(views)
        target_id = unit.target.pk if unit.target is not None else None
        for sentence_id in views:
            suggestion = newest.get((sentence_id, unit.layer, target_id))
            if suggestion is not None:
                views[sentence_id].append(
                    ModelView(
                        model=suggestion.model_label,
                        choice_name=name_of_id.get(suggestion.choice_id, "(removed label)"),
                        probability=suggestion.score,
                    )
                )
    flagged = [entry for entry in entries if entry.sentence_id in views]
    if flagged:
        version_ids = {issue.model_version_id for entry in flagged for issue in entry.issues}
        models = {
            pk: f"{name} {version}"
            for pk, name, version in ModelVersion.objects.filter(pk__in=version_ids)
            .order_by()
            .values_list("pk", "name", "version")
        }
        annotator_ids = {
            issue.annotator_id
            for entry in flagged
            for issue in entry.issues
            if issue.annotator_id is not None
        }
        names = dict(
            get_user_model().objects.filter(pk__in=annotator_ids).values_list("pk", "username")
        )
        for entry in flagged:
            first = entry.issues[0]
            views[entry.sentence_id].append(
                ModelView(
                    model=models.get(first.model_version_id, "?"),
                    choice_name=name_of.get(first.suggested, first.suggested),
                    probability=first.suggested_probability,
                    held_out=True,
                    flags=tuple(_flag_words(issue, name_of, names) for issue in entry.issues),
                )
            )
    return [replace(item, model_views=tuple(views[item.sentence.pk])) for item in items]


def _flag_words(issue: SuspectLabel, name_of: dict[str, str], names: dict[int, str]) -> str:
    given = name_of.get(issue.given, issue.given)
    annotator = names.get(issue.annotator_id, "?") if issue.annotator_id is not None else "?"
    whose = "Gold label" if issue.source == "gold" else f"{annotator}'s"
    return (
        f"{whose} “{given}” looks wrong: the model gives it {issue.self_confidence:.2f}, "
        f"“{name_of.get(issue.suggested, issue.suggested)}” {issue.suggested_probability:.2f}"
    )
