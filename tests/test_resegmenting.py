"""Tests for annotator.resegmenting: split, merge, exclude and zone confirmation keep offsets
exact and ordinals contiguous, record history, refuse labelled sentences and the wrong roles."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction

from annotator.annotating import LabellingRefused, labelling_refusals, save_label
from annotator.models import (
    AnnotationHistory,
    Article,
    ArticleStats,
    Corpus,
    LabelChoice,
    Layer,
    Prediction,
    SegmentationAction,
    SegmentationChange,
    Sentence,
    Zone,
)
from annotator.resegmenting import (
    BY_HAND,
    SegmentationRefused,
    confirm_suggested_zones,
    confirm_zones,
    merge_sentences,
    set_excluded,
    split_sentence,
)
from annotator.segmentation import SpanError, split_points, split_span
from tests.assist_data import model_version, predict
from tests.factories import sentence_ids

pytestmark = pytest.mark.django_db

TEXT = "First sentence here and more. Second one follows.\n\nA new paragraph. The end."


@pytest.fixture
def article(corpus: Corpus, make_article: Callable[..., Article]) -> Article:
    return make_article(corpus=corpus, text=TEXT)


def spans(article: Article) -> list[tuple[int, int, int, str]]:
    return list(
        article.sentences.order_by("ordinal").values_list("ordinal", "start", "end", "text")
    )


def assert_exact(article: Article) -> None:
    """Offsets point into the unchanged text, ordinals run 0..n-1, spans do not overlap."""
    article.refresh_from_db()
    assert article.text == TEXT
    rows = spans(article)
    assert [row[0] for row in rows] == list(range(len(rows)))
    previous_end = 0
    for _, start, end, text in rows:
        assert article.text[start:end] == text
        assert start >= previous_end
        previous_end = end


# --- pure checks ----------------------------------------------------------------------------


def test_split_span_leaves_the_spaces_at_the_cut_to_neither_part() -> None:
    assert split_span(10, "Hello there world", 6) == ((10, 15), (16, 27))
    assert split_span(10, "Hello there world", 5) == ((10, 15), (16, 27))


@pytest.mark.parametrize("position", [0, 17, -1, 99])
def test_split_outside_the_sentence_is_refused(position: int) -> None:
    with pytest.raises(SpanError, match="position from 1 to 16"):
        split_span(0, "Hello there world", position)


def test_split_leaving_only_spaces_is_refused() -> None:
    with pytest.raises(SpanError, match="some text"):
        split_span(0, "Hello   ", 6)


def test_split_points_are_word_starts_and_linear() -> None:
    assert [p for p, _, _ in split_points("One two  three")] == [4, 9]
    assert len(split_points("a " * 100_000)) == 400


# --- split and merge ------------------------------------------------------------------------


def test_split_keeps_offsets_exact_and_ordinals_contiguous(
    article: Article, manager: AbstractUser
) -> None:
    before = spans(article)
    first, second = split_sentence(sentence_id=sentence_ids(article, 0)[0], position=15, by=manager)
    assert (first.text, second.text) == ("First sentence", "here and more.")
    assert len(spans(article)) == len(before) + 1
    assert spans(article)[2][3] == before[1][3]
    assert_exact(article)
    change = SegmentationChange.objects.get(article=article)
    assert change.action == SegmentationAction.SPLIT
    assert change.user == manager
    assert change.details["after"] == [[0, 14], [15, 29]]


def test_merge_spans_both_and_the_text_between(article: Article, curator: AbstractUser) -> None:
    before = spans(article)
    merged = merge_sentences(
        first_id=sentence_ids(article, 1)[0], second_id=sentence_ids(article, 2)[0], by=curator
    )
    assert merged.text == "Second one follows.\n\nA new paragraph."
    assert len(spans(article)) == len(before) - 1
    assert_exact(article)
    assert SegmentationChange.objects.get().action == SegmentationAction.MERGE


def test_split_then_merge_gives_back_the_original(article: Article, manager: AbstractUser) -> None:
    before = spans(article)
    split_sentence(sentence_id=sentence_ids(article, 2)[0], position=6, by=manager)
    merge_sentences(
        first_id=sentence_ids(article, 2)[0], second_id=sentence_ids(article, 3)[0], by=manager
    )
    assert spans(article) == before
    assert SegmentationChange.objects.count() == 2


def test_merging_the_last_sentence_is_refused(article: Article, manager: AbstractUser) -> None:
    with pytest.raises(SegmentationRefused, match="no next sentence"):
        merge_sentences(
            first_id=sentence_ids(article, 3)[0], second_id=sentence_ids(article, 4)[0], by=manager
        )


def test_a_labelled_sentence_is_not_split_and_the_labels_are_named(
    article: Article,
    manager: AbstractUser,
    annotator: AbstractUser,
    make_annotation: Callable[..., object],
) -> None:
    sentence = article.sentences.get(ordinal=1)
    make_annotation(sentence=sentence, annotator=annotator, value="opinion")
    before = spans(article)
    with pytest.raises(SegmentationRefused) as refused:
        split_sentence(sentence_id=sentence_ids(article, 1)[0], position=7, by=manager)
    assert [(a.sentence_number, a.who, a.layer, a.value) for a in refused.value.labels] == [
        (2, "annotator", Layer.CLAIM_TYPE, "opinion")
    ]
    with pytest.raises(SegmentationRefused):
        merge_sentences(
            first_id=sentence_ids(article, 0)[0], second_id=sentence_ids(article, 1)[0], by=manager
        )
    assert spans(article) == before
    assert not SegmentationChange.objects.exists()


def test_merge_keeps_the_sentence_that_has_label_history(
    article: Article, manager: AbstractUser, annotator: AbstractUser, assign: Callable
) -> None:
    assign(article=article, annotator=annotator)
    second = article.sentences.get(ordinal=1)
    choice = LabelChoice.objects.get(corpus=article.corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    save_label(
        sentence=second, annotator=annotator, layer=Layer.CLAIM_TYPE, target=None, choice=choice
    )
    save_label(
        sentence=second, annotator=annotator, layer=Layer.CLAIM_TYPE, target=None, choice=None
    )
    merged = merge_sentences(
        first_id=sentence_ids(article, 0)[0], second_id=sentence_ids(article, 1)[0], by=manager
    )
    assert merged.pk == second.pk
    assert AnnotationHistory.objects.filter(sentence=merged).count() == 2
    assert_exact(article)


def test_a_correction_made_meanwhile_refuses_a_stale_one(
    article: Article, manager: AbstractUser
) -> None:
    """A page opened before another manager's correction names sentences that have moved."""
    first, second, third = sentence_ids(article, 0, 1, 2)
    split_sentence(sentence_id=second, position=7, by=manager)  # "Second" | "one follows."
    with pytest.raises(SegmentationRefused, match="changed since the page was opened"):
        merge_sentences(first_id=second, second_id=third, by=manager)
    with pytest.raises(SegmentationRefused, match="changed since the page was opened"):
        split_sentence(sentence_id=second, position=3, by=manager, seen=(30, 49))
    merge_sentences(first_id=first, second_id=second, by=manager)
    with pytest.raises(SegmentationRefused, match="changed since the page was opened"):
        split_sentence(sentence_id=second, position=3, by=manager)
    assert_exact(article)


