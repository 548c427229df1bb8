"""Tests of `annotator.modelling`: no database, generated corpora (`tests/claim_corpus.py`).

The corpora are large enough to learn from (about 4,500 sentences in 150 articles) and are
trained once per module. Interval methods are checked against published worked examples;
confident learning against the paper's rule worked by hand and against cleanlab on the same
arrays (cleanlab is a test-only dependency, never imported by the application).
"""

from __future__ import annotations

import ast
import io
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
from cleanlab.count import get_confident_thresholds
from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
from sklearn.metrics import confusion_matrix, f1_score

from annotator import modelling
from annotator.modelling import (
    Minimums,
    ModelSettings,
    NotEnoughData,
    TrainedModel,
    anchoring_effect,
    article_uncertainty,
    check_training_data,
    confident_thresholds,
    dispute,
    entropy,
    find_label_issues,
    fit,
    newcombe_interval,
    train,
    wilson_interval,
)
from tests.claim_corpus import (
    CLASS_NAMES,
    COMMENT,
    FACTUAL,
    OPINION,
    GeneratedCorpus,
    generate_corpus,
    make_sentence,
)

DISPLAY_NAMES = ("Factual claim", "Opinion", "User comment", "Not a claim")


@pytest.fixture(scope="module")
def corpus() -> GeneratedCorpus:
    return generate_corpus(n_articles=150, seed=5)


@pytest.fixture(scope="module")
def trained(corpus: GeneratedCorpus) -> modelling.TrainingResult:
    return train(
        corpus.texts,
        corpus.labels,
        corpus.groups,
        class_names=CLASS_NAMES,
        zones=corpus.zones,
        positions=corpus.positions,
    )


@pytest.fixture(scope="module")
def flipped(
    corpus: GeneratedCorpus, trained: modelling.TrainingResult
) -> tuple[list[int], list[int], modelling.TrainingResult]:
    """The corpus with ten clear factual claims, in ten articles, relabelled as opinions."""
    labels = list(corpus.labels)
    chosen: list[int] = []
    seen_articles: set[str] = set()
    for index in np.argsort(-trained.out_of_fold[:, FACTUAL], kind="stable"):
        article = corpus.groups[index]
        if labels[index] == FACTUAL and article not in seen_articles:
            chosen.append(int(index))
            seen_articles.add(article)
        if len(chosen) == 10:
            break
    for index in chosen:
        labels[index] = OPINION
    result = train(
        corpus.texts,
        labels,
        corpus.groups,
        class_names=CLASS_NAMES,
        zones=corpus.zones,
        positions=corpus.positions,
    )
    return labels, chosen, result


# --- the module stays pure ---------------------------------------------------------------------


def test_modelling_module_does_not_import_django() -> None:
    tree = ast.parse(Path(modelling.__file__).read_text(encoding="utf-8"))
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert "sklearn.linear_model" in imported
    assert not [name for name in imported if name.split(".")[0] in {"django", "cleanlab"}]


# --- training and evaluation -------------------------------------------------------------------


def test_model_beats_both_baselines_by_a_clear_margin_on_a_corpus_with_signal(
    trained: modelling.TrainingResult,
) -> None:
    evaluation = trained.evaluation
    best_baseline = max(evaluation.majority_macro_f1, evaluation.stratified_macro_f1)
    assert evaluation.macro_f1 > best_baseline + 0.3
    assert evaluation.beats_baselines
    assert evaluation.gain_interval[0] > 0.3
    low, high = evaluation.macro_f1_interval
    assert low <= evaluation.macro_f1 <= high
    assert high - low < 0.1


@pytest.mark.slow
def test_model_does_not_beat_chance_on_a_corpus_without_signal() -> None:
    noise = generate_corpus(n_articles=150, signal=0.0, seed=6)
    evaluation = train(noise.texts, noise.labels, noise.groups, class_names=CLASS_NAMES).evaluation
    assert not evaluation.beats_baselines
    assert evaluation.gain < 0.05
    # Macro-F1 punishes the majority baseline: guessing in proportion beats it with no signal.
    assert evaluation.stratified_macro_f1 > evaluation.majority_macro_f1


