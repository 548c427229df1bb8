"""Uncertainty-first assignment: "Next article" prefers the articles the newest models are least
sure about, with the fairness and concurrency rules of assigning.py unchanged; and the stored
per-article uncertainty it orders by (uncertainty.refresh_article_uncertainty)."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from django.db.models import Count

from annotator.assigning import assign_articles, next_assignment, skip_assignment
from annotator.assisting import PredictionRecord, import_predictions, request_training
from annotator.curating import Unit
from annotator.models import (
    ArticleUncertainty,
    Assignment,
    AssignmentOrder,
    AssignmentStatus,
    Layer,
    ModelStatus,
    Role,
)
from annotator.uncertainty import refresh_article_uncertainty
from tests.assist_corpus import load_generated
from tests.assist_data import model_version, predict
from tests.claim_corpus import generate_corpus
from tests.concurrency import next_article_at_once

CLAIM_VALUES = ("factual_claim", "opinion", "user_comment", "not_a_claim")


def generated_corpus(make_corpus, make_article, *, articles=12, seed=7, **fields):
    """Articles of three sentences each with claim-type predictions whose certainty differs by
    article, at random (a fixed seed), so uncertainty order is not import order."""
    corpus = make_corpus(**fields)
    version = model_version(corpus)
    rng = random.Random(seed)
    made = []
    for n in range(articles):
        article = make_article(corpus=corpus, text=f"Article {n} one. It has two. And three.")
        top = rng.uniform(0.3, 0.97)
        for sentence in article.sentences.all():
            rest = (1 - top) / 3
            probabilities = dict.fromkeys(CLAIM_VALUES, rest) | {"opinion": top}
            predict(version, sentence, "opinion", top, probabilities=probabilities)
        made.append((article, top))
    refresh_article_uncertainty(corpus=corpus)
    return corpus, made


def order_taken(corpus, annotator, count):
    """The articles one annotator gets from "Next article", finishing each at once."""
    taken = []
    for _ in range(count):
        assignment = next_assignment(corpus=corpus, annotator=annotator)
        if assignment is None:
            break
        Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.DONE)
        taken.append(assignment.article_id)
    return taken


def test_uncertainty_order_changes_the_assignment_order(make_corpus, make_member, make_article):
    fair_corpus, fair_articles = generated_corpus(make_corpus, make_article)
    unsure_corpus, unsure_articles = generated_corpus(
        make_corpus, make_article, assignment_order=AssignmentOrder.UNCERTAINTY
    )
    fair = order_taken(fair_corpus, make_member(corpus=fair_corpus), 12)
    unsure = order_taken(unsure_corpus, make_member(corpus=unsure_corpus), 12)

    assert fair == [article.pk for article, _ in fair_articles]  # import order
    least_sure_first = [a.pk for a, top in sorted(unsure_articles, key=lambda pair: pair[1])]
    assert unsure == least_sure_first
    # The generated certainties are not in import order, so the orders really differ.
    assert unsure != [article.pk for article, _ in unsure_articles]


def test_articles_others_started_still_come_first(make_corpus, make_member, make_article):
    corpus, made = generated_corpus(
        make_corpus, make_article, annotators_per_article=2, assignment_order="uncertainty"
    )
    first, second = make_member(corpus=corpus), make_member(corpus=corpus)
    surest = max(made, key=lambda pair: pair[1])[0]
    assign_articles(corpus=corpus, articles=[surest], annotator=first, assigned_by=None)
    assert next_assignment(corpus=corpus, annotator=second).article == surest


def test_never_the_same_article_twice_and_never_over_capacity(
    make_corpus, make_member, make_article
):
    corpus, made = generated_corpus(
        make_corpus,
        make_article,
        articles=3,
        annotators_per_article=1,
        assignment_order="uncertainty",
    )
    first, second = make_member(corpus=corpus), make_member(corpus=corpus)
    assignment = next_assignment(corpus=corpus, annotator=first)
    least_sure = min(made, key=lambda pair: pair[1])[0]
    assert assignment.article == least_sure
    # The place is taken (one annotator per article): the second annotator gets another one.
    assert next_assignment(corpus=corpus, annotator=second).article != least_sure
    # Skipped articles are not handed back to the one who skipped them.
    skip_assignment(assignment=assignment, reason="not today")
    assert next_assignment(corpus=corpus, annotator=first).article != least_sure


def test_articles_without_predictions_come_after_scored_ones(
    make_corpus, make_member, make_article
):
    corpus = make_corpus(assignment_order=AssignmentOrder.UNCERTAINTY)
    unscored = make_article(corpus=corpus, text="No model has seen this.")
    scored = make_article(corpus=corpus, text="The model is sure of this.")
    predict(model_version(corpus), scored.sentences.get(), "opinion", 0.99)
    refresh_article_uncertainty(corpus=corpus)
    assert order_taken(corpus, make_member(corpus=corpus), 2) == [scored.pk, unscored.pk]


def test_stored_uncertainty_uses_the_newest_finished_version_and_every_layer(
    make_corpus, make_article
):
    corpus = make_corpus()
    article = make_article(corpus=corpus, text="One sentence only.")
    sentence = article.sentences.get()
    old = model_version(corpus)
    new = model_version(corpus)
    running = model_version(corpus, status=ModelStatus.RUNNING)
    uniform = dict.fromkeys(CLAIM_VALUES, 0.25)
    predict(old, sentence, "opinion", 0.25, probabilities=uniform)
    predict(new, sentence, "opinion", 1.0, probabilities={"opinion": 1.0})
    predict(running, sentence, "opinion", 0.25, probabilities=uniform)
    assert refresh_article_uncertainty(corpus=corpus) == 1
    row = ArticleUncertainty.objects.get()
    assert (row.mean_entropy, row.mean_dispute, row.predictions) == (0.0, 0.0, 1)

    # An external stance model that sent only its label and score: the score on its label,
    # the rest spread evenly (0.5, 0.25, 0.25 over three stances).
    target = corpus.stance_targets.get()
    stance = model_version(corpus, layer=Layer.STANCE, target=target)
    predict(stance, sentence, "favor", 0.5)
    refresh_article_uncertainty(corpus=corpus)
    row = ArticleUncertainty.objects.get()
    stance_entropy = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)) / math.log(3)
    assert row.predictions == 2
    assert row.mean_entropy == pytest.approx(stance_entropy / 2)
    assert row.mean_dispute == pytest.approx((1 - (0.25 + 2 * 0.0625)) / 2)

    # Predictions gone: the score goes too.
    stance.delete()
    new.delete()
    old.delete()
    assert refresh_article_uncertainty(corpus=corpus) == 0
    assert not ArticleUncertainty.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_overfill_or_repeat_in_uncertainty_order(
    make_corpus, make_member, make_article
):
    corpus, made = generated_corpus(
        make_corpus,
        make_article,
        articles=6,
        annotators_per_article=2,
        assignment_order=AssignmentOrder.UNCERTAINTY,
    )
    annotators = [make_member(corpus=corpus, role=Role.ANNOTATOR) for _ in range(8)]
    next_article_at_once(corpus, annotators)

    per_article = Counter(dict(Assignment.objects.values_list("article").annotate(n=Count("pk"))))
    assert max(per_article.values()) <= 2
    pairs = list(Assignment.objects.values_list("article", "annotator"))
    assert len(pairs) == len(set(pairs))
    assert sum(per_article.values()) == 12  # 6 articles x 2 places, all filled


@pytest.mark.parametrize("named", [True, False], ids=["articles named", "whole corpus"])
def test_imported_predictions_refresh_the_uncertainty_of_the_articles_they_touch(
    make_corpus, make_article, monkeypatch, named
):
    from annotator import assisting

    if not named:  # an import too big to name its sentences refreshes the whole corpus
        monkeypatch.setattr(assisting, "_NAMED_SENTENCES", 0)
    corpus = make_corpus()
    touched = make_article(corpus=corpus, text="Touched by the import.")
    other = make_article(corpus=corpus, text="Scored before.")
    predict(model_version(corpus), other.sentences.get(), "opinion", 0.9)
    refresh_article_uncertainty(corpus=corpus)
    before = ArticleUncertainty.objects.get(article=other).computed_at

    import_predictions(
        corpus=corpus,
        by=None,
        records=[
            PredictionRecord(
                data={
                    "sentence": touched.sentences.get().pk,
                    "layer": "claim_type",
                    "label": "opinion",
                    "score": 0.5,
                    "probabilities": {"opinion": 0.5, "factual_claim": 0.5},
                    "model": "claims-net",
                    "model_version": "1",
                },
                line=1,
            )
        ],
    )
    row = ArticleUncertainty.objects.get(article=touched)
    assert row.mean_entropy == pytest.approx(math.log(2) / math.log(4))
    # Named: the import touched one article only, the other kept its row as it was.
    assert (ArticleUncertainty.objects.get(article=other).computed_at == before) is named


def test_a_trained_model_orders_next_article_by_its_uncertainty(corpus, make_member):
    """End to end on the generated corpus: train the baseline (the background task runs it in
    tests), and "Next article" then hands out the article it is least sure about."""
    generated = generate_corpus(n_articles=40, seed=3)
    labeller = make_member(corpus=corpus, role=Role.ANNOTATOR)
    curator = make_member(corpus=corpus, role=Role.CURATOR)
    load_generated(corpus, generated, annotators=[labeller], gold_by=curator)
    version = request_training(corpus=corpus, unit=Unit(layer=Layer.CLAIM_TYPE, target=None))
    version.refresh_from_db()
    assert version.status == ModelStatus.DONE, version.error

    scores = dict(ArticleUncertainty.objects.values_list("article_id", "mean_entropy"))
    assert len(scores) == 40
    fresh = make_member(corpus=corpus)
    fair_first = next_assignment(corpus=corpus, annotator=fresh).article_id
    Assignment.objects.filter(annotator=fresh).delete()
    corpus.assignment_order = AssignmentOrder.UNCERTAINTY
    corpus.save(update_fields=["assignment_order"])
    unsure_first = next_assignment(corpus=corpus, annotator=fresh).article_id
    assert unsure_first == max(scores, key=scores.get)
    assert fair_first == min(scores)  # import order
    assert unsure_first != fair_first
