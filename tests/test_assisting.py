"""Model assistance through the database: training in the background task, stored predictions,
labels that look wrong, hidden control suggestions, anchoring and external predictions."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from django.contrib.auth.models import AbstractUser

from annotator import assisting
from annotator.annotating import SuggestionSeen, save_label
from annotator.assisting import (
    PredictionRecord,
    PredictionsRejected,
    import_predictions,
    label_issues,
    request_training,
    suggestion_is_hidden,
)
from annotator.curating import Unit
from annotator.models import (
    Annotation,
    ArticleStats,
    Corpus,
    GoldLabel,
    LabelChoice,
    Layer,
    ModelKind,
    ModelStatus,
    ModelVersion,
    Prediction,
    Role,
    Sentence,
)
from tests.assist_corpus import load_generated
from tests.claim_corpus import FACTUAL, OPINION, generate_corpus
from tests.factories import prediction_record

CLAIM = Unit(layer=Layer.CLAIM_TYPE, target=None)


@pytest.fixture
def learnable(
    corpus: Corpus, make_member: Callable[..., AbstractUser]
) -> tuple[Corpus, list[int], list[int], AbstractUser]:
    """About 1,200 sentences in 40 articles whose claim type shows in their wording, each
    labelled by one annotator and settled as gold by a curator."""
    generated = generate_corpus(n_articles=40, seed=3)
    labeller = make_member(corpus=corpus, role=Role.ANNOTATOR)
    curator = make_member(corpus=corpus, role=Role.CURATOR)
    ids = load_generated(corpus, generated, annotators=[labeller], gold_by=curator)
    return corpus, ids, generated.labels, curator


def test_the_model_trained_through_the_task_beats_the_majority_baseline(
    learnable: tuple[Corpus, list[int], list[int], AbstractUser], manager: AbstractUser
) -> None:
    corpus, ids, labels, _ = learnable
    version = request_training(corpus=corpus, unit=CLAIM, requested_by=manager)

    version.refresh_from_db()
    assert version.status == ModelStatus.DONE, version.error
    scores = version.scores
    assert scores["macro_f1"] > scores["majority_macro_f1"] + 0.3
    assert scores["beats_baselines"]
    assert scores["macro_f1_interval"][0] < scores["macro_f1"] < scores["macro_f1_interval"][1]
    assert version.number == 1 and version.label_source == "gold"
    assert version.data["sentences"] == len(ids) and version.data["articles"] == 40
    assert len(version.scores["confusion"]) == 4
    # A prediction for every sentence of the corpus, out-of-fold probabilities for the labelled.
    predictions = Prediction.objects.filter(model_version=version)
    assert predictions.count() == len(ids)
    assert predictions.filter(held_out_probabilities__isnull=True).count() == 0
    values = dict(LabelChoice.objects.filter(corpus=corpus).values_list("pk", "value"))
    predicted = dict(predictions.values_list("sentence_id", "choice_id"))
    classes = ("factual_claim", "opinion", "user_comment", "not_a_claim")
    right = sum(values[predicted[s]] == classes[y] for s, y in zip(ids, labels, strict=True))
    assert right / len(ids) > 0.8
    one = predictions.first()
    assert one.score == pytest.approx(max(one.probabilities.values()), abs=1e-3)


def test_a_second_version_takes_the_next_number_and_drops_the_older_predictions(
    learnable: tuple[Corpus, list[int], list[int], AbstractUser],
) -> None:
    corpus, ids, _, _ = learnable
    first = request_training(corpus=corpus, unit=CLAIM)
    second = request_training(corpus=corpus, unit=CLAIM)
    assert (first.number, second.number) == (1, 2)
    assert ModelVersion.objects.current(corpus, Layer.CLAIM_TYPE, None) == second
    assert not Prediction.objects.filter(model_version=first).exists()
    assert Prediction.objects.filter(model_version=second).count() == len(ids)


def test_too_few_labels_fail_the_version_with_what_is_missing(
    corpus: Corpus, make_article: Callable, make_annotation: Callable, annotator: AbstractUser
) -> None:
    article = make_article(corpus=corpus)
    for sentence in article.sentences.all():
        make_annotation(sentence=sentence, annotator=annotator, value="opinion")

    version = request_training(corpus=corpus, unit=CLAIM)

    version.refresh_from_db()
    assert version.status == ModelStatus.FAILED
    assert "Needs 197 more labelled sentences" in version.error
    assert version.scores["readiness"]["more_sentences"] == 197
    readiness = assisting.readiness(corpus, CLAIM)
    assert not readiness.ready and readiness.more_articles == 9


def test_majority_labels_stand_in_where_there_is_no_gold(
    corpus: Corpus,
    make_article: Callable,
    make_annotation: Callable,
    make_member: Callable,
) -> None:
    sentences = list(
        Sentence.objects.filter(article=make_article(corpus=corpus)).order_by("ordinal")
    )
    first, second, third = (make_member(corpus=corpus) for _ in range(3))
    # Sentence 0: two opinions against one factual claim; sentence 1: a tie; sentence 2: one.
    for user, value in ((first, "opinion"), (second, "opinion"), (third, "factual_claim")):
        make_annotation(sentence=sentences[0], annotator=user, value=value)
    for user, value in ((first, "opinion"), (second, "factual_claim")):
        make_annotation(sentence=sentences[1], annotator=user, value=value)
    make_annotation(sentence=sentences[2], annotator=first, value="not_a_claim")
    choices = assisting.choices_of(corpus, Layer.CLAIM_TYPE)
    value_of = {c.pk: c.value for c in choices}

    labels = assisting.training_labels(CLAIM, choices)

    assert {s: value_of[c] for s, c in labels.labels.items()} == {
        sentences[0].pk: "opinion",
        sentences[2].pk: "not_a_claim",
    }
    assert labels.source == "majority"


def test_a_deliberately_flipped_gold_label_is_flagged(
    learnable: tuple[Corpus, list[int], list[int], AbstractUser],
) -> None:
    corpus, ids, labels, _ = learnable
    clean = request_training(corpus=corpus, unit=CLAIM)
    factual = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="factual_claim")
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    # The sentence the clean model is surest is a factual claim (held out), now gold "opinion".
    held_out = dict(
        Prediction.objects.filter(model_version=clean).values_list(
            "sentence_id", "held_out_probabilities"
        )
    )
    candidates = [s for s, y in zip(ids, labels, strict=True) if y == FACTUAL]
    flipped = max(candidates, key=lambda s: held_out[s]["factual_claim"])
    GoldLabel.objects.filter(sentence_id=flipped).update(choice=opinion)
    assert OPINION != FACTUAL
    request_training(corpus=corpus, unit=CLAIM)

    issues = label_issues(corpus, Layer.CLAIM_TYPE, None)

    gold_issues = [i for i in issues if i.source == "gold"]
    assert flipped in [i.sentence_id for i in gold_issues]
    issue = next(i for i in gold_issues if i.sentence_id == flipped)
    assert (issue.given, issue.suggested) == ("opinion", "factual_claim")
    # The annotator's own label of that sentence still says factual claim: not flagged.
    assert not [i for i in issues if i.source == "annotation" and i.sentence_id == flipped]
    assert factual.pk != opinion.pk
    # The generated corpus gives 15 % of sentences the wording of a random class, so about 11 %
    # of its labels really disagree with their text; the filter flags no more than that.
    assert len(gold_issues) < len(ids) * 0.15


def test_label_issues_are_empty_without_a_trained_model(corpus: Corpus) -> None:
    assert label_issues(corpus, Layer.CLAIM_TYPE, None) == []


def test_hidden_suggestions_are_deterministic_and_about_the_share(
    make_corpus: Callable[..., Corpus],
) -> None:
    corpus = make_corpus(suggestion_control_share=0.2)
    hidden = [suggestion_is_hidden(i, corpus) for i in range(10_000)]
    assert hidden == [suggestion_is_hidden(i, corpus) for i in range(10_000)]
    assert 0.18 < sum(hidden) / len(hidden) < 0.22
    other = make_corpus(suggestion_control_share=0.2)
    assert hidden != [suggestion_is_hidden(i, other) for i in range(10_000)]
    corpus.suggestion_control_share = 0
    assert not any(suggestion_is_hidden(i, corpus) for i in range(1000))


def test_save_label_records_the_suggestion_in_its_one_statement(
    corpus: Corpus,
    make_article: Callable,
    annotator: AbstractUser,
    assign: Callable,
    django_assert_num_queries: Callable,
) -> None:
    article = make_article(corpus=corpus)
    assign(article=article, annotator=annotator)
    sentence = Sentence.objects.select_related("article").filter(article=article).first()
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    factual = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="factual_claim")
    version = ModelVersion.objects.create(
        corpus=corpus, layer=Layer.CLAIM_TYPE, version="1", number=1
    )
    seen = SuggestionSeen(visible=True, choice_id=factual.pk, model_version_id=version.pk)
    save_label(
        sentence=sentence, annotator=annotator, layer=Layer.CLAIM_TYPE, target=None,
        choice=factual, suggestion=seen,
    )  # fmt: skip
    with django_assert_num_queries(1):
        save_label(
            sentence=sentence, annotator=annotator, layer=Layer.CLAIM_TYPE, target=None,
            choice=opinion, suggestion=seen,
        )  # fmt: skip
    row = Annotation.objects.get(sentence=sentence)
    assert (row.choice, row.suggestion_visible, row.suggested_choice, row.suggestion_model) == (
        opinion,
        True,
        factual,
        version,
    )
    # A later save without a suggestion keeps what was seen when it was labelled.
    save_label(
        sentence=sentence, annotator=annotator, layer=Layer.CLAIM_TYPE, target=None,
        choice=factual,
    )  # fmt: skip
    row.refresh_from_db()
    assert (row.suggestion_visible, row.suggested_choice_id) == (True, factual.pk)


def test_anchoring_statistics_compare_visible_with_hidden_suggestions(
    corpus: Corpus, make_article: Callable, make_member: Callable
) -> None:
    article = make_article(
        corpus=corpus, text=" ".join(f"Sentence number {i} is here." for i in range(20))
    )
    sentences = list(article.sentences.order_by("ordinal"))
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    factual = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="factual_claim")
    user = make_member(corpus=corpus)
    # Visible: 9 of 10 chose the suggestion; hidden: 5 of 10 would have.
    for i, sentence in enumerate(sentences):
        visible = i < 10
        agreed = i < 9 if visible else i < 15
        Annotation.objects.create(
            sentence=sentence,
            annotator=user,
            layer=Layer.CLAIM_TYPE,
            choice=opinion if agreed else factual,
            suggestion_visible=visible,
            suggested_choice=opinion,
        )

    (claim,) = assisting.anchoring_statistics(corpus)

    assert claim["label"] == "Claim type"
    assert (claim["visible"]["successes"], claim["visible"]["trials"]) == (9, 10)
    assert (claim["hidden"]["successes"], claim["hidden"]["trials"]) == (5, 10)
    assert claim["difference"] == pytest.approx(0.4)
    low, high = claim["difference_interval"]
    assert low < 0.4 < high


def test_retraining_waits_for_enough_new_labels(
    learnable: tuple[Corpus, list[int], list[int], AbstractUser],
) -> None:
    corpus, ids, _, _ = learnable
    corpus.retrain_every = 500
    ArticleStats.objects.bulk_create(
        ArticleStats(article=a, corpus=corpus, labels=400) for a in corpus.articles.all()[:1]
    )
    assert assisting.retrain_if_due(corpus) == []
    ArticleStats.objects.filter(corpus=corpus).update(labels=600)
    versions = assisting.retrain_if_due(corpus)
    assert [v.layer for v in versions] == [Layer.CLAIM_TYPE, Layer.STANCE]
    assert versions[0].labels_seen == 600
    # The same labels do not trigger another round.
    assert assisting.retrain_if_due(corpus) == []
    corpus.retrain_every = 0
    assert assisting.retrain_if_due(corpus) == []


# --- external predictions ------------------------------------------------------------------------


def _records(*rows: dict) -> list[PredictionRecord]:
    return [PredictionRecord(data=row, line=number) for number, row in enumerate(rows, start=1)]


def test_external_predictions_name_sentences_by_id_or_by_article_and_index(
    corpus: Corpus, make_article: Callable
) -> None:
    article = make_article(corpus=corpus, external_id="a1.txt")
    first, second = article.sentences.order_by("ordinal")[:2]
    target = corpus.stance_targets.get()
    model = {"model": "roberta-claims", "model_version": "2024-05"}

    summary = import_predictions(
        corpus=corpus,
        by=None,
        records=_records(
            {"sentence": first.pk, "layer": "claim_type", "label": "opinion", "score": 0.7,
             **model},
            {"article": "a1.txt", "sentence_index": 1, "layer": "claim_type",
             "label": "factual_claim", "score": 0.9,
             "probabilities": {"factual_claim": 0.9, "opinion": 0.1}, **model},
            {"sentence": first.pk, "layer": "stance", "target": target.slug, "label": "favor",
             "score": 0.6, **model},
        ),
    )  # fmt: skip

    assert (summary.created, summary.updated) == (3, 0)
    version = ModelVersion.objects.get(name="roberta-claims", layer=Layer.CLAIM_TYPE)
    assert (version.kind, version.version, version.status) == (
        ModelKind.EXTERNAL,
        "2024-05",
        ModelStatus.DONE,
    )
    assert Prediction.objects.get(model_version=version, sentence=second).probabilities == {
        "factual_claim": 0.9,
        "opinion": 0.1,
    }
    # Posting the same version again replaces its prediction of the sentence.
    again = import_predictions(
        corpus=corpus,
        by=None,
        records=_records(
            {"sentence": first.pk, "layer": "claim_type", "label": "not_a_claim", "score": 0.5,
             **model}
        ),
    )  # fmt: skip
    assert (again.created, again.updated) == (0, 1)
    assert Prediction.objects.get(model_version=version, sentence=first).choice.value == (
        "not_a_claim"
    )


def test_bad_predictions_are_all_reported_with_line_and_field_and_nothing_is_stored(
    corpus: Corpus, make_article: Callable, make_corpus: Callable
) -> None:
    article = make_article(corpus=corpus, external_id="a1.txt")
    sentence = article.sentences.first()
    elsewhere = make_article(corpus=make_corpus()).sentences.first()
    good = {"sentence": sentence.pk, "layer": "claim_type", "label": "opinion", "score": 0.5,
            "model": "m", "model_version": "1"}  # fmt: skip
    lines = [
        b'{"sentence": 1,',
        _json({**good}),
        _json({**good, "label": "favor"}),
        _json({**good, "score": 1.5}),
        _json({**good, "sentence": elsewhere.pk}),
        _json({**good, "layer": "stance", "target": "nobody"}),
        _json({**good, "sentence": None, "article": "a1.txt", "sentence_index": 99}),
        _json({**good, "model": ""}),
        _json({**good, "colour": "red"}),
        _json({**good, "layer": "stance", "target": ["a", "list"]}),
        _json({**good, "probabilities": ["opinion"]}),
        _json({**good, "probabilities": {"favor": 0.5}}),
        _json({**good, "probabilities": {"opinion": 1.5}}),
        _json({**good, "probabilities": {"opinion": True}}),
    ]

    with pytest.raises(PredictionsRejected) as rejected:
        import_predictions(
            corpus=corpus,
            by=None,
            records=assisting.read_jsonl(lines, source="predictions.jsonl", max_lines=None),
        )

    reported = [(p.line, p.field) for p in rejected.value.problems]
    assert reported == [
        (1, "line"),
        (3, "label"),
        (4, "score"),
        (5, "sentence"),
        (6, "target"),
        (7, "sentence_index"),
        (8, "model"),
        (9, "colour"),
        (10, "target"),
        (11, "probabilities"),
        (12, "probabilities"),
        (13, "probabilities"),
        (14, "probabilities"),
    ]
    assert "predictions.jsonl:3: label: must be one of" in str(rejected.value.problems[1])
    assert not Prediction.objects.exists() and not ModelVersion.objects.exists()


def test_the_same_sentence_twice_in_one_import_is_refused(
    corpus: Corpus, make_article: Callable
) -> None:
    sentence = make_article(corpus=corpus).sentences.first()
    row = {"sentence": sentence.pk, "layer": "claim_type", "label": "opinion", "score": 0.5,
           "model": "m", "model_version": "1"}  # fmt: skip
    with pytest.raises(PredictionsRejected) as rejected:
        import_predictions(corpus=corpus, records=_records(row, row), by=None)
    (problem,) = rejected.value.problems
    assert (problem.line, problem.field) == (2, "sentence")
    assert "first at line 1" in problem.reason


def _json(row: dict) -> bytes:
    import json

    return json.dumps(row).encode()


def test_probabilities_of_a_stored_trained_model_match_its_predictions(
    learnable: tuple[Corpus, list[int], list[int], AbstractUser],
) -> None:
    from annotator.modelling import TrainedModel

    corpus, ids, _, _ = learnable
    version = request_training(corpus=corpus, unit=CLAIM)
    version = ModelVersion.objects.get(pk=version.pk)
    model = TrainedModel.from_bytes(bytes(version.model_bytes))
    sentence = Sentence.objects.get(pk=ids[0])
    stored = Prediction.objects.get(model_version=version, sentence=sentence)
    last = Sentence.objects.filter(article=sentence.article).count() - 1
    (row,) = model.predict_proba(
        [sentence.text], positions=[sentence.ordinal / last], zones=[sentence.zone]
    )
    classes = ("factual_claim", "opinion", "user_comment", "not_a_claim")
    assert np.allclose(row, [stored.probabilities[c] for c in classes], atol=1e-4)


def test_finishing_an_article_queues_retraining_once_enough_labels_came_in(
    make_corpus: Callable[..., Corpus],
    make_article: Callable,
    make_member: Callable,
    django_assert_num_queries: Callable,
) -> None:
    from annotator.assigning import finish_assignment
    from annotator.models import Assignment

    corpus = make_corpus(retrain_every=3)
    user = make_member(corpus=corpus)
    article = make_article(corpus=corpus)  # three sentences
    assignment = Assignment.objects.create(article=article, annotator=user)
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    for sentence in Sentence.objects.select_related("article").filter(article=article):
        save_label(
            sentence=sentence, annotator=user, layer=Layer.CLAIM_TYPE, target=None, choice=opinion
        )
    assignment = Assignment.objects.select_related("article__corpus").get(pk=assignment.pk)

    assert finish_assignment(assignment=assignment) == []

    # Too few labels to learn from: the versions are there, failed with what is missing.
    versions = ModelVersion.objects.filter(corpus=corpus)
    assert {(v.layer, v.status, v.labels_seen) for v in versions} == {
        (Layer.CLAIM_TYPE, ModelStatus.FAILED, 3),
        (Layer.STANCE, ModelStatus.FAILED, 3),
    }


def test_finishing_in_a_corpus_that_never_retrains_adds_no_query(
    corpus: Corpus, make_article: Callable, annotator: AbstractUser
) -> None:
    from annotator.assigning import _retrain_if_due

    assert corpus.retrain_every == 0
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _retrain_if_due(corpus)
    assert len(queries) == 0


def test_the_commands_import_predictions_and_train(
    corpus: Corpus, make_article: Callable, tmp_path: object
) -> None:
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError

    sentence = make_article(corpus=corpus, external_id="a1.txt").sentences.first()
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps(
            {"article": "a1.txt", "sentence_index": 0, "layer": "claim_type", "label": "opinion",
             "score": 0.9, "model": "m", "model_version": "7"}
        )
        + "\n"
    )  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sentence": "x"}\n')
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 bad line"):
        call_command("import_predictions", corpus.slug, str(bad), stdout=out, stderr=io.StringIO())
    assert f"{bad}:1: sentence: must be a sentence id" in out.getvalue()

    out = io.StringIO()
    call_command("import_predictions", corpus.slug, str(good), stdout=out, stderr=io.StringIO())
    assert "Stored 1 new prediction(s), replaced 0." in out.getvalue()
    assert Prediction.objects.get().sentence == sentence

    out = io.StringIO()
    call_command("train_model", corpus.slug, "--layer", "claim_type", "--now", stdout=out)
    assert "Claim type: version 1 failed: Needs" in out.getvalue()


def test_who_may_train_and_import_predictions_is_decided_here(
    corpus: Corpus,
    manager: AbstractUser,
    curator: AbstractUser,
    annotator: AbstractUser,
    make_article: Callable,
) -> None:
    # The rule every entry point relies on: web, API and commands pass the person (or None).
    for person in (curator, annotator):
        with pytest.raises(assisting.AssistanceRefused, match="Only managers of corpus 'korea'"):
            request_training(corpus=corpus, unit=CLAIM, requested_by=person)
    assert not ModelVersion.objects.exists()
    request_training(corpus=corpus, unit=CLAIM, requested_by=manager)
    request_training(corpus=corpus, unit=CLAIM)  # the command line
    assert ModelVersion.objects.count() == 2

    sentence = make_article(corpus=corpus).sentences.first()
    record = prediction_record(sentence=sentence.pk)
    with pytest.raises(assisting.AssistanceRefused, match="managers and curators"):
        import_predictions(corpus=corpus, records=_records(record), by=annotator)
    assert not Prediction.objects.exists()
    for person in (curator, manager, None):
        import_predictions(corpus=corpus, records=_records(record), by=person)
    assert Prediction.objects.count() == 1
