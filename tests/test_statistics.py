"""Statistics of stored annotations: hand-computed figures, names in place of ids, gold, levels."""

from __future__ import annotations

import numpy as np
import pytest
from django.db.models import F

from annotator import curating, statistics
from annotator.agreement import summarize
from annotator.curating import Unit
from annotator.models import Annotation, LabelChoice, Layer, Sentence
from annotator.resegmenting import set_excluded
from annotator.statistics import (
    corpus_agreement,
    corpus_statistics,
    read_alpha,
    read_kappa,
    read_rating_chunks,
)

TEXT = (
    "The minister said the plan works. Critics disagree with him. "
    "Officials met on Monday. Talks ended late at night."
)


@pytest.fixture
def labelled(corpus, make_article, annotator, other_annotator, make_annotation):
    """Annotator: factual, factual, opinion, opinion; other: factual, opinion, opinion, opinion.

    By hand: 3 of 4 pairs agree; Cohen's p_o = .75, p_e = .5*.25 + .5*.75 = .5, kappa = .5;
    coincidences o_FF = 2, o_FO = o_OF = 1, o_OO = 4, n = 8, n_F = 3, n_O = 5, so nominal
    alpha = 1 - 7 * 2 / (2 * 3 * 5) = 8/15.
    """
    sentences = list(make_article(corpus=corpus, text=TEXT).sentences.order_by("ordinal"))
    first = ["factual_claim", "factual_claim", "opinion", "opinion"]
    second = ["factual_claim", "opinion", "opinion", "opinion"]
    for sentence, a, b in zip(sentences, first, second, strict=True):
        make_annotation(sentence=sentence, annotator=annotator, value=a)
        make_annotation(sentence=sentence, annotator=other_annotator, value=b)
    return sentences


def claim_layer(stats: dict) -> dict:
    return next(layer for layer in stats["layers"] if layer["layer"] == Layer.CLAIM_TYPE)


def test_claim_type_figures_match_the_hand_computation(corpus, labelled):
    layer = claim_layer(corpus_statistics(corpus, replicates=200))

    assert (layer["n_units"], layer["n_annotators"], layer["n_ratings"]) == (4, 2, 8)
    assert layer["percent_agreement"] == pytest.approx(0.75)
    assert layer["krippendorff_alpha"] == pytest.approx(8 / 15)
    low, high = layer["krippendorff_alpha_ci"]
    assert low <= high
    assert layer["mean_pairwise_kappa"] == pytest.approx(0.5)
    [pair] = layer["pairwise"]
    assert pair["annotators"] == ["annotator", "other-annotator"]
    assert pair["cohen_kappa"] == pytest.approx(0.5)
    assert pair["n_units"] == 4


def test_ids_become_usernames_and_choice_values(corpus, labelled):
    layer = claim_layer(corpus_statistics(corpus, replicates=50))

    assert layer["categories"] == ["factual_claim", "opinion", "user_comment", "not_a_claim"]
    [pair] = layer["pairwise"]
    # Rows: annotator's labels, columns: other-annotator's, in the schema's display order.
    assert pair["confusion"][:2] == [[1, 1, 0, 0], [0, 2, 0, 0]]
    assert {(row["annotator"], row["choice"], row["n"]) for row in layer["distribution"]} == {
        ("annotator", "factual_claim", 2),
        ("annotator", "opinion", 2),
        ("other-annotator", "factual_claim", 1),
        ("other-annotator", "opinion", 3),
    }
    assert [c["category"] for c in layer["per_category"]][:2] == ["factual_claim", "opinion"]


def test_same_figures_as_summarize_on_the_same_triples(corpus, labelled):
    """The Django side adds no arithmetic of its own: ids in, summarize's numbers out."""
    layer = claim_layer(corpus_statistics(corpus, replicates=100))
    triples = [
        (a.sentence_id, a.annotator.username, a.choice.value)
        for s in labelled
        for a in s.annotations.select_related("annotator", "choice")
    ]
    order = list(
        LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE)
        .order_by("order")
        .values_list("value", flat=True)
    )
    expected = summarize(triples, order=order, replicates=100).to_dict()
    for name in ("krippendorff_alpha", "fleiss_kappa", "percent_agreement", "mean_pairwise_kappa"):
        assert layer[name] == pytest.approx(expected[name])
    assert layer["krippendorff_alpha_ci"] == pytest.approx(expected["krippendorff_alpha_ci"])


