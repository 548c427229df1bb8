"""The statistics page and its JSON: who may see them, what they show, how many queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Layer, Role

TEXT = (
    "The minister said the plan works. Critics disagree with him. "
    "Officials met on Monday. Talks ended late at night."
)


@pytest.fixture
def labelled(corpus, make_article, annotator, other_annotator, make_annotation):
    sentences = list(make_article(corpus=corpus, text=TEXT).sentences.order_by("ordinal"))
    first = ["factual_claim", "factual_claim", "opinion", "opinion"]
    second = ["factual_claim", "opinion", "opinion", "opinion"]
    for sentence, a, b in zip(sentences, first, second, strict=True):
        make_annotation(sentence=sentence, annotator=annotator, value=a)
        make_annotation(sentence=sentence, annotator=other_annotator, value=b)
    return sentences


def page_url(slug: str = "korea") -> str:
    return reverse("annotator:corpus-statistics", kwargs={"slug": slug})


def json_url(slug: str = "korea") -> str:
    return reverse("annotator:corpus-statistics-json", kwargs={"slug": slug})


@pytest.mark.parametrize("role", ["manager", "curator"])
def test_managers_and_curators_see_the_figures(client, request, labelled, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(page_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Krippendorff's alpha" in html
    assert "0.533" in html  # nominal alpha 8/15, computed by hand in tests/test_statistics.py
    assert "0.750" in html  # percent agreement beside it
    assert "two annotators of the same sentence chose the same label 75% of the time" in html
    assert html.count("<svg") == 3  # heat map, confusion matrix, distribution (claim type)
    assert "Critics disagree with him." in html  # least agreed sentence, linked to curation
    assert reverse("annotator:curation-sentence", args=["korea", labelled[1].pk]) in html


@pytest.mark.parametrize("who", ["annotator", "outsider"])
def test_annotators_and_outsiders_get_404(client, request, labelled, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(page_url()).status_code == 404
    assert client.get(json_url()).status_code == 404


def test_a_manager_of_another_corpus_gets_404(client, make_corpus, make_member, labelled):
    elsewhere = make_corpus()
    client.force_login(make_member(corpus=elsewhere, role=Role.MANAGER))
    assert client.get(page_url()).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, labelled):
    response = client.get(page_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_json_address_is_served_by_the_api_with_the_same_figures(client, manager, labelled):
    client.force_login(manager)
    response = client.get(json_url(), {"level": "nominal"})
    data = client.get(json_url(), follow=True).json()

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/corpora/korea/agreement/?level=nominal"
    claim = data["layers"][0]
    assert claim["layer"] == Layer.CLAIM_TYPE
    assert claim["krippendorff_alpha"] == pytest.approx(8 / 15)
    assert claim["pairwise"][0]["annotators"] == ["annotator", "other-annotator"]
    assert data["layers"][1]["label"] == "Stance: China–North Korea alliance"


def test_bad_level_is_a_400(client, manager, labelled):
    client.force_login(manager)
    assert client.get(page_url(), {"level": "circular"}).status_code == 400
    assert client.get(json_url(), {"level": "circular"}, follow=True).status_code == 400


def test_undefined_fleiss_kappa_shows_its_reason(
    client, manager, labelled, make_member, make_annotation, corpus
):
    make_annotation(sentence=labelled[0], annotator=make_member(corpus=corpus), value="opinion")
    client.force_login(manager)
    html = client.get(page_url()).content.decode()
    assert "not defined: units have between 2 and 3 ratings" in html


def test_empty_layer_explains_itself(client, manager, labelled):
    client.force_login(manager)
    html = client.get(page_url()).content.decode()
    assert "No stance: china–north korea alliance labels yet." in html


def test_article_text_is_escaped(
    client, manager, corpus, make_article, annotator, other_annotator, make_annotation
):
    article = make_article(corpus=corpus, text="<script>alert(1)</script> is here. Fine text.")
    sentence = article.sentences.first()
    make_annotation(sentence=sentence, annotator=annotator, value="opinion")
    make_annotation(sentence=sentence, annotator=other_annotator, value="not_a_claim")
    client.force_login(manager)
    html = client.get(page_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_chosen_pair_drives_the_confusion_matrix(
    client, manager, labelled, corpus, make_member, make_annotation
):
    third = make_member(corpus=corpus, username="third")
    for sentence in labelled:
        make_annotation(sentence=sentence, annotator=third, value="user_comment")
    client.force_login(manager)
    html = client.get(page_url(), {"pair0": "other-annotator|third"}).content.decode()
    assert "Confusion matrix: other-annotator (rows) against third (columns)" in html


def add_rows(corpus, make_article, make_member, make_annotation, *, articles: int) -> None:
    annotators = [make_member(corpus=corpus) for _ in range(3)]
    values = ["opinion", "not_a_claim", "factual_claim"]
    for number in range(articles):
        article = make_article(corpus=corpus, text=f"Article {number} starts. {TEXT}")
        for i, sentence in enumerate(article.sentences.all()):
            for j, annotator in enumerate(annotators):
                value = values[(i + j * number) % 3]
                make_annotation(sentence=sentence, annotator=annotator, value=value)
                make_annotation(
                    sentence=sentence, annotator=annotator, value="favor", layer=Layer.STANCE
                )


@pytest.mark.parametrize("articles", [2, 6])
def test_page_query_count_does_not_grow_with_rows(
    client,
    manager,
    corpus,
    make_article,
    make_member,
    make_annotation,
    django_assert_num_queries,
    articles,
):
    add_rows(corpus, make_article, make_member, make_annotation, articles=articles)
    client.force_login(manager)
    # 2 session and user; 1 corpus with the manager's role; 1 its choices; 1 its targets;
    # 1 sentence -> article map; per layer (claim type, one stance target) 3: ratings, gold,
    # gold counts; then 1 usernames, 1 least agreed sentences, 1 article titles. The baseline
    # models (assisting.layer_models) 6: versions, choices, targets, gold and labels for their
    # readiness; then 1 for agreement with suggestions.
    with django_assert_num_queries(22):
        response = client.get(page_url())
    assert response.status_code == 200


def test_a_corpus_without_articles_shows_the_page_with_nothing_to_measure(client, manager, corpus):
    client.force_login(manager)
    response = client.get(page_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "No claim type labels yet." in html
    assert "No stance: china–north korea alliance labels yet." in html