def test_scores_and_confusion_match_scikit_learn_on_the_out_of_fold_predictions(
    corpus: GeneratedCorpus, trained: modelling.TrainingResult
) -> None:
    predicted = trained.out_of_fold.argmax(axis=1)
    evaluation = trained.evaluation
    assert evaluation.macro_f1 == pytest.approx(f1_score(corpus.labels, predicted, average="macro"))
    per_class = f1_score(corpus.labels, predicted, average=None, labels=range(4))
    assert [score.f1 for score in evaluation.per_class] == pytest.approx(per_class.tolist())
    assert np.array_equal(
        np.array(evaluation.confusion), confusion_matrix(corpus.labels, predicted, labels=range(4))
    )
    assert [score.support for score in evaluation.per_class] == np.bincount(corpus.labels).tolist()
    assert evaluation.n_sentences == len(corpus.texts)
    assert evaluation.n_articles == len(set(corpus.groups))
    for score in evaluation.per_class:
        assert score.f1_interval is not None
        assert score.f1_interval[0] <= score.f1 <= score.f1_interval[1]


def test_no_article_is_in_two_folds(
    corpus: GeneratedCorpus, trained: modelling.TrainingResult
) -> None:
    folds_of: dict[str, set[int]] = {}
    for group, fold in zip(corpus.groups, trained.folds.tolist(), strict=True):
        folds_of.setdefault(group, set()).add(fold)
    assert all(len(folds) == 1 for folds in folds_of.values())
    assert sorted(set(trained.folds.tolist())) == list(range(trained.evaluation.n_folds))
    assert trained.evaluation.n_folds == 5


def test_out_of_fold_probabilities_come_from_a_model_that_never_saw_the_article(
    corpus: GeneratedCorpus, trained: modelling.TrainingResult
) -> None:
    held_out = trained.folds == 2
    rest = np.flatnonzero(~held_out)
    model = fit(
        [corpus.texts[i] for i in rest],
        [corpus.labels[i] for i in rest],
        class_names=CLASS_NAMES,
        zones=[corpus.zones[i] for i in rest],
        positions=[corpus.positions[i] for i in rest],
    )
    test = np.flatnonzero(held_out)
    again = model.predict_proba(
        [corpus.texts[i] for i in test],
        zones=[corpus.zones[i] for i in test],
        positions=[corpus.positions[i] for i in test],
    )
    assert np.array_equal(again, trained.out_of_fold[test])


@pytest.mark.slow
def test_zone_and_position_features_help_find_reader_comments(corpus: GeneratedCorpus) -> None:
    without = train(corpus.texts, corpus.labels, corpus.groups, class_names=CLASS_NAMES)
    with_zones = train(
        corpus.texts,
        corpus.labels,
        corpus.groups,
        class_names=CLASS_NAMES,
        zones=corpus.zones,
        positions=corpus.positions,
    )
    comment_f1 = [result.evaluation.per_class[COMMENT].f1 for result in (without, with_zones)]
    assert comment_f1[1] > comment_f1[0] + 0.02
    assert with_zones.model.uses_zones and not without.model.uses_zones


def test_article_bootstrap_is_wider_than_a_sentence_bootstrap_when_articles_differ() -> None:
    # 40 articles of 50 sentences: the model is right on 30 whole articles and wrong on 10.
    labels = np.tile(np.repeat([0, 1], 25), 40)
    groups = np.repeat(np.arange(40), 50)
    predicted = np.where(groups < 30, labels, 1 - labels)
    flat = np.full((len(labels), 2), 0.5)
    names = ("a", "b")
    settings = ModelSettings()
    by_article = modelling._evaluate(
        labels, predicted, np.zeros_like(labels), flat, groups, names, 5, settings
    )
    by_sentence = modelling._evaluate(
        labels, predicted, np.zeros_like(labels), flat, np.arange(len(labels)), names, 5, settings
    )
    assert by_article.macro_f1 == by_sentence.macro_f1 == pytest.approx(0.75)
    article_width = np.subtract(*by_article.macro_f1_interval[::-1])
    sentence_width = np.subtract(*by_sentence.macro_f1_interval[::-1])
    assert article_width > 3 * sentence_width