def test_least_agreed_sentence_and_article_are_listed(corpus, labelled):
    layer = claim_layer(corpus_statistics(corpus, replicates=50))
    [sentence] = layer["least_agreed_sentences"]
    assert (sentence["sentence_id"], sentence["agreement"]) == (labelled[1].pk, 0.0)
    assert sentence["text"] == "Critics disagree with him."
    [article] = layer["least_agreed_articles"]
    assert (article["article_id"], article["n_units"], article["n_disputed"]) == (
        labelled[0].article_id,
        4,
        1,
    )
    assert article["mean_disagreement"] == pytest.approx(0.25)


def test_accuracy_against_confirmed_gold_only(corpus, labelled, curator):
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    claim = Unit(layer=Layer.CLAIM_TYPE, target=None)
    curating.settle(sentence=labelled[1], unit=claim, choice=opinion, curator=curator)

    layer = claim_layer(corpus_statistics(corpus, replicates=50))

    accuracy = {row["annotator"]: row for row in layer["accuracy"]}
    assert (accuracy["annotator"]["n_compared"], accuracy["annotator"]["accuracy"]) == (1, 0.0)
    assert accuracy["other-annotator"]["accuracy"] == 1.0
    assert layer["gold"] == {"n_confirmed": 1, "n_unconfirmed": 0, "n_stale": 0}


def test_stance_defaults_to_interval_on_numeric_codes(
    corpus, labelled, annotator, other_annotator, make_annotation
):
    # favor (1) vs neutral (0) is a smaller disagreement than favor vs against (-1) at interval
    # level; at nominal level both count the same.
    for sentence, a, b in zip(
        labelled,
        ["favor", "favor", "against", "neutral"],
        ["favor", "neutral", "against", "neutral"],
        strict=True,
    ):
        make_annotation(sentence=sentence, annotator=annotator, value=a, layer=Layer.STANCE)
        make_annotation(sentence=sentence, annotator=other_annotator, value=b, layer=Layer.STANCE)

    stance = corpus_statistics(corpus, replicates=50)["layers"][1]
    nominal = corpus_statistics(corpus, replicates=50, level="nominal")["layers"][1]

    assert stance["label"] == "Stance: China–North Korea alliance"
    assert (stance["level"], nominal["level"]) == ("interval", "nominal")
    assert stance["krippendorff_alpha"] > nominal["krippendorff_alpha"]


def test_ratio_level_uses_codes_and_falls_back_where_a_layer_cannot_take_it(
    corpus, labelled, annotator, other_annotator, make_annotation
):
    for sentence, a, b in zip(labelled, ["favor", "favor"], ["favor", "neutral"], strict=False):
        make_annotation(sentence=sentence, annotator=annotator, value=a, layer=Layer.STANCE)
        make_annotation(sentence=sentence, annotator=other_annotator, value=b, layer=Layer.STANCE)

    claim, stance = corpus_statistics(corpus, replicates=50, level="ratio")["layers"]
    # Claim types have no codes; stance codes run from -1: neither is a ratio scale.
    assert (claim["level"], claim["level_note"]) == (
        "nominal",
        "ratio level needs a numeric code on every choice of this layer",
    )
    assert stance["level"] == "interval"
    assert stance["level_note"].startswith("ratio level needs numeric codes of at least 0")

    LabelChoice.objects.filter(corpus=corpus, layer=Layer.STANCE).update(
        numeric_code=F("numeric_code") + 1
    )
    stance = corpus_statistics(corpus, replicates=50, level="ratio")["layers"][1]
    assert (stance["level"], stance["level_note"]) == ("ratio", "")


def test_a_layer_with_no_annotations_is_undefined_with_reasons(corpus, labelled):
    stance = corpus_statistics(corpus, replicates=50)["layers"][1]
    assert stance["n_ratings"] == 0
    assert stance["krippendorff_alpha"] is None
    assert stance["krippendorff_alpha_reading"].startswith("not defined: ")
    assert stance["fleiss_kappa_reading"].startswith("not defined: ")


