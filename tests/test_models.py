"""The data model's invariants hold in PostgreSQL itself, not only in Python."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Assignment,
    AssignmentStatus,
    LabelChoice,
    Layer,
    Membership,
    Role,
    Sentence,
    content_hash,
)


def claim_choice(corpus, value="opinion"):
    return LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value=value)


def test_new_corpus_gets_the_default_schema(corpus):
    claim_values = list(corpus.choices.filter(layer=Layer.CLAIM_TYPE).values_list("value", "key"))
    stance_values = list(corpus.choices.filter(layer=Layer.STANCE).values_list("value", "key"))
    assert claim_values == [
        ("factual_claim", "1"),
        ("opinion", "2"),
        ("user_comment", "3"),
        ("not_a_claim", "0"),
    ]
    assert stance_values == [("favor", "f"), ("against", "a"), ("neutral", "n")]
    assert corpus.annotators_per_article == 2


def test_every_stored_sentence_is_a_slice_of_its_article(corpus, make_article):
    article = make_article(corpus=corpus, text="One. Two!\n\n  Three?  \n")
    for sentence in article.sentences.all():
        assert article.text[sentence.start : sentence.end] == sentence.text


def test_sentence_whose_text_disagrees_with_its_span_is_refused(corpus, make_article):
    article = make_article(corpus=corpus, text="Alpha beta.")
    with pytest.raises(IntegrityError, match="sentence_text_matches_span"):
        Sentence.objects.create(article=article, ordinal=5, paragraph=0, start=0, end=3, text="Al")


def test_same_article_text_is_never_stored_twice_in_a_corpus(corpus, make_article):
    article = make_article(corpus=corpus, text="Same text.")
    with pytest.raises(IntegrityError, match="article_unique_content"):
        Article.objects.create(
            corpus=corpus,
            external_id="other-name.txt",
            text="Same text.",
            content_hash=content_hash("Same text."),
        )
    assert article.pk


def test_one_current_claim_type_per_sentence_and_annotator(corpus, make_article, annotator):
    sentence = make_article(corpus=corpus).sentences.first()
    Annotation.objects.create(
        sentence=sentence, annotator=annotator, layer=Layer.CLAIM_TYPE, choice=claim_choice(corpus)
    )
    with pytest.raises(IntegrityError, match="annotation_unique_claim_type"):
        Annotation.objects.create(
            sentence=sentence,
            annotator=annotator,
            layer=Layer.CLAIM_TYPE,
            choice=claim_choice(corpus, "factual_claim"),
        )


def test_one_current_stance_per_sentence_annotator_and_target(corpus, make_article, annotator):
    sentence = make_article(corpus=corpus).sentences.first()
    target = corpus.stance_targets.get()
    favor = corpus.choices.get(layer=Layer.STANCE, value="favor")
    Annotation.objects.create(
        sentence=sentence, annotator=annotator, layer=Layer.STANCE, target=target, choice=favor
    )
    with pytest.raises(IntegrityError, match="annotation_unique_stance"):
        Annotation.objects.create(
            sentence=sentence, annotator=annotator, layer=Layer.STANCE, target=target, choice=favor
        )


def test_stance_needs_a_target_and_claim_type_has_none(corpus, make_article, annotator):
    sentence = make_article(corpus=corpus).sentences.first()
    favor = corpus.choices.get(layer=Layer.STANCE, value="favor")
    with transaction.atomic(), pytest.raises(IntegrityError, match="target_matches_layer"):
        Annotation.objects.create(
            sentence=sentence, annotator=annotator, layer=Layer.STANCE, choice=favor
        )
    with transaction.atomic(), pytest.raises(IntegrityError, match="target_matches_layer"):
        Annotation.objects.create(
            sentence=sentence,
            annotator=annotator,
            layer=Layer.CLAIM_TYPE,
            target=corpus.stance_targets.get(),
            choice=claim_choice(corpus),
        )


def test_a_choice_in_use_cannot_be_deleted(corpus, make_article, annotator):
    sentence = make_article(corpus=corpus).sentences.first()
    choice = claim_choice(corpus)
    Annotation.objects.create(
        sentence=sentence, annotator=annotator, layer=Layer.CLAIM_TYPE, choice=choice
    )
    with pytest.raises(ProtectedError):
        choice.delete()
    assert LabelChoice.objects.filter(pk=choice.pk).exists()


def test_keyboard_keys_are_unique_within_a_corpus(corpus):
    with pytest.raises(IntegrityError, match="label_choice_unique_key"):
        LabelChoice.objects.create(
            corpus=corpus, layer=Layer.STANCE, value="sceptical", name="Sceptical", key="1"
        )


def test_history_is_append_only(corpus, make_article, annotator):
    sentence = make_article(corpus=corpus).sentences.first()
    entry = AnnotationHistory.objects.create(
        sentence=sentence,
        annotator=annotator,
        layer=Layer.CLAIM_TYPE,
        changed_by=annotator,
        old_value="",
        new_value="opinion",
    )
    entry.new_value = "factual_claim"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AnnotationHistory.objects.all().delete()
    assert AnnotationHistory.objects.get().new_value == "opinion"


def test_one_membership_per_user_and_corpus(corpus, annotator):
    with pytest.raises(IntegrityError, match="membership_unique_user"):
        Membership.objects.create(user=annotator, corpus=corpus, role=Role.CURATOR)


def test_complete_articles_are_those_every_annotator_place_finished(
    make_corpus, make_article, make_member
):
    """One test of "done" for lists (the export's only_complete) and rows (the API's complete);
    each article is checked against its own corpus's number."""
    one, two = make_corpus(annotators_per_article=1), make_corpus(annotators_per_article=2)
    first, second = make_member(corpus=one), make_member(corpus=two)
    finished_alone = make_article(corpus=one, text="Done by one. Enough here.")
    half_done = make_article(corpus=two, text="Done by one of two. Not enough.")
    untouched = make_article(corpus=two, text="Nobody started this one.")
    for article, user in ((finished_alone, first), (half_done, second)):
        Assignment.objects.create(article=article, annotator=user, status=AssignmentStatus.DONE)

    complete = set(Article.objects.complete())
    rows = Article.objects.with_counts().select_related("corpus")

    assert complete == {finished_alone}
    assert {article for article in rows if article.is_complete} == complete
    assert untouched not in complete