@pytest.mark.slow
def test_training_is_reproducible(
    corpus: GeneratedCorpus, trained: modelling.TrainingResult
) -> None:
    again = train(
        corpus.texts,
        corpus.labels,
        corpus.groups,
        class_names=CLASS_NAMES,
        zones=corpus.zones,
        positions=corpus.positions,
    )
    assert again.evaluation == trained.evaluation
    assert np.array_equal(again.out_of_fold, trained.out_of_fold)


# --- the trained model -------------------------------------------------------------------------


def test_predictions_are_distributions_over_the_schema_and_predict_is_their_argmax(
    trained: modelling.TrainingResult,
) -> None:
    texts = [make_sentence(random.Random(i), i % 4) for i in range(200)]
    probabilities = trained.model.predict_proba(texts)
    assert probabilities.shape == (200, 4)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.array_equal(trained.model.predict(texts), probabilities.argmax(axis=1))
    # Sentences carrying a class's cue are mostly predicted as that class.
    assert (trained.model.predict(texts) == np.arange(200) % 4).mean() > 0.8


def test_bytes_round_trip_gives_identical_predictions(
    corpus: GeneratedCorpus, trained: modelling.TrainingResult
) -> None:
    stored = trained.model.to_bytes()
    loaded = TrainedModel.from_bytes(stored)
    kwargs = {"zones": corpus.zones[:500], "positions": corpus.positions[:500]}
    assert np.array_equal(
        loaded.predict_proba(corpus.texts[:500], **kwargs),
        trained.model.predict_proba(corpus.texts[:500], **kwargs),
    )
    assert loaded.class_names == CLASS_NAMES
    assert loaded.settings == trained.model.settings
    assert (loaded.uses_zones, loaded.uses_positions, loaded.n_trained) == (
        True,
        True,
        len(corpus.texts),
    )
    assert loaded.to_bytes() == stored


