"""Label writes: the labelling rule, history for every change, time spent, undo, notes, and
concurrent saves (on PostgreSQL a save is one statement: these tests run it)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection

from annotator.annotating import (
    LabelError,
    LabellingRefused,
    clamp_seconds,
    labelling_refusals,
    labelling_state,
    save_label,
    save_note,
    undo_last_change,
)
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    LabelChoice,
    Layer,
    Role,
    Sentence,
    SentenceNote,
)


def choice(corpus: Corpus, value: str) -> LabelChoice:
    return LabelChoice.objects.get(corpus=corpus, value=value)


def first_sentence(article: Article, *holders: AbstractUser) -> Sentence:
    """The article's first sentence; `holders` get the article assigned (labelling needs it)."""
    for user in holders:
        Assignment.objects.get_or_create(article=article, annotator=user)
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
    sentence = first_sentence(make_article(corpus=corpus), annotator)
    claim(sentence, annotator, "opinion", seconds=4.5)
    annotation = Annotation.objects.get(sentence=sentence, annotator=annotator)
    assert annotation.choice.value == "opinion"
    assert annotation.seconds_spent == 4.5
    assert history(annotator) == [("", "opinion")]


def test_second_label_by_same_annotator_replaces_first(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus), annotator)
    claim(sentence, annotator, "opinion", seconds=2)
    claim(sentence, annotator, "factual_claim", seconds=3)
    annotation = Annotation.objects.get(sentence=sentence, annotator=annotator)
    assert annotation.choice.value == "factual_claim"
    assert annotation.seconds_spent == 5
    assert history(annotator) == [("", "opinion"), ("opinion", "factual_claim")]


def test_same_label_again_adds_time_but_no_history(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus), annotator)
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
    sentence = first_sentence(make_article(corpus=corpus), user)
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
    sentence = first_sentence(make_article(corpus=corpus), annotator)
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
    first_sentence(article, annotator)
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
    claim(first_sentence(article, annotator, other_annotator), annotator, "opinion")
    claim(first_sentence(elsewhere, annotator), annotator, "opinion")
    claim(first_sentence(article), other_annotator, "factual_claim")

    assert undo_last_change(article=article, annotator=annotator) == first_sentence(article)
    remaining = sorted(Annotation.objects.values_list("annotator__username", "sentence__article"))
    assert remaining == [("annotator", elsewhere.pk), ("other-annotator", article.pk)]


def test_note_and_unsure_flag_are_set_and_replaced(corpus, annotator, make_article):
    sentence = first_sentence(make_article(corpus=corpus), annotator)
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
    sentence = first_sentence(make_article(corpus=corpus), annotator)
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


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_one_label_log_every_change_once_in_order(
    corpus, annotator, make_article
):
    """Thirty saves with different values at once, some racing to create the label: the
    history is one unbroken chain from "no label" to the stored value."""
    sentence = first_sentence(make_article(corpus=corpus), annotator)
    values = [c.value for c in LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE)]
    turn = iter(range(30))

    def save() -> None:
        claim(sentence, annotator, values[next(turn) % len(values)], seconds=1)

    assert run_at_once(30, save) == []
    annotation = Annotation.objects.get(sentence=sentence, annotator=annotator)
    assert annotation.seconds_spent == 30
    chain = list(AnnotationHistory.objects.filter(sentence=sentence).order_by("changed_at", "id"))
    assert [h.pk for h in chain] == sorted(h.pk for h in chain)
    assert chain[0].old_value == ""
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.old_value == before.new_value
    assert chain[-1].new_value == annotation.choice.value
    # Undo walks that chain back, change by change, to no label at all.
    article = sentence.article
    for _ in chain:
        assert undo_last_change(article=article, annotator=annotator) == sentence
    assert not Annotation.objects.filter(sentence=sentence).exists()