def test_annotators_may_not_resegment(article: Article, annotator: AbstractUser) -> None:
    with pytest.raises(SegmentationRefused):
        split_sentence(sentence_id=sentence_ids(article, 0)[0], position=6, by=annotator)


def test_curators_split_but_do_not_exclude(article: Article, curator: AbstractUser) -> None:
    split_sentence(sentence_id=sentence_ids(article, 0)[0], position=6, by=curator)
    with pytest.raises(SegmentationRefused):
        set_excluded(
            article_id=article.pk, sentence_ids=sentence_ids(article, 0), excluded=True, by=curator
        )


# --- exclusion ------------------------------------------------------------------------------


def test_excluding_a_run_confirms_it_as_boilerplate_and_can_be_undone(
    article: Article, manager: AbstractUser
) -> None:
    assert (
        set_excluded(
            article_id=article.pk,
            sentence_ids=sentence_ids(article, 2, 3),
            excluded=True,
            by=manager,
        )
        == 2
    )
    rows = list(
        article.sentences.order_by("ordinal").values_list("excluded", "zone", "zone_confirmed")
    )
    assert rows[2:] == [(True, Zone.BOILERPLATE, True)] * 2
    assert rows[0] == (False, Zone.BODY, False)
    assert list(
        Sentence.objects.counted().filter(article=article).values_list("ordinal", flat=True)
    ) == [0, 1]
    assert (
        set_excluded(
            article_id=article.pk, sentence_ids=sentence_ids(article, 3), excluded=False, by=manager
        )
        == 1
    )
    assert article.sentences.get(ordinal=3).zone == Zone.BODY
    assert [c.action for c in SegmentationChange.objects.order_by("id")] == ["exclude", "include"]


