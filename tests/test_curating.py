"""Gold labels from curation: settling, unanimous and majority bulk rules, confirming, staleness."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection

from annotator import curating
from annotator.curating import CurationError, Unit
from annotator.models import (
    Annotation,
    AnnotationHistory,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    Role,
)

TEXT = (
    "The minister said the plan works. Critics disagree with him. "
    "Officials met on Monday. Talks ended late at night."
)
CLAIM = Unit(layer=Layer.CLAIM_TYPE, target=None)


@pytest.fixture
def sentences(corpus, make_article):
    article = make_article(corpus=corpus, text=TEXT)
    return list(article.sentences.order_by("ordinal"))


@pytest.fixture
def third_annotator(corpus, make_member):
    return make_member(corpus=corpus, role=Role.ANNOTATOR, username="third-annotator")


def choice(corpus, value: str, layer: str = Layer.CLAIM_TYPE) -> LabelChoice:
    return LabelChoice.objects.get(corpus=corpus, layer=layer, value=value)


def label_all(make_annotation: Callable, sentence, votes: dict) -> None:
    for annotator, value in votes.items():
        make_annotation(sentence=sentence, annotator=annotator, value=value)


def test_settle_writes_adjudicated_confirmed_gold_with_note(corpus, sentences, curator):
    gold = curating.settle(
        sentence=sentences[0],
        unit=CLAIM,
        choice=choice(corpus, "opinion"),
        curator=curator,
        note="  reported speech  ",
    )
    assert (gold.method, gold.confirmed, gold.decided_by, gold.note) == (
        GoldMethod.ADJUDICATED,
        True,
        curator,
        "reported speech",
    )
    assert gold.choice.value == "opinion"


def test_settling_again_replaces_the_one_gold_label(corpus, sentences, curator, manager):
    curating.settle(
        sentence=sentences[0], unit=CLAIM, choice=choice(corpus, "opinion"), curator=curator
    )
    curating.settle(
        sentence=sentences[0], unit=CLAIM, choice=choice(corpus, "factual_claim"), curator=manager
    )
    gold = GoldLabel.objects.get(sentence=sentences[0])
    assert (gold.choice.value, gold.decided_by) == ("factual_claim", manager)


def test_settle_rejects_a_choice_of_another_layer(corpus, sentences, curator):
    with pytest.raises(CurationError, match="not a claim type choice"):
        curating.settle(
            sentence=sentences[0],
            unit=CLAIM,
            choice=choice(corpus, "favor", Layer.STANCE),
            curator=curator,
        )
    assert not GoldLabel.objects.exists()


def test_settle_rejects_a_choice_of_another_corpus(make_corpus, sentences, curator):
    elsewhere = make_corpus()
    with pytest.raises(CurationError, match="of corpus"):
        curating.settle(
            sentence=sentences[0], unit=CLAIM, choice=choice(elsewhere, "opinion"), curator=curator
        )


def test_stance_gold_is_per_target(make_corpus, make_article, make_member):
    corpus = make_corpus(targets=("Alliance", "Sanctions"))
    curator = make_member(corpus=corpus, role=Role.CURATOR)
    sentence = make_article(corpus=corpus, text=TEXT).sentences.first()
    alliance, sanctions = corpus.stance_targets.order_by("order")
    for target, value in ((alliance, "favor"), (sanctions, "against")):
        curating.settle(
            sentence=sentence,
            unit=Unit(layer=Layer.STANCE, target=target),
            choice=choice(corpus, value, Layer.STANCE),
            curator=curator,
        )
    assert dict(GoldLabel.objects.values_list("target__name", "choice__value")) == {
        "Alliance": "favor",
        "Sanctions": "against",
    }


def test_unit_needs_a_target_exactly_for_stance(corpus):
    with pytest.raises(CurationError, match="stance needs a target"):
        Unit(layer=Layer.STANCE, target=None)
    with pytest.raises(CurationError, match="layer must be one of"):
        Unit(layer="topic", target=None)


def test_accept_unanimous_writes_gold_only_for_unanimous_sentences(
    corpus, sentences, curator, annotator, other_annotator, make_annotation
):
    label_all(make_annotation, sentences[0], {annotator: "opinion", other_annotator: "opinion"})
    label_all(make_annotation, sentences[1], {annotator: "opinion", other_annotator: "not_a_claim"})
    # One rating is no agreement.
    label_all(make_annotation, sentences[2], {annotator: "opinion"})

    created = curating.accept_unanimous(corpus=corpus, unit=CLAIM, curator=curator)

    assert created == 1
    gold = GoldLabel.objects.get()
    assert (gold.sentence, gold.choice.value, gold.method, gold.confirmed) == (
        sentences[0],
        "opinion",
        GoldMethod.UNANIMOUS,
        True,
    )


def test_accept_unanimous_never_overwrites_existing_gold(
    corpus, sentences, curator, annotator, other_annotator, make_annotation
):
    label_all(make_annotation, sentences[0], {annotator: "opinion", other_annotator: "opinion"})
    curating.settle(
        sentence=sentences[0], unit=CLAIM, choice=choice(corpus, "not_a_claim"), curator=curator
    )
    assert curating.accept_unanimous(corpus=corpus, unit=CLAIM, curator=curator) == 0
    assert GoldLabel.objects.get().choice.value == "not_a_claim"


def test_majority_prefill_is_unconfirmed_and_respects_threshold(
    corpus, sentences, curator, annotator, other_annotator, third_annotator, make_annotation
):
    two_to_one = {annotator: "opinion", other_annotator: "opinion", third_annotator: "user_comment"}
    label_all(make_annotation, sentences[0], two_to_one)
    all_differ = {
        annotator: "opinion",
        other_annotator: "not_a_claim",
        third_annotator: "user_comment",
    }
    label_all(make_annotation, sentences[1], all_differ)

    assert (
        curating.prefill_majority(corpus=corpus, unit=CLAIM, curator=curator, threshold=0.75) == 0
    )
    assert curating.prefill_majority(corpus=corpus, unit=CLAIM, curator=curator) == 1

    gold = GoldLabel.objects.get()
    assert (gold.sentence, gold.choice.value, gold.method, gold.confirmed) == (
        sentences[0],
        "opinion",
        GoldMethod.MAJORITY,
        False,
    )


@pytest.mark.parametrize("threshold", [0.5, 0.2, 1.5])
def test_majority_threshold_must_be_a_real_majority(corpus, curator, threshold):
    with pytest.raises(CurationError, match="threshold must be above 0.5"):
        curating.prefill_majority(corpus=corpus, unit=CLAIM, curator=curator, threshold=threshold)


def test_confirm_keeps_the_majority_method_and_records_the_curator(
    corpus,
    sentences,
    manager,
    curator,
    annotator,
    other_annotator,
    third_annotator,
    make_annotation,
):
    votes = {annotator: "opinion", other_annotator: "opinion", third_annotator: "user_comment"}
    label_all(make_annotation, sentences[0], votes)
    curating.prefill_majority(corpus=corpus, unit=CLAIM, curator=manager)

    gold = curating.confirm(gold=GoldLabel.objects.get(), curator=curator)

    gold.refresh_from_db()
    assert (gold.confirmed, gold.method, gold.decided_by) == (True, GoldMethod.MAJORITY, curator)


def test_gold_stays_but_is_flagged_stale_when_an_annotation_changes_later(
    corpus, sentences, curator, annotator, other_annotator, make_annotation
):
    label_all(make_annotation, sentences[0], {annotator: "opinion", other_annotator: "not_a_claim"})
    gold = curating.settle(
        sentence=sentences[0], unit=CLAIM, choice=choice(corpus, "opinion"), curator=curator
    )
    assert not GoldLabel.objects.with_staleness().get().stale

    changed = Annotation.objects.get(sentence=sentences[0], annotator=other_annotator)
    changed.choice = choice(corpus, "user_comment")
    changed.updated_at = gold.decided_at + timedelta(seconds=1)
    changed.save()

    after = GoldLabel.objects.with_staleness().get()
    assert after.stale
    assert after.choice.value == "opinion"


def test_an_undone_annotation_makes_gold_stale_through_its_history(
    corpus, sentences, curator, annotator, make_annotation
):
    gold = curating.settle(
        sentence=sentences[0], unit=CLAIM, choice=choice(corpus, "opinion"), curator=curator
    )
    AnnotationHistory.objects.create(
        sentence=sentences[0],
        annotator=annotator,
        layer=Layer.CLAIM_TYPE,
        changed_by=annotator,
        changed_at=gold.decided_at + timedelta(seconds=1),
        old_value="opinion",
        new_value="",
    )
    assert GoldLabel.objects.with_staleness().get().stale


def test_queue_lists_disputed_sentences_until_settled(
    corpus, sentences, curator, annotator, other_annotator, make_annotation
):
    label_all(make_annotation, sentences[0], {annotator: "opinion", other_annotator: "opinion"})
    label_all(make_annotation, sentences[1], {annotator: "opinion", other_annotator: "not_a_claim"})
    label_all(
        make_annotation, sentences[2], {annotator: "factual_claim", other_annotator: "opinion"}
    )
    assert list(curating.disputed_sentences(corpus, CLAIM)) == [sentences[1], sentences[2]]

    curating.settle(
        sentence=sentences[1], unit=CLAIM, choice=choice(corpus, "opinion"), curator=curator
    )

    assert list(curating.disputed_sentences(corpus, CLAIM)) == [sentences[2]]
    assert list(curating.disputed_sentences(corpus, CLAIM, status="settled")) == [sentences[1]]
    assert len(curating.disputed_sentences(corpus, CLAIM, status="all")) == 2


def test_queue_filters_by_annotator_and_article(
    corpus, sentences, make_article, annotator, other_annotator, third_annotator, make_annotation
):
    label_all(make_annotation, sentences[0], {annotator: "opinion", other_annotator: "not_a_claim"})
    label_all(
        make_annotation, sentences[1], {third_annotator: "opinion", other_annotator: "not_a_claim"}
    )
    other_article = make_article(corpus=corpus, text="A different text. With two sentences.")
    label_all(
        make_annotation,
        other_article.sentences.first(),
        {annotator: "opinion", other_annotator: "not_a_claim"},
    )

    by_third = curating.disputed_sentences(corpus, CLAIM, annotator_id=third_annotator.pk)
    assert list(by_third) == [sentences[1]]
    in_article = curating.disputed_sentences(corpus, CLAIM, article_id=sentences[0].article_id)
    assert list(in_article) == [sentences[0], sentences[1]]


def test_unconfirmed_majority_gold_stays_in_the_open_queue(
    corpus, sentences, curator, annotator, other_annotator, third_annotator, make_annotation
):
    votes = {annotator: "opinion", other_annotator: "opinion", third_annotator: "user_comment"}
    label_all(make_annotation, sentences[0], votes)
    curating.prefill_majority(corpus=corpus, unit=CLAIM, curator=curator)
    assert list(curating.disputed_sentences(corpus, CLAIM)) == [sentences[0]]
    curating.confirm(gold=GoldLabel.objects.get(), curator=curator)
    assert list(curating.disputed_sentences(corpus, CLAIM)) == []


@pytest.mark.django_db(transaction=True)
def test_two_curators_settling_at_once_leave_one_gold_label(make_corpus, make_article, make_member):
    corpus = make_corpus()
    curators = [make_member(corpus=corpus, role=Role.CURATOR) for _ in range(2)]
    sentence = make_article(corpus=corpus, text=TEXT).sentences.first()
    values = ["opinion", "factual_claim"]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def settle(index: int) -> None:
        try:
            barrier.wait()
            curating.settle(
                sentence=sentence,
                unit=CLAIM,
                choice=choice(corpus, values[index]),
                curator=curators[index],
            )
        except BaseException as error:  # reported by the assertion below, not lost in a thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=settle, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    gold = GoldLabel.objects.get(sentence=sentence)
    assert gold.choice.value in values
    assert (gold.choice.value, gold.decided_by) in list(zip(values, curators, strict=True))


def test_stale_gold_returns_to_the_queue_even_when_annotators_now_agree(
    corpus, sentences, curator, annotator, other_annotator, make_annotation
):
    label_all(make_annotation, sentences[0], {annotator: "opinion", other_annotator: "not_a_claim"})
    gold = curating.settle(
        sentence=sentences[0], unit=CLAIM, choice=choice(corpus, "not_a_claim"), curator=curator
    )
    assert list(curating.disputed_sentences(corpus, CLAIM)) == []

    changed = Annotation.objects.get(sentence=sentences[0], annotator=other_annotator)
    changed.choice = choice(corpus, "opinion")
    changed.updated_at = gold.decided_at + timedelta(seconds=1)
    changed.save()

    assert list(curating.disputed_sentences(corpus, CLAIM)) == [sentences[0]]