@pytest.mark.parametrize(
    ("role", "status", "allowed"),
    [
        (Role.ANNOTATOR, AssignmentStatus.ASSIGNED, True),
        (Role.ANNOTATOR, AssignmentStatus.DONE, True),
        (Role.CURATOR, AssignmentStatus.ASSIGNED, True),
        (Role.ANNOTATOR, AssignmentStatus.SKIPPED, False),
        (Role.ANNOTATOR, None, False),
        (None, AssignmentStatus.ASSIGNED, False),  # an assignment left behind by a removal
    ],
)
def test_labelling_rule(make_corpus, make_user, make_article, role, status, allowed):
    """A member may label the sentences of articles they hold (assigned or done), nothing else;
    the save, the note and the bulk check answer alike."""
    corpus = make_corpus()
    user = make_user()
    if role is not None:
        corpus.memberships.create(user=user, role=role)
    article = make_article(corpus=corpus)
    if status is not None:
        Assignment.objects.create(article=article, annotator=user, status=status)
    sentence = first_sentence(article)

    refusals = labelling_refusals(annotator_id=user.pk, sentence_ids=[sentence.pk])
    assert (sentence.pk not in refusals) is allowed
    if allowed:
        claim(sentence, user, "opinion")
        save_note(sentence=sentence, annotator=user, unsure=True, note="fine")
        assert Annotation.objects.filter(annotator=user).count() == 1
    else:
        with pytest.raises(LabellingRefused, match=refusals[sentence.pk]):
            claim(sentence, user, "opinion")
        with pytest.raises(LabellingRefused):
            save_note(sentence=sentence, annotator=user, unsure=True, note="no")
        assert not Annotation.objects.exists()
        assert not AnnotationHistory.objects.exists()
        assert not SentenceNote.objects.exists()


def test_refusal_says_why(corpus, annotator, outsider, make_article):
    article = make_article(corpus=corpus)
    sentence = first_sentence(article)
    with pytest.raises(LabellingRefused, match="not assigned to you"):
        claim(sentence, annotator, "opinion")
    with pytest.raises(LabellingRefused, match="not a member"):
        claim(sentence, outsider, "opinion")
    about = labelling_refusals(annotator_id=annotator.pk, sentence_ids=[sentence.pk], about="ann")
    assert about == {sentence.pk: "the article is not assigned to 'ann'"}


def test_undo_is_refused_once_the_article_is_given_back(corpus, annotator, make_article):
    article = make_article(corpus=corpus)
    sentence = first_sentence(article, annotator)
    claim(sentence, annotator, "opinion")
    Assignment.objects.filter(annotator=annotator).update(status=AssignmentStatus.SKIPPED)

    with pytest.raises(LabellingRefused):
        undo_last_change(article=article, annotator=annotator)
    assert Annotation.objects.get().choice.value == "opinion"
    assert history(annotator) == [("", "opinion")]


def test_labelling_state_holds_my_labels_and_note_only(
    make_corpus, make_member, make_article, outsider
):
    corpus = make_corpus(targets=("Alliance", "Sanctions"))
    me, other = make_member(corpus=corpus), make_member(corpus=corpus)
    sentence = first_sentence(make_article(corpus=corpus), me, other)
    alliance, _ = corpus.stance_targets.order_by("order")
    claim(sentence, me, "opinion")
    claim(sentence, other, "factual_claim")
    save_label(
        sentence=sentence,
        annotator=me,
        layer=Layer.STANCE,
        target=alliance,
        choice=choice(corpus, "favor"),
    )
    save_note(sentence=sentence, annotator=me, unsure=True, note="hmm")

    state = labelling_state(annotator=me, sentence_id=sentence.pk)

    assert state.sentence.text == sentence.text
    assert (state.corpus.pk, state.corpus.schema_version) == (corpus.pk, corpus.schema_version)
    assert state.role == Role.ANNOTATOR
    assert state.labels == {
        (Layer.CLAIM_TYPE, None): choice(corpus, "opinion").pk,
        (Layer.STANCE, alliance.pk): choice(corpus, "favor").pk,
    }
    assert (state.note.unsure, state.note.note) == (True, "hmm")
    assert labelling_state(annotator=outsider, sentence_id=sentence.pk) is None
    assert labelling_state(annotator=me, sentence_id=sentence.pk + 10_000) is None