def test_excluded_sentences_leave_the_article_figures(
    article: Article, manager: AbstractUser, django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        set_excluded(
            article_id=article.pk, sentence_ids=sentence_ids(article, 0), excluded=True, by=manager
        )
    assert ArticleStats.objects.get(article=article).sentences == 3


def test_the_database_refuses_excluded_without_confirmed_boilerplate(article: Article) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        article.sentences.filter(ordinal=0).update(excluded=True)


def test_an_excluded_sentence_cannot_be_labelled(
    article: Article, manager: AbstractUser, annotator: AbstractUser, assign: Callable
) -> None:
    assign(article=article, annotator=annotator)
    set_excluded(
        article_id=article.pk, sentence_ids=sentence_ids(article, 1), excluded=True, by=manager
    )
    sentence = Sentence.objects.select_related("article").get(article=article, ordinal=1)
    choice = LabelChoice.objects.get(corpus=article.corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    with pytest.raises(LabellingRefused, match="excluded"):
        save_label(
            sentence=sentence,
            annotator=annotator,
            layer=Layer.CLAIM_TYPE,
            target=None,
            choice=choice,
        )
    refusals = labelling_refusals(
        annotator_id=annotator.pk, sentence_ids=[s.pk for s in article.sentences.all()], about="ann"
    )
    assert list(refusals.values()) == ["the sentence is excluded from labelling (not article text)"]


# --- zones ----------------------------------------------------------------------------------


def test_confirming_zones_applies_corrections_and_excludes_boilerplate(
    article: Article, manager: AbstractUser
) -> None:
    article.sentences.filter(ordinal=3).update(zone=Zone.BOILERPLATE, zone_rule="copyright")
    counts = confirm_zones(
        article_id=article.pk,
        zones={
            sentence_ids(article, 0)[0]: Zone.BOILERPLATE,
            sentence_ids(article, 2)[0]: Zone.COMMENTS,
        },
        by=manager,
    )
    assert counts == {"body": 1, "boilerplate": 2, "comments": 1, "corrected": 2}
    rows = list(
        article.sentences.order_by("ordinal").values_list(
            "zone", "zone_rule", "excluded", "zone_confirmed"
        )
    )
    assert rows == [
        (Zone.BOILERPLATE, "manager", True, True),
        (Zone.BODY, "", False, True),
        (Zone.COMMENTS, "manager", False, True),
        (Zone.BOILERPLATE, "copyright", True, True),
    ]
    assert SegmentationChange.objects.get().details["corrected"] == {
        "0": ["body", "boilerplate"],
        "2": ["body", "comments"],
    }


def test_correcting_a_confirmed_zone_to_boilerplate_excludes_it(
    article: Article, manager: AbstractUser
) -> None:
    confirm_zones(article_id=article.pk, zones={}, by=manager)
    confirm_zones(
        article_id=article.pk, zones={sentence_ids(article, 1)[0]: Zone.BOILERPLATE}, by=manager
    )
    assert article.sentences.get(ordinal=1).excluded


def test_unknown_zone_is_refused(article: Article, manager: AbstractUser) -> None:
    with pytest.raises(SegmentationRefused, match="Unknown zone"):
        confirm_zones(
            article_id=article.pk, zones={sentence_ids(article, 0)[0]: "sidebar"}, by=manager
        )


def test_bulk_confirmation_leaves_confirmed_choices_alone(
    corpus: Corpus, manager: AbstractUser, make_article: Callable[..., Article]
) -> None:
    first = make_article(corpus=corpus, text=TEXT)
    second = make_article(corpus=corpus, text="Another text. With two sentences.")
    first.sentences.filter(ordinal=0).update(zone=Zone.BOILERPLATE)
    set_excluded(
        article_id=second.pk, sentence_ids=sentence_ids(second, 0), excluded=False, by=manager
    )  # no change
    confirm_zones(
        article_id=second.pk, zones={sentence_ids(second, 1)[0]: Zone.COMMENTS}, by=manager
    )
    assert confirm_suggested_zones(corpus=corpus, by=manager) == (1, 4)
    assert first.sentences.get(ordinal=0).excluded
    assert second.sentences.get(ordinal=1).zone == Zone.COMMENTS
    assert confirm_suggested_zones(corpus=corpus, by=manager) == (0, 0)


def test_bulk_confirmation_is_for_managers(corpus: Corpus, curator: AbstractUser) -> None:
    with pytest.raises(SegmentationRefused):
        confirm_suggested_zones(corpus=corpus, by=curator)


@pytest.mark.django_db(transaction=True)
def test_concurrent_corrections_of_one_article_keep_ordinals_contiguous(
    corpus: Corpus, make_article: Callable[..., Article], make_member: Callable[..., AbstractUser]
) -> None:
    """Two managers split and merge at the same moment: the article lock makes one wait for
    the other, so every ordinal shift sees the other's result."""
    import threading

    from django.db import connection

    from annotator.models import Role

    article = make_article(corpus=corpus, text=TEXT)
    first = make_member(corpus=corpus, role=Role.MANAGER)
    second = make_member(corpus=corpus, role=Role.MANAGER)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            action()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    first_id, third_id, fourth_id = sentence_ids(article, 0, 2, 3)
    threads = [
        threading.Thread(
            target=run,
            args=(lambda: split_sentence(sentence_id=first_id, position=6, by=first),),
        ),
        threading.Thread(
            target=run,
            args=(lambda: merge_sentences(first_id=third_id, second_id=fourth_id, by=second),),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert_exact(article)
    assert sorted(spans(article)[i][3] for i in range(4)) == sorted(
        ["First", "sentence here and more.", "Second one follows.", "A new paragraph. The end."]
    )
    assert SegmentationChange.objects.count() == 2


@pytest.mark.parametrize("sentences", [5, 400])
def test_split_and_merge_cost_the_same_queries_however_long_the_article(
    corpus: Corpus,
    manager: AbstractUser,
    make_article: Callable[..., Article],
    django_assert_num_queries: Callable,
    sentences: int,
) -> None:
    """The position is checked against the sentence alone and ordinals move in two UPDATEs:
    no query (and no loop over sentences) grows with the article."""
    article = make_article(
        corpus=corpus, text=" ".join(f"Sentence number {n}." for n in range(sentences))
    )
    first, second = sentence_ids(article, 0, 1)
    # sentence's article, lock, role, sentence, 3 label kinds, 2 shifts, update, insert,
    # history, savepoints, the sentence's stale model predictions (the recount runs after the
    # commit)
    with django_assert_num_queries(15):
        split_sentence(sentence_id=first, position=9, by=manager)
    (new,) = sentence_ids(article, 1)
    # as above for two sentences, plus history check, empty notes, article text, delete
    # (with its cascade to the sentence's model predictions), the kept one's stale predictions
    with django_assert_num_queries(24):
        merge_sentences(first_id=first, second_id=new, by=manager)
    assert_exact_text(article)


def assert_exact_text(article: Article) -> None:
    rows = list(
        article.sentences.order_by("ordinal").values_list("ordinal", "start", "end", "text")
    )
    assert [row[0] for row in rows] == list(range(len(rows)))
    assert all(article.text[start:end] == text for _, start, end, text in rows)


def test_a_corrected_sentence_loses_the_model_predictions_made_for_its_old_text(
    corpus: Corpus, manager: AbstractUser, make_article: Callable[..., Article]
) -> None:
    article = make_article(corpus=corpus, text="One two three. Four five. Six.")
    first, second, third = sentence_ids(article, 0, 1, 2)
    version = model_version(corpus)
    for sentence in Sentence.objects.filter(article=article):
        predict(version, sentence, "opinion")

    split_sentence(sentence_id=first, position=4, by=manager)
    assert set(Prediction.objects.values_list("sentence_id", flat=True)) == {second, third}
    merge_sentences(first_id=second, second_id=third, by=manager)
    assert not Prediction.objects.exists()


# --- zone suggestions for sentences stored before zones ------------------------------------


def test_sentences_stored_before_zones_get_the_suggestions_an_import_gives_now(
    corpus: Corpus, make_article: Callable[..., Article]
) -> None:
    from pathlib import Path

    from django.core.management import call_command

    from annotator.resegmenting import suggest_missing_zones
    from annotator.sources import article_sentences

    sample = Path(__file__).resolve().parent.parent / "samples" / "002_9dc813a9fb6319d2.txt"
    text = sample.read_text(encoding="utf-8")
    # Stored as before zones existed: every sentence body, no rule, unconfirmed.
    article = make_article(corpus=corpus, text=text)
    ids = list(article.sentences.order_by("ordinal").values_list("pk", flat=True))
    expected = {
        pk: (zone, rule) for pk, (*_, zone, rule) in zip(ids, article_sentences(text), strict=True)
    }
    assert {zone for zone, _ in expected.values()} > {"body"}  # furniture or comments here
    assert set(article.sentences.values_list("zone_rule", flat=True)) == {""}
    # One furniture sentence a person already confirmed as body (as the Zones page records it).
    furniture = next(pk for pk, (zone, _) in expected.items() if zone != "body")
    article.sentences.filter(pk=furniture).update(zone_rule=BY_HAND, zone_confirmed=True)

    result = suggest_missing_zones(corpus=corpus)

    after = {
        pk: (zone, rule, confirmed)
        for pk, zone, rule, confirmed in article.sentences.values_list(
            "pk", "zone", "zone_rule", "zone_confirmed"
        )
    }
    assert (result.articles, result.sentences) == (1, len(ids) - 1)
    assert after.pop(furniture) == ("body", BY_HAND, True)  # a person's choice stays
    assert after == {pk: (*expected[pk], False) for pk in after}
    assert not article.sentences.filter(excluded=True).exists()  # suggested, not excluded

    out = io.StringIO()
    call_command("suggest_zones", corpus.slug, stdout=out, stderr=io.StringIO())
    assert f"{corpus.slug}: suggested zones for 0 sentence(s) in 0 article(s)" in out.getvalue()


def test_an_article_whose_spans_the_rules_refuse_is_left_and_named(
    corpus: Corpus, make_article: Callable[..., Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import call_command

    from annotator import resegmenting

    article = make_article(corpus=corpus, text="One line here. Another one.")
    article.sentences.update(zone_rule="")

    def refuse(text: str, sentences: object) -> list:
        raise ValueError("sentence 1 overlaps the one before it")

    monkeypatch.setattr(resegmenting, "suggest_zones", refuse)
    out = io.StringIO()
    call_command("suggest_zones", "--all", stdout=out, stderr=io.StringIO())
    assert f"article {article.pk} left as it was: sentence 1 overlaps" in out.getvalue()
    assert set(article.sentences.values_list("zone_rule", flat=True)) == {""}