def test_fleiss_undefined_reading_names_the_reason(corpus, labelled, make_member, make_annotation):
    # A third annotator on one sentence only: units have 2 and 3 ratings.
    third = make_member(corpus=corpus)
    make_annotation(sentence=labelled[0], annotator=third, value="opinion")
    layer = claim_layer(corpus_statistics(corpus, replicates=50))
    assert layer["fleiss_kappa"] is None
    assert "same number of ratings" in layer["fleiss_kappa_reading"]


def test_other_corpora_annotations_are_not_counted(corpus, labelled, make_corpus, make_article):
    elsewhere = make_corpus()
    make_article(corpus=elsewhere, text=TEXT)
    layer = claim_layer(corpus_statistics(elsewhere, replicates=50))
    assert layer["n_ratings_total"] == 0


@pytest.mark.parametrize(
    ("value", "reading"),
    [(0.85, "reliable"), (0.7, "tentative"), (0.3, "unreliable"), (-0.1, "no agreement")],
)
def test_alpha_reading_follows_krippendorffs_thresholds(value, reading):
    assert read_alpha(value, None).startswith(reading)


def test_kappa_reading_follows_landis_and_koch():
    assert read_kappa(0.5, None) == "moderate agreement beyond chance"
    assert read_kappa(None, "only one category") == "not defined: only one category"


# --- Corpus-wide figures read in chunks (a release's card) -------------------------------------

CORPUS_WIDE = (
    "layer",
    "label",
    "level",
    "level_note",
    "n_units",
    "n_units_dropped",
    "n_ratings",
    "krippendorff_alpha",
    "krippendorff_alpha_ci",
    "percent_agreement",
    "fleiss_kappa",
    "mean_pairwise_kappa",
    "n_annotators",
)


@pytest.fixture
def three_annotated(corpus, labelled, make_article, make_member, make_annotation, manager):
    """Two more articles, a third annotator on some sentences, stance on others and one
    sentence excluded as page furniture: units of 1, 2 and 3 ratings in both layers."""
    third = make_member(corpus=corpus, username="third")
    people = [labelled[0].annotations.first().annotator, third]
    values = ["factual_claim", "opinion", "not_a_claim"]
    stances = ["favor", "against", "neutral"]
    for n in range(2):
        article = make_article(corpus=corpus, text=f"{TEXT} Part {n + 2} follows.")
        for i, sentence in enumerate(article.sentences.order_by("ordinal")):
            for j, person in enumerate(people[: 1 + (i + n) % 2]):
                make_annotation(sentence=sentence, annotator=person, value=values[(i + j) % 3])
                make_annotation(
                    sentence=sentence,
                    annotator=person,
                    value=stances[(i * j + n) % 3],
                    layer=Layer.STANCE,
                )
    make_annotation(sentence=labelled[2], annotator=third, value="factual_claim")
    set_excluded(
        article_id=labelled[3].article_id,
        sentence_ids=[labelled[3].pk],
        excluded=True,
        by=manager,
    )
    return corpus


def all_at_once(corpus, layer, level):
    """The pure `summarize` of every counted rating of a layer, read in one go."""
    choices = list(LabelChoice.objects.filter(corpus=corpus, layer=layer).order_by("order", "id"))
    triples = list(
        Annotation.objects.filter(layer=layer, sentence__excluded=False).values_list(
            "sentence_id", "annotator_id", "choice_id"
        )
    )
    codes = {c.pk: c.numeric_code for c in choices} if level == "interval" else None
    return summarize(
        triples, level=level, order=[c.pk for c in choices], codes=codes, replicates=200
    ).to_dict()


