"""Label writes: history for every change, time spent, undo, notes, and concurrent saves."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection

from annotator.annotating import (
    LabelError,
    clamp_seconds,
    save_label,
    save_note,
    undo_last_change,
)
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Corpus,
    LabelChoice,
    Layer,
    Sentence,
    SentenceNote,
)


def choice(corpus: Corpus, value: str) -> LabelChoice:
    return LabelChoice.objects.get(corpus=corpus, value=value)


def first_sentence(article: Article) -> Sentence:
    return Sentence.objects.select_related("article").filter(article=article).order_by("ordinal")[0]


def claim(sentence: Sentence, user: AbstractUser, value: str, seconds: float = 0) -> None:
    corpus = sentence.article.corpus
    save_label(
        sentence=sentence,
        annotator=user,
        layer=Layer.CLAIM_TYPE,
        target=None,
        choice=choice(corpus, value),
        seconds=seconds,
    )


def history(user: AbstractUser) -> list[tuple[str, str]]:
    return list(
        AnnotationHistory.objects.filter(annotator=user)
        .order_by("changed_at", "id")
        .values_list("old_value", "new_value")
    )


def test_first_label_creates_annotation_and_history(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus))
    claim(sentence, annotator, "opinion", seconds=4.5)
    annotation = Annotation.objects.get(sentence=sentence, annotator=annotator)
    assert annotation.choice.value == "opinion"
    assert annotation.seconds_spent == 4.5
    assert history(annotator) == [("", "opinion")]


def test_second_label_by_same_annotator_replaces_first(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus))
    claim(sentence, annotator, "opinion", seconds=2)
    claim(sentence, annotator, "factual_claim", seconds=3)
    annotation = Annotation.objects.get(sentence=sentence, annotator=annotator)
    assert annotation.choice.value == "factual_claim"
    assert annotation.seconds_spent == 5
    assert history(annotator) == [("", "opinion"), ("opinion", "factual_claim")]


def test_same_label_again_adds_time_but_no_history(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus))
    claim(sentence, annotator, "opinion", seconds=2)
    claim(sentence, annotator, "opinion", seconds=7)
    assert Annotation.objects.get(sentence=sentence).seconds_spent == 9
    assert history(annotator) == [("", "opinion")]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(-5, 0.0), ("12.5", 12.5), (10**9, 3600.0), ("abc", 0.0), (None, 0.0), ("nan", 0.0)],
)
def test_seconds_from_the_browser_are_clamped(sent, kept):
    assert clamp_seconds(sent) == kept


def test_stance_is_kept_per_target(make_corpus, make_member, make_article):
    corpus = make_corpus(targets=("Alliance", "Sanctions"))
    user = make_member(corpus=corpus)
    sentence = first_sentence(make_article(corpus=corpus))
    alliance, sanctions = corpus.stance_targets.order_by("order")
    for target, value in ((alliance, "favor"), (sanctions, "against")):
        save_label(
            sentence=sentence,
            annotator=user,
            layer=Layer.STANCE,
            target=target,
            choice=choice(corpus, value),
        )
    stances = dict(
        Annotation.objects.filter(layer=Layer.STANCE).values_list("target__name", "choice__value")
    )
    assert stances == {"Alliance": "favor", "Sanctions": "against"}


def test_labels_that_do_not_fit_the_schema_are_refused(
    corpus, make_corpus, annotator, make_article
):
    sentence = first_sentence(make_article(corpus=corpus))
    other = make_corpus()
    target = corpus.stance_targets.get()
    cases = [
        # a choice of another corpus
        {"layer": Layer.CLAIM_TYPE, "target": None, "choice": choice(other, "opinion")},
        # a stance choice on the claim layer
        {"layer": Layer.CLAIM_TYPE, "target": None, "choice": choice(corpus, "favor")},
        # a claim type with a target
        {"layer": Layer.CLAIM_TYPE, "target": target, "choice": choice(corpus, "opinion")},
        # a stance without a target, and with another corpus's target
        {"layer": Layer.STANCE, "target": None, "choice": choice(corpus, "favor")},
        {
            "layer": Layer.STANCE,
            "target": other.stance_targets.get(),
            "choice": choice(corpus, "favor"),
        },
    ]
    for case in cases:
        with pytest.raises(LabelError):
            save_label(sentence=sentence, annotator=annotator, **case)
    assert not Annotation.objects.exists()
    assert not AnnotationHistory.objects.exists()


def test_undo_walks_back_one_change_at_a_time(corpus, annotator, make_article):
    article = make_article(corpus=corpus)
    first, second = Sentence.objects.select_related("article").filter(article=article)[:2]
    claim(first, annotator, "opinion")
    claim(first, annotator, "factual_claim")
    claim(second, annotator, "not_a_claim")

    assert undo_last_change(article=article, annotator=annotator) == second
    assert not Annotation.objects.filter(sentence=second).exists()

    assert undo_last_change(article=article, annotator=annotator) == first
    assert Annotation.objects.get(sentence=first).choice.value == "opinion"

    assert undo_last_change(article=article, annotator=annotator) == first
    assert not Annotation.objects.exists()

    assert undo_last_change(article=article, annotator=annotator) is None
    # Each undo is itself in the history, pointing at the change it reverted.
    undos = AnnotationHistory.objects.filter(undo_of__isnull=False).order_by("id")
    assert [(h.old_value, h.new_value, h.undo_of.new_value) for h in undos] == [
        ("not_a_claim", "", "not_a_claim"),
        ("factual_claim", "opinion", "factual_claim"),
        ("opinion", "", "opinion"),
    ]


def test_undo_touches_only_my_changes_on_this_article(
    corpus, annotator, other_annotator, make_article
):
    article, elsewhere = (
        make_article(corpus=corpus),
        make_article(corpus=corpus, text="Other text."),
    )
    claim(first_sentence(article), annotator, "opinion")
    claim(first_sentence(elsewhere), annotator, "opinion")
    claim(first_sentence(article), other_annotator, "factual_claim")

    assert undo_last_change(article=article, annotator=annotator) == first_sentence(article)
    remaining = sorted(Annotation.objects.values_list("annotator__username", "sentence__article"))
    assert remaining == [("annotator", elsewhere.pk), ("other-annotator", article.pk)]


def test_note_and_unsure_flag_are_set_and_replaced(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus))
    save_note(sentence=sentence, annotator=annotator, unsure=True, note="  sarcasm?  ")
    save_note(sentence=sentence, annotator=annotator, unsure=False, note="checked")
    note = SentenceNote.objects.get()
    assert (note.unsure, note.note) == (False, "checked")
    with pytest.raises(LabelError, match="at most 1000"):
        save_note(sentence=sentence, annotator=annotator, unsure=True, note="x" * 1001)


def run_at_once(count: int, work: Callable[[], None]) -> list[BaseException]:
    """Run `work` in `count` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_saves_of_one_label_leave_one_row(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus))
    opinion = choice(corpus, "opinion")

    def save() -> None:
        save_label(
            sentence=sentence,
            annotator=annotator,
            layer=Layer.CLAIM_TYPE,
            target=None,
            choice=opinion,
            seconds=1,
        )

    assert run_at_once(30, save) == []
    annotation = Annotation.objects.get(sentence=sentence, annotator=annotator)
    assert annotation.seconds_spent == 30
    assert history(annotator) == [("", "opinion")]