def test_from_bytes_refuses_what_it_did_not_write(trained: modelling.TrainingResult) -> None:
    stored = trained.model.to_bytes()
    with pytest.raises(ValueError, match="not a stored model"):
        TrainedModel.from_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a stored model"):
        TrainedModel.from_bytes(stored[: len(stored) // 2])
    with pytest.raises(ValueError, match="not a stored model"):
        TrainedModel.from_bytes(pickle.dumps(trained.model))
    # A well-formed archive whose arrays do not fit together.
    with np.load(io.BytesIO(stored)) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["columns"] = arrays["columns"][:-1]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ValueError, match="do not fit together"):
        TrainedModel.from_bytes(buffer.getvalue())
    # An object array would need pickle to load; loading refuses it rather than unpickling.
    arrays = {"meta": np.array([object()], dtype=object)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ValueError, match="not a stored model"):
        TrainedModel.from_bytes(buffer.getvalue())


def test_a_class_nobody_labelled_gets_probability_zero() -> None:
    texts = [make_sentence(random.Random(i), i % 2) for i in range(300)]
    labels = [[FACTUAL, OPINION][i % 2] for i in range(300)]
    model = fit(texts, labels, class_names=CLASS_NAMES)
    probabilities = model.predict_proba(texts[:50])
    assert probabilities.shape == (50, 4)
    assert np.all(probabilities[:, [COMMENT, 3]] == 0)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (model.predict(texts) == np.array(labels)).mean() > 0.9
    assert TrainedModel.from_bytes(model.to_bytes()).predict(texts[:50]).tolist() == (
        model.predict(texts[:50]).tolist()
    )


def test_predicting_nothing_gives_an_empty_answer(trained: modelling.TrainingResult) -> None:
    assert trained.model.predict_proba([]).shape == (0, 4)
    assert trained.model.predict([], zones=[], positions=[]).tolist() == []


def test_a_fold_with_a_single_class_predicts_it_with_certainty() -> None:
    model = fit(["one sentence", "another one"], [OPINION, OPINION], class_names=CLASS_NAMES)
    assert model.predict_proba(["anything at all"]).tolist() == [[0.0, 1.0, 0.0, 0.0]]
    assert TrainedModel.from_bytes(model.to_bytes()).predict(["x"]).tolist() == [OPINION]


def test_bad_input_names_the_field_and_position() -> None:
    texts = ["a sentence", "another"]
    with pytest.raises(ValueError, match=r"labels\[1\] is 7, not a class index 0..3"):
        fit(texts, [0, 7], class_names=CLASS_NAMES)
    with pytest.raises(ValueError, match=r"labels\[0\] is 'opinion', not a class index"):
        fit(texts, ["opinion", 1], class_names=CLASS_NAMES)  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"zones\[1\] is 'sidebar', not one of body"):
        fit(texts, [0, 1], class_names=CLASS_NAMES, zones=["body", "sidebar"])
    with pytest.raises(ValueError, match=r"positions\[0\] is 1.5, not a number in \[0, 1\]"):
        fit(texts, [0, 1], class_names=CLASS_NAMES, positions=[1.5, 0.0])
    with pytest.raises(ValueError, match="3 zones for 2 sentences"):
        fit(texts, [0, 1], class_names=CLASS_NAMES, zones=["body"] * 3)
    with pytest.raises(ValueError, match=r"texts\[1\] is NoneType, not str"):
        fit(["a", None], [0, 1], class_names=CLASS_NAMES)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="class names repeat"):
        fit(texts, [0, 1], class_names=("a", "a"))
    with pytest.raises(ValueError, match="3 texts, 2 labels and 2 article keys differ"):
        train([*texts, "x"], [0, 1], ["g", "h"], class_names=CLASS_NAMES)


# --- minimum data ------------------------------------------------------------------------------


def _labelled(counts: dict[int, int], articles: int) -> tuple[list[int], list[str]]:
    labels = [label for label, count in counts.items() for _ in range(count)]
    return labels, [f"article-{i % articles}" for i in range(len(labels))]


def test_enough_data_is_ready() -> None:
    labels, groups = _labelled({FACTUAL: 150, OPINION: 50}, articles=10)
    readiness = check_training_data(labels, groups, class_names=DISPLAY_NAMES, kind="claim types")
    assert readiness.ready
    assert readiness.messages == ()
    assert readiness.class_counts == (150, 50, 0, 0)


def test_too_few_sentences_says_how_many_more() -> None:
    labels, groups = _labelled({FACTUAL: 100, OPINION: 63}, articles=12)
    readiness = check_training_data(labels, groups, class_names=DISPLAY_NAMES, kind="claim types")
    assert not readiness.ready
    assert readiness.more_sentences == 37
    assert readiness.messages == ("Needs 37 more labelled sentences (has 163 of the 200 needed).",)
    labels, groups = _labelled({FACTUAL: 100, OPINION: 99}, articles=12)
    message = check_training_data(labels, groups, class_names=DISPLAY_NAMES).messages[0]
    assert message.startswith("Needs 1 more labelled sentence (")


def test_too_few_articles_and_a_single_class_are_both_reported() -> None:
    labels, groups = _labelled({OPINION: 240, FACTUAL: 4}, articles=7)
    readiness = check_training_data(labels, groups, class_names=DISPLAY_NAMES, kind="claim types")
    assert (readiness.more_articles, readiness.more_classes) == (3, 1)
    assert readiness.messages == (
        "Needs labelled sentences from 3 more articles (has 7 of 10): the model is tested on "
        "articles it was not trained on.",
        "Needs at least 10 examples of at least two claim types (has 4 Factual claim, "
        "240 Opinion).",
    )


