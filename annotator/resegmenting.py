"""Correcting an article's sentences before it is annotated: split one, merge two, exclude page
furniture, confirm the zones suggested on import; and the rules that decide whether each may
happen. Every entry point (the console pages, tests, scripts) calls these functions.

The rules, each written once here:
- Who: managers and curators may split and merge; managers alone exclude sentences and
  confirm zones (`RESEGMENT_ROLES`, `ZONE_ROLES`, which the pages scope by too).
- The article's text never changes: a sentence is always `article.text[start:end]`, and
  splitting or merging only moves span boundaries (the Sentence check constraints hold it).
- A sentence with labels is never split or merged: its labels judged exactly that text, and
  half a sentence (or one and a half) is a different unit. The change is refused with the
  labels named (annotator, layer, value), gold labels and notes included
  (`SegmentationRefused.labels`). Labels are kept when a sentence is excluded (excluding is
  undone by including it again); they are only left out of everything that counts.
- A sentence is excluded exactly when its zone is confirmed boilerplate (a database
  constraint): excluding confirms it as boilerplate, including it again confirms it as body,
  and confirming zones excludes the boilerplate.

Every write locks the article row first (`SELECT ... FOR UPDATE`), so concurrent corrections
of one article run one after the other and its ordinals stay 0..n-1 without gaps; each
records a `SegmentationChange` (who, what, the spans before and after) in the same
transaction. Work is linear in the sentences touched: a split position is checked against the
sentence's own text, ordinals are shifted by two UPDATE statements.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import BooleanField, Case, Count, F, OuterRef, Q, QuerySet, Value, When

from annotator import article_stats
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Corpus,
    GoldLabel,
    Membership,
    Prediction,
    Role,
    SegmentationAction,
    SegmentationChange,
    Sentence,
    SentenceNote,
    Zone,
    count_of,
)
from annotator.segmentation import SpanError, split_span
from annotator.zones import suggest_zones

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The zone_rule a person's choice is recorded under (zones.py names its own rules).
BY_HAND = "manager"
# Ordinals move out of the way by this much first: the unique (article, ordinal) constraint is
# checked row by row, so shifting by one in place could collide halfway through.
_ORDINAL_DETOUR = 1_000_000_000
# `excluded` as the confirmed zone makes it, for UPDATE statements that confirm.
_EXCLUDED_IF_BOILERPLATE = Case(
    When(zone=Zone.BOILERPLATE, then=Value(True)), default=Value(False), output_field=BooleanField()
)
CHANGED_MEANWHILE = (
    "These sentences changed since the page was opened (someone else corrected them); "
    "look again and choose anew."
)
# Bulk zone confirmation locks and records this many articles per transaction.
BULK_BATCH = 500


class SegmentationRefused(ValueError):
    """The correction cannot be made; the message says why, `labels` what stands in the way."""

    def __init__(self, message: str, *, labels: list[AffectedLabel] | None = None) -> None:
        super().__init__(message)
        self.labels = labels or []


@dataclass(frozen=True)
class AffectedLabel:
    """A label, gold label or note that a split or merge would detach from its text."""

    sentence_number: int  # ordinal + 1, as the pages number sentences
    who: str
    layer: str
    value: str


# ---------------------------------------------------------------------------------------------
# Who may


def _role(user: User, corpus_id: int) -> str | None:
    return (
        Membership.objects.filter(user=user, corpus_id=corpus_id)
        .values_list("role", flat=True)
        .first()
    )


# Split and merge: managers and curators; exclude sentences and confirm zones: managers.
RESEGMENT_ROLES = Role.REVIEWERS
ZONE_ROLES = Role.MANAGERS


def may_set_zones(user: User, corpus: Corpus) -> bool:
    return _role(user, corpus.pk) in ZONE_ROLES


def _lock(article_id: int, user: User, roles: tuple[str, ...]) -> Article:
    """The article, locked for the rest of the transaction, once `user` may change it."""
    article = (
        Article.objects.select_for_update(of=("self",))
        .only("id", "corpus_id")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise SegmentationRefused("No such article.")
    if _role(user, article.corpus_id) not in roles:
        raise SegmentationRefused("You may not change this article's sentences.")
    return article


def _locked_sentence(
    sentence_id: int, user: User, roles: tuple[str, ...]
) -> tuple[Article, Sentence]:
    """The sentence's article, locked, and the sentence as it is once the lock is held (a
    correction that committed meanwhile may have moved or removed it)."""
    article_id = (
        Sentence.objects.filter(pk=sentence_id).values_list("article_id", flat=True).first()
    )
    if article_id is None:  # merged away by a correction that committed first
        raise SegmentationRefused(CHANGED_MEANWHILE)
    article = _lock(article_id, user, roles)
    # The sentence row too, fully: a label being saved holds a key-share lock on it (its
    # foreign key), so it either committed before (and the check for labels sees it) or waits.
    sentence = Sentence.objects.select_for_update().filter(pk=sentence_id, article=article).first()
    if sentence is None:
        raise SegmentationRefused(CHANGED_MEANWHILE)
    return article, sentence


# ---------------------------------------------------------------------------------------------
# What stands in the way


# A note stands in the way (as a label does) once it says something: flagged unsure, or text.
_NOTE_WITH_CONTENT = Q(unsure=True) | ~Q(note="")


def labelled_sentences(article: Article) -> QuerySet[Sentence]:
    """The article's sentences in order, each with `labels`: how many annotations, gold labels
    and notes with content are on it (what `affected_labels` names), in one query."""
    on_it = {"sentence": OuterRef("pk")}
    return (
        Sentence.objects.filter(article=article)
        .annotate(
            labels=count_of(Annotation.objects.filter(**on_it))
            + count_of(GoldLabel.objects.filter(**on_it))
            + count_of(SentenceNote.objects.filter(_NOTE_WITH_CONTENT, **on_it))
        )
        .order_by("ordinal")
    )


def affected_labels(sentences: Collection[Sentence]) -> list[AffectedLabel]:
    """Labels, gold labels and notes (with content) on these sentences, in reading order."""
    number = {sentence.pk: sentence.ordinal + 1 for sentence in sentences}
    ids = list(number)
    found = [
        AffectedLabel(number[sid], who, layer, value + (f" ({target})" if target else ""))
        for sid, who, layer, value, target in Annotation.objects.filter(
            sentence_id__in=ids
        ).values_list(
            "sentence_id", "annotator__username", "layer", "choice__value", "target__name"
        )
    ]
    found += [
        AffectedLabel(number[sid], "gold", layer, value + (f" ({target})" if target else ""))
        for sid, layer, value, target in GoldLabel.objects.filter(sentence_id__in=ids).values_list(
            "sentence_id", "layer", "choice__value", "target__name"
        )
    ]
    found += [
        AffectedLabel(number[sid], who, "note", "unsure" if unsure and not note else note)
        for sid, who, unsure, note in SentenceNote.objects.filter(sentence_id__in=ids)
        .filter(_NOTE_WITH_CONTENT)
        .values_list("sentence_id", "annotator__username", "unsure", "note")
    ]
    return sorted(found, key=lambda label: (label.sentence_number, label.who, label.layer))


def _refuse_if_labelled(sentences: Collection[Sentence], verb: str) -> None:
    labels = affected_labels(sentences)
    if labels:
        raise SegmentationRefused(
            f"Cannot {verb}: {len(labels)} label(s) were given to this exact text, and would "
            "then describe different text. Ask the annotators to remove them (Undo on the "
            "article page) or leave the sentences as they are.",
            labels=labels,
        )


# ---------------------------------------------------------------------------------------------
# Writes


def _shift_ordinals(article: Article, *, after: int, by: int) -> None:
    """Move the ordinals above `after` by `by` (+1 or -1), in two statements."""
    later = Sentence.objects.filter(article=article, ordinal__gt=after)
    later.update(ordinal=F("ordinal") + _ORDINAL_DETOUR)
    Sentence.objects.filter(article=article, ordinal__gt=_ORDINAL_DETOUR).update(
        ordinal=F("ordinal") - _ORDINAL_DETOUR + by
    )


def _record(article: Article, user: User, action: str, **details: object) -> None:
    SegmentationChange.objects.create(article=article, user=user, action=action, details=details)


def _recount(article_id: int) -> None:
    # After the commit: the figures read the new sentences (and a failure here must not undo
    # the correction; the table marks the article as changed since counted anyway).
    transaction.on_commit(lambda: article_stats.refresh_figures(article_ids=[article_id]))


def split_sentence(
    *,
    sentence_id: int,
    position: int,
    by: User,
    seen: tuple[int, int] | None = None,
) -> tuple[Sentence, Sentence]:
    """Split the sentence before its character `position`; the second part becomes the next
    sentence and the sentences after it move up by one. `seen` is the (start, end) the page
    showed: when the sentence has changed since, the split is refused rather than made at a
    position that now means something else."""
    with transaction.atomic():
        article, sentence = _locked_sentence(sentence_id, by, RESEGMENT_ROLES)
        if seen is not None and seen != (sentence.start, sentence.end):
            raise SegmentationRefused(CHANGED_MEANWHILE)
        ordinal = sentence.ordinal
        try:
            (first_start, first_end), (second_start, second_end) = split_span(
                sentence.start, sentence.text, position
            )
        except SpanError as error:
            raise SegmentationRefused(str(error)) from None
        _refuse_if_labelled([sentence], "split this sentence")
        text, base = sentence.text, sentence.start
        _shift_ordinals(article, after=ordinal, by=1)
        sentence.end = first_end
        sentence.text = text[: first_end - base]
        sentence.save(update_fields=["end", "text"])
        # A model's prediction was made for the whole text, which no sentence holds any more.
        Prediction.objects.filter(sentence=sentence).delete()
        second = Sentence.objects.create(
            article=article,
            ordinal=ordinal + 1,
            paragraph=sentence.paragraph,
            start=second_start,
            end=second_end,
            text=text[second_start - base :],
            zone=sentence.zone,
            zone_rule=sentence.zone_rule,
            zone_confirmed=sentence.zone_confirmed,
            excluded=sentence.excluded,
        )
        _record(
            article,
            by,
            SegmentationAction.SPLIT,
            ordinal=ordinal,
            position=position,
            before=[base, second_end],
            after=[[first_start, first_end], [second_start, second_end]],
        )
        _recount(article.pk)
    return sentence, second


def merge_sentences(*, first_id: int, second_id: int, by: User) -> Sentence:
    """Merge two sentences that follow each other; the merged sentence spans both and the
    text between them (the article's own characters), and later sentences move down by one.
    Refused when they no longer follow each other (a correction came in between).

    One of the two rows is kept (the first, unless only the second has label history: the
    history of undone labels keeps pointing at its sentence), the other deleted.
    """
    with transaction.atomic():
        article, first = _locked_sentence(first_id, by, RESEGMENT_ROLES)
        ordinal = first.ordinal
        second = (
            Sentence.objects.select_for_update()
            .filter(article=article, ordinal=ordinal + 1)
            .first()
        )
        if second is None:
            raise SegmentationRefused("The last sentence has no next sentence to merge with.")
        if second.pk != second_id:
            raise SegmentationRefused(CHANGED_MEANWHILE)
        _refuse_if_labelled([first, second], "merge these sentences")
        with_history = set(
            AnnotationHistory.objects.filter(sentence__in=[first, second]).values_list(
                "sentence_id", flat=True
            )
        )
        if len(with_history) == 2:
            raise SegmentationRefused(
                "Cannot merge: both sentences keep the history of labels that were given and "
                "removed, and one of them would have to be deleted with its history."
            )
        keep, drop = (second, first) if with_history == {second.pk} else (first, second)
        # Notes left empty (no flag, no text) are all that can still point at the dropped row.
        SentenceNote.objects.filter(sentence=drop).delete()
        start, end = first.start, second.end
        text = Article.objects.filter(pk=article.pk).values_list("text", flat=True).get()[start:end]
        same_zone = first.zone == second.zone and first.zone_confirmed and second.zone_confirmed
        drop.delete()  # its model predictions go with it
        # A model's prediction was made for part of the text the kept sentence now holds.
        Prediction.objects.filter(sentence=keep).delete()
        keep.ordinal = ordinal
        keep.paragraph = first.paragraph
        keep.start, keep.end, keep.text = start, end, text
        keep.zone, keep.zone_rule = first.zone, first.zone_rule
        keep.zone_confirmed = same_zone
        keep.excluded = same_zone and first.zone == Zone.BOILERPLATE
        keep.save()
        _shift_ordinals(article, after=ordinal + 1, by=-1)
        _record(
            article,
            by,
            SegmentationAction.MERGE,
            ordinal=ordinal,
            before=[[first.start, first.end], [second.start, second.end]],
            after=[start, end],
        )
        _recount(article.pk)
    return keep


def set_excluded(*, article_id: int, sentence_ids: Iterable[int], excluded: bool, by: User) -> int:
    """Exclude the article's sentences (confirmed as boilerplate) or include them again
    (confirmed as body); returns how many changed. Labels on them are kept, only left out
    while excluded. Ids of other articles' sentences are ignored."""
    wanted = sorted(set(sentence_ids))
    if not wanted:
        raise SegmentationRefused("Choose at least one sentence.")
    with transaction.atomic():
        article = _lock(article_id, by, ZONE_ROLES)
        rows = Sentence.objects.filter(article=article, pk__in=wanted, excluded=not excluded)
        changed = sorted(rows.values_list("ordinal", flat=True))
        if excluded:
            rows.filter(~Q(zone=Zone.BOILERPLATE)).update(zone_rule=BY_HAND)
            rows.update(zone=Zone.BOILERPLATE, zone_confirmed=True, excluded=True)
        else:
            rows.update(zone=Zone.BODY, zone_rule=BY_HAND, zone_confirmed=True, excluded=False)
        if changed:
            _record(
                article,
                by,
                SegmentationAction.EXCLUDE if excluded else SegmentationAction.INCLUDE,
                ordinals=changed,
            )
            _recount(article.pk)
    return len(changed)


def confirm_zones(*, article_id: int, zones: Mapping[int, str], by: User) -> dict[str, int]:
    """Confirm every sentence's zone in the article, corrected where `zones` ({sentence id:
    zone}) says otherwise; boilerplate becomes excluded, the rest included. Returns the count
    of sentences per zone and of corrections."""
    unknown = set(zones.values()) - set(Zone.values)
    if unknown:
        raise SegmentationRefused(f"Unknown zone: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        article = _lock(article_id, by, ZONE_ROLES)
        ordinal_of, current = {}, {}
        for pk, ordinal, zone in Sentence.objects.filter(article=article).values_list(
            "pk", "ordinal", "zone"
        ):
            ordinal_of[pk], current[pk] = ordinal, zone
        corrected = {
            pk: (current[pk], zone)
            for pk, zone in zones.items()
            if pk in current and current[pk] != zone
        }
        for zone in Zone.values:
            moved = [pk for pk, (_, new) in corrected.items() if new == zone]
            if moved:
                Sentence.objects.filter(article=article, pk__in=moved).update(
                    zone=zone,
                    zone_rule=BY_HAND,
                    zone_confirmed=True,
                    excluded=zone == Zone.BOILERPLATE,
                )
        Sentence.objects.filter(article=article).update(
            zone_confirmed=True, excluded=_EXCLUDED_IF_BOILERPLATE
        )
        counts = dict.fromkeys(Zone.values, 0)
        for pk, zone in current.items():
            counts[corrected.get(pk, (zone, zone))[1]] += 1
        _record(
            article,
            by,
            SegmentationAction.ZONES,
            # By ordinal at the time: what a person reading the history can find again.
            corrected={
                str(ordinal_of[pk]): list(pair)
                for pk, pair in sorted(corrected.items(), key=lambda item: ordinal_of[item[0]])
            },
            counts=counts,
        )
        _recount(article.pk)
    return {**counts, "corrected": len(corrected)}


def confirm_suggested_zones(
    *, corpus: Corpus, by: User, article_ids: Iterable[int] | QuerySet | None = None
) -> tuple[int, int]:
    """Confirm the suggested zones of every sentence not confirmed yet, in the given articles
    of the corpus or all of them; zones a person already confirmed stay as they are. Returns
    (articles, sentences) confirmed. Their figures are recounted by the table's "changed since
    counted" path (background recount), not here: a corpus can hold 100,000 articles."""
    if not may_set_zones(by, corpus):
        raise SegmentationRefused("You may not confirm this corpus's zones.")
    pending = Sentence.objects.filter(article__corpus=corpus, zone_confirmed=False)
    if article_ids is not None:
        # A queryset (the articles table's filters) stays a subquery, however many it selects.
        chosen = article_ids if isinstance(article_ids, QuerySet) else list(article_ids)
        pending = pending.filter(article_id__in=chosen)
    ids = list(pending.order_by("article_id").values_list("article_id", flat=True).distinct())
    articles = sentences = 0
    for batch in article_stats.batched(ids, BULK_BATCH):
        with transaction.atomic():
            locked = list(
                Article.objects.select_for_update(of=("self",))
                .filter(pk__in=batch)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            rows = Sentence.objects.filter(article_id__in=locked, zone_confirmed=False)
            per_article = dict(
                rows.order_by()
                .values("article_id")
                .annotate(n=Count("pk"))
                .values_list("article_id", "n")
            )
            sentences += rows.update(zone_confirmed=True, excluded=_EXCLUDED_IF_BOILERPLATE)
            SegmentationChange.objects.bulk_create(
                SegmentationChange(
                    article_id=article_id,
                    user=by,
                    action=SegmentationAction.ZONES,
                    details={"bulk": True, "sentences": n},
                )
                for article_id, n in per_article.items()
            )
            articles += len(per_article)
    return articles, sentences


@dataclass
class ZoneBackfill:
    """What `suggest_missing_zones` did: articles and sentences given a suggestion, and the
    articles whose stored spans the zone rules refused (each with the reason)."""

    articles: int = 0
    sentences: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def suggest_missing_zones(
    *, corpus: Corpus, on_progress: Callable[[int, int], None] | None = None
) -> ZoneBackfill:
    """Give a zone suggestion to every sentence stored before zones existed (`zone_rule` "")
    and not confirmed, as an import would have: the zone rules read the whole article, and
    only those sentences change. Confirmed zones and rules already recorded stay; running it
    again finds nothing. For operators upgrading a corpus (`manage.py suggest_zones`); nothing
    is confirmed or excluded, a manager reviews the suggestions on the Zones page.

    Each batch of articles is one transaction holding their rows locked, as every other
    correction here; `on_progress(done, total)` follows the articles."""
    ids = list(
        Sentence.objects.filter(article__corpus=corpus, zone_rule="", zone_confirmed=False)
        .order_by("article_id")
        .values_list("article_id", flat=True)
        .distinct()
    )
    done = ZoneBackfill()
    processed = 0
    for batch in article_stats.batched(ids, BULK_BATCH):
        with transaction.atomic():
            articles = list(
                Article.objects.select_for_update(of=("self",))
                .filter(pk__in=batch)
                .order_by("pk")
                .only("pk", "text")
            )
            sentences = Sentence.objects.filter(article__in=articles).order_by(
                "article_id", "ordinal"
            )
            by_article: dict[int, list[Sentence]] = {}
            for sentence in sentences.only(
                "pk", "article_id", "start", "end", "paragraph", "zone_rule", "zone_confirmed"
            ):
                by_article.setdefault(sentence.article_id, []).append(sentence)
            changed: list[Sentence] = []
            for article in articles:
                spans = by_article.get(article.pk, [])
                try:
                    suggestions = suggest_zones(article.text, spans)
                except ValueError as error:
                    done.refused.append((article.pk, str(error)))
                    continue
                before = len(changed)
                for sentence, suggestion in zip(spans, suggestions, strict=True):
                    if sentence.zone_rule == "" and not sentence.zone_confirmed:
                        sentence.zone, sentence.zone_rule = suggestion.zone, suggestion.rule
                        changed.append(sentence)
                done.articles += len(changed) > before
            done.sentences += Sentence.objects.bulk_update(
                changed, ["zone", "zone_rule"], batch_size=BULK_BATCH
            )
        processed += len(batch)
        if on_progress is not None:
            on_progress(processed, len(ids))
    return done