@pytest.mark.parametrize("chunk_size", [None, 1, 3])
def test_figures_read_in_chunks_are_those_of_all_ratings_at_once(
    three_annotated, monkeypatch, chunk_size
):
    # Chunks of 1 and 3 ratings cut through sentences, which the reader carries over whole.
    if chunk_size:
        monkeypatch.setattr(statistics, "RATINGS_CHUNK", chunk_size)
    card = corpus_agreement(three_annotated, replicates=200)
    page = corpus_statistics(three_annotated, replicates=200)["layers"]

    assert [layer["label"] for layer in card] == [layer["label"] for layer in page]
    for chunked, shown, layer in zip(card, page, (Layer.CLAIM_TYPE, Layer.STANCE), strict=True):
        whole = all_at_once(three_annotated, layer, chunked["level"])
        assert whole["n_ratings"] > 0 and whole["krippendorff_alpha_ci"] is not None
        for key in CORPUS_WIDE:
            expected = whole[key] if key in whole else shown[key]
            if isinstance(expected, float | list):
                assert chunked[key] == pytest.approx(expected, rel=1e-12), key
                assert shown[key] == pytest.approx(expected, rel=1e-12), key
            else:
                assert chunked[key] == shown[key] == expected, key
        assert chunked["target"] == shown["target"]
        assert "per_unit" not in chunked and "accuracy" not in chunked


def test_the_page_is_the_same_whatever_the_chunk_size(three_annotated, curator, monkeypatch):
    # Rankings, distribution and accuracy against gold are added up chunk by chunk too.
    claim = Unit(layer=Layer.CLAIM_TYPE, target=None)
    disputed = (
        Annotation.objects.filter(layer=Layer.CLAIM_TYPE, choice__value="opinion")
        .values_list("sentence", flat=True)
        .first()
    )
    opinion = LabelChoice.objects.get(
        corpus=three_annotated, layer=Layer.CLAIM_TYPE, value="opinion"
    )
    curating.settle(
        sentence=Sentence.objects.get(pk=disputed), unit=claim, choice=opinion, curator=curator
    )
    whole = corpus_statistics(three_annotated, replicates=100)
    monkeypatch.setattr(statistics, "RATINGS_CHUNK", 1)
    chunked = corpus_statistics(three_annotated, replicates=100)

    assert chunked == whole
    claim_layer_figures = whole["layers"][0]
    assert claim_layer_figures["least_agreed_sentences"]
    assert claim_layer_figures["least_agreed_articles"]
    assert any(row["n_compared"] for row in claim_layer_figures["accuracy"])


def test_the_chunk_reader_keeps_each_sentence_whole_and_leaves_out_excluded_ones(
    three_annotated, labelled
):
    claim = Unit(layer=Layer.CLAIM_TYPE, target=None)
    choices = list(
        LabelChoice.objects.filter(corpus=three_annotated, layer=Layer.CLAIM_TYPE).order_by("order")
    )
    left_out = {labelled[3].pk}
    chunks = list(read_rating_chunks(claim, choices, left_out=left_out, chunk_size=2))
    everything = [
        row
        for row in Annotation.objects.filter(layer=Layer.CLAIM_TYPE).values_list(
            "sentence_id", "annotator_id", "choice_id"
        )
        if row[0] not in left_out
    ]

    seen = [
        (chunk.units[u], chunk.annotators[a], chunk.labels[c])
        for chunk in chunks
        for u, a, c in zip(chunk.unit, chunk.annotator, chunk.label, strict=True)
    ]
    assert sorted(seen) == sorted(everything)
    units_per_chunk = [set(chunk.units) for chunk in chunks]
    assert sum(len(units) for units in units_per_chunk) == len(set().union(*units_per_chunk))
    # Bounded: a chunk holds at most the chunk size plus one sentence carried over.
    assert max(len(chunk) for chunk in chunks) <= 2 + 3
    assert labelled[3].pk not in set().union(*units_per_chunk)


def test_a_sentence_missing_from_the_index_counts_but_ranks_no_article():
    # Imported between reading the sentence index and reading its ratings: no article known.
    index = statistics.SentenceIndex(
        ids=np.array([10, 20]),
        article=np.array([0, 1]),
        articles=np.array([100, 200]),
        left_out=frozenset(),
    )
    tally = statistics._Tally(index)
    tally.shares([10, 15, 20], np.array([0.5, 0.0, 1.0]))

    assert [row["sentence_id"] for row in tally.least_agreed_sentences()] == [15, 10]
    assert tally.least_agreed_articles() == [
        {"article_id": 100, "n_units": 1, "n_disputed": 1, "mean_disagreement": 0.5}
    ]