def test_nothing_labelled_yet() -> None:
    readiness = check_training_data([], [], class_names=("Favor", "Against"), kind="stances")
    assert readiness.messages[-1] == (
        "Needs at least 10 examples of at least two stances (has no labels yet)."
    )
    assert readiness.more_sentences == 200


def test_train_refuses_below_the_minimums_with_the_same_words(corpus: GeneratedCorpus) -> None:
    with pytest.raises(NotEnoughData) as refused:
        train(corpus.texts[:150], corpus.labels[:150], corpus.groups[:150], class_names=CLASS_NAMES)
    assert refused.value.readiness.more_sentences == 50
    assert str(refused.value).startswith("Needs 50 more labelled sentences")
    smaller = Minimums(sentences=100, articles=3, per_class=5)
    result = train(
        corpus.texts[:150],
        corpus.labels[:150],
        corpus.groups[:150],
        class_names=CLASS_NAMES,
        minimums=smaller,
    )
    assert result.out_of_fold.shape == (150, 4)


# --- uncertainty -------------------------------------------------------------------------------


def test_an_ambiguous_article_comes_first(trained: modelling.TrainingResult) -> None:
    rng = random.Random(11)
    texts: list[str] = []
    groups: list[str] = []
    for article in range(6):
        for _ in range(20):
            # Article 3 has no cue at all: nothing tells its claim types apart.
            texts.append(make_sentence(rng, None if article == 3 else rng.randrange(4)))
            groups.append(f"new-{article}")
    uncertainty = article_uncertainty(trained.model.predict_proba(texts), groups)
    assert uncertainty.groups == tuple(f"new-{i}" for i in range(6))
    assert uncertainty.n_sentences.tolist() == [20] * 6
    assert uncertainty.ranked("entropy")[0] == "new-3"
    assert uncertainty.ranked("dispute")[0] == "new-3"


def test_entropy_and_dispute_scales() -> None:
    p = np.array([[1.0, 0.0, 0.0, 0.0], [0.25] * 4, [0.5, 0.5, 0.0, 0.0]])
    assert entropy(p) == pytest.approx([0.0, 1.0, 0.5])
    assert dispute(p) == pytest.approx([0.0, 0.75, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        entropy(np.array([[0.5, 0.6]]))


# --- labels that look wrong --------------------------------------------------------------------


def test_deliberately_flipped_labels_are_flagged(
    flipped: tuple[list[int], list[int], modelling.TrainingResult],
) -> None:
    labels, chosen, result = flipped
    issues = find_label_issues(labels, result.out_of_fold)
    by_index = {issue.index: issue for issue in issues}
    assert set(chosen) <= set(by_index)
    assert all(by_index[i].given == OPINION and by_index[i].suggested == FACTUAL for i in chosen)
    # The model is sure these are not opinions. (The generator's own noise, sentences carrying
    # another class's cue, fills the rest of the queue, some of it just as surely.)
    assert max(by_index[i].self_confidence for i in chosen) < 0.05
    assert all(by_index[i].margin < -0.9 for i in chosen)
    confidences = [issue.self_confidence for issue in issues]
    assert confidences == sorted(confidences)


def test_the_paper_rule_by_hand() -> None:
    # Thresholds: class 0: (0.9 + 0.8 + 0.1) / 3 = 0.6; class 1: (0.6 + 0.6 + 0.3) / 3 = 0.5;
    # class 2: (0.7 + 0.4) / 2 = 0.55.
    p = np.array(
        [
            [0.9, 0.05, 0.05],  # 0: labelled 0, confident in 0 only
            [0.8, 0.1, 0.1],  # 1: labelled 0
            [0.1, 0.85, 0.05],  # 2: labelled 0, but only 1 is confident -> flagged, suggests 1
            [0.3, 0.6, 0.1],  # 3: labelled 1, confident in 1
            [0.35, 0.6, 0.05],  # 4: labelled 1
            [0.65, 0.3, 0.05],  # 5: labelled 1, 0 confident and top -> flagged, suggests 0
            [0.2, 0.1, 0.7],  # 6: labelled 2
            [0.45, 0.15, 0.4],  # 7: labelled 2, nothing confident -> not flagged
        ]
    )
    labels = [0, 0, 0, 1, 1, 1, 2, 2]
    assert confident_thresholds(labels, p) == pytest.approx([0.6, 0.5, 0.55])
    issues = find_label_issues(labels, p)
    assert [(i.index, i.given, i.suggested) for i in issues] == [(2, 0, 1), (5, 1, 0)]
    assert issues[0].self_confidence == pytest.approx(0.1)
    assert issues[0].margin == pytest.approx(0.1 - 0.85)


def test_thresholds_from_gold_check_individual_annotations() -> None:
    gold = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]])
    thresholds = confident_thresholds([0, 0, 1, 1], gold)
    assert thresholds == pytest.approx([0.85, 0.85])
    # An annotator labelled sentence 0 as class 1: checked against the gold thresholds.
    issues = find_label_issues([1], gold[:1], thresholds=thresholds)
    assert [(i.given, i.suggested) for i in issues] == [(1, 0)]
    assert find_label_issues([0], gold[:1], thresholds=thresholds) == ()


def _documented_difference(labels: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Examples cleanlab flags and Eq. 1 does not: two or more confident classes, the most
    probable class overall not among them, and the given label the best of the confident."""
    confident = p >= confident_thresholds(labels, p) - 1e-6
    top = p.argmax(axis=1)
    best_confident = np.where(confident, p, -np.inf).argmax(axis=1)
    return (
        (confident.sum(axis=1) > 1)
        & ~confident[np.arange(len(p)), top]
        & (best_confident == labels)
    )


def _arrays_to_compare(
    flipped: tuple[list[int], list[int], modelling.TrainingResult],
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    labels, _, result = flipped
    arrays = [("flipped corpus, out-of-fold", np.array(labels), result.out_of_fold)]
    weak = generate_corpus(n_articles=150, signal=0.4, seed=5)
    weak_result = train(weak.texts, weak.labels, weak.groups, class_names=CLASS_NAMES)
    arrays.append(
        ("weak-signal corpus, out-of-fold", np.array(weak.labels), weak_result.out_of_fold)
    )
    rng = np.random.default_rng(0)
    for k in (2, 3, 6):
        p = rng.dirichlet(np.full(k, 0.7), size=5000)
        noisy = rng.integers(0, k, size=5000)
        agree = rng.random(5000) < 0.7
        noisy[agree] = p[agree].argmax(axis=1)
        arrays.append((f"Dirichlet, {k} classes", noisy, p))
    return arrays


@pytest.mark.slow
def test_flags_match_cleanlab_confident_learning_except_the_documented_case(
    flipped: tuple[list[int], list[int], modelling.TrainingResult],
) -> None:
    compared = differed = 0
    for name, labels, p in _arrays_to_compare(flipped):
        ours = np.zeros(len(labels), dtype=bool)
        ours[[issue.index for issue in find_label_issues(labels, p)]] = True
        theirs = cleanlab_find_label_issues(labels, p, filter_by="confident_learning", n_jobs=1)
        difference = _documented_difference(labels, p)
        assert np.array_equal(ours, theirs & ~difference), name
        assert not (ours & difference).any(), name
        assert confident_thresholds(labels, p) == pytest.approx(get_confident_thresholds(labels, p))
        compared += len(labels)
        differed += int((ours != theirs).sum())
    # On these arrays the documented case is rare (a few examples of the weak-signal corpus).
    assert differed < compared / 500


def test_cleanlab_flags_the_documented_case_and_we_do_not() -> None:
    # Thresholds: class 0 (0.95 + 0.85) / 2 = 0.9, class 1 (0.35 + 0.25) / 2 = 0.3, class 2
    # (0.25 + 0.15) / 2 = 0.2. Example 2 is confident in classes 1 and 2 only, 1 the likelier:
    # Eq. 1 counts it on the diagonal (given 1, guess 1). cleanlab guesses class 0, the most
    # probable overall though not confident, and flags it.
    p = np.array(
        [
            [0.95, 0.03, 0.02],
            [0.85, 0.10, 0.05],
            [0.40, 0.35, 0.25],
            [0.60, 0.25, 0.15],
            [0.60, 0.15, 0.25],
            [0.70, 0.15, 0.15],
        ]
    )
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert confident_thresholds(labels, p) == pytest.approx([0.9, 0.3, 0.2])
    theirs = cleanlab_find_label_issues(labels, p, filter_by="confident_learning", n_jobs=1)
    assert np.flatnonzero(theirs).tolist() == [2]
    assert find_label_issues(labels, p) == ()
    assert _documented_difference(labels, p).tolist() == [False, False, True, False, False, False]


def test_ranking_matches_cleanlab_self_confidence_order(
    flipped: tuple[list[int], list[int], modelling.TrainingResult],
) -> None:
    labels, _, result = flipped
    p = result.out_of_fold
    ours = [issue.index for issue in find_label_issues(labels, p)]
    theirs = cleanlab_find_label_issues(
        labels,
        p,
        filter_by="confident_learning",
        return_indices_ranked_by="self_confidence",
        n_jobs=1,
    )
    # cleanlab's order among equal self-confidences is arbitrary; compare the scores' order.
    assert sorted(ours) == sorted(theirs.tolist())
    labels_array = np.array(labels)
    own = p[np.array(ours), labels_array[ours]]
    other = p[theirs, labels_array[theirs]]
    assert np.array_equal(own, other)


# --- anchoring ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998a), "Two-sided confidence intervals for the single proportion:
        # comparison of seven methods", Statistics in Medicine 17: 857-872, Table II,
        # method 3 (Wilson score interval without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998a(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert (round(interval[0], 4), round(interval[1], 4)) == (low, high)


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        # Newcombe (1998b), "Interval estimation for the difference between independent
        # proportions: comparison of eleven methods", Statistics in Medicine 17: 873-890,
        # Table II, method 10 (score interval, "square-and-add" of Wilson intervals).
        ((56, 70, 48, 80), 0.0524, 0.3339),
        ((9, 10, 3, 10), 0.1705, 0.8090),
        ((6, 7, 2, 7), 0.0582, 0.8062),
        ((5, 56, 0, 29), -0.0381, 0.1926),
        ((0, 10, 0, 20), -0.1611, 0.2775),
        ((0, 10, 0, 10), -0.2775, 0.2775),
        ((10, 10, 0, 20), 0.6791, 1.0000),
        ((10, 10, 0, 10), 0.6075, 1.0000),
    ],
)
def test_difference_interval_matches_newcombe_1998b(
    counts: tuple[int, int, int, int], low: float, high: float
) -> None:
    interval = newcombe_interval(*counts)
    assert interval is not None
    assert (round(interval[0], 4), round(interval[1], 4)) == (low, high)


def test_intervals_refuse_impossible_counts_and_have_none_without_trials() -> None:
    assert wilson_interval(0, 0) is None
    assert newcombe_interval(1, 2, 0, 0) is None
    with pytest.raises(ValueError, match="0 <= successes <= trials"):
        wilson_interval(3, 2)


def test_anchoring_effect_per_layer() -> None:
    records = (
        # claim type: 56 of 70 visible suggestions taken, 48 of 80 hidden ones matched.
        [("claim_type", True, "opinion", "opinion")] * 56
        + [("claim_type", True, "opinion", "factual_claim")] * 14
        + [("claim_type", False, "opinion", "opinion")] * 48
        + [("claim_type", False, "opinion", "not_a_claim")] * 32
        # stance towards one target: only visible suggestions so far.
        + [(("stance", 3), True, "favor", "favor")] * 9
        + [(("stance", 3), True, "favor", "against")]
    )
    claim, stance = anchoring_effect(records)
    assert claim.layer == "claim_type"
    assert (claim.visible.successes, claim.visible.trials) == (56, 70)
    assert (claim.hidden.successes, claim.hidden.trials) == (48, 80)
    assert claim.difference == pytest.approx(0.2)
    assert claim.difference_interval == pytest.approx(newcombe_interval(56, 70, 48, 80))
    assert claim.visible.interval == pytest.approx(wilson_interval(56, 70))
    assert stance.layer == ("stance", 3)
    assert stance.visible.value == pytest.approx(0.9)
    assert stance.hidden.value is None
    assert stance.difference is None and stance.difference_interval is None
    assert stance.to_dict()["hidden"] == {
        "successes": 0,
        "trials": 0,
        "value": None,
        "interval": None,
    }
    with pytest.raises(ValueError, match=r"records\[0\]: visible is 'yes'"):
        anchoring_effect([("claim_type", "yes", "a", "a")])
    with pytest.raises(ValueError, match=r"records\[0\] is not \(layer, visible"):
        anchoring_effect([("claim_type", True)])


def test_results_serialise_to_json_ready_dicts(trained: modelling.TrainingResult) -> None:
    import json

    data = trained.evaluation.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert len(data["per_class"]) == 4 and len(data["confusion"]) == 4
    assert data["beats_baselines"] is True


def test_also_predict_gives_the_final_models_probabilities_of_both_sets(
    corpus: GeneratedCorpus,
) -> None:
    half = len(corpus.texts) // 2
    extra = generate_corpus(n_articles=5, seed=99)
    result = train(
        corpus.texts[:half],
        corpus.labels[:half],
        corpus.groups[:half],
        class_names=CLASS_NAMES,
        positions=corpus.positions[:half],
        also_predict=extra.texts,
        also_predict_positions=extra.positions,
    )
    expected = result.model.predict_proba(
        corpus.texts[:half] + extra.texts, positions=corpus.positions[:half] + extra.positions
    )
    assert result.probabilities.shape == (half + len(extra.texts), len(CLASS_NAMES))
    assert np.allclose(result.probabilities, expected)
    plain = train(
        corpus.texts[:half],
        corpus.labels[:half],
        corpus.groups[:half],
        class_names=CLASS_NAMES,
        positions=corpus.positions[:half],
    )
    assert plain.probabilities is None
    assert np.allclose(plain.out_of_fold, result.out_of_fold)


@pytest.mark.parametrize("ngram_max", [1, 2, 3])
@pytest.mark.parametrize(
    "text",
    [
        "The ministry said exports rose 4% in May.",
        "“I think,” said Kim Jong-un's aide, “it's U.S. policy” — 2 a.m. in Seoul!",
        "한국 정부는 발표했다. 北京 说",
        "قال المتحدث إن المحادثات ستستأنف",
        "a",
        "",
        "Éclair ÇA ǅ x_y 3.14 ...!!! tab\there",
    ],
)
def test_word_ngrams_are_the_terms_scikit_learn_would_hash(text: str, ngram_max: int) -> None:
    from collections import Counter

    from sklearn.feature_extraction.text import HashingVectorizer

    from annotator.modelling import word_ngrams

    reference = HashingVectorizer(
        ngram_range=(1, ngram_max), token_pattern=r"(?u)\b\w+\b"
    ).build_analyzer()
    assert Counter(word_ngrams(text, ngram_max)) == Counter(reference(text))
