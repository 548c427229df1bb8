"""The model's suggestions on the article page and what a saved label records about them:
per corpus setting, the newest model version's prediction, hidden controls, pre-selection
that stores nothing by itself, escaping, and bounded query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.forms import label_value
from annotator.models import Annotation, Assignment, Layer, ModelStatus, SuggestionMode
from tests.assist_data import model_version, predict
from tests.views.conftest import choice


def page_url(article) -> str:
    return reverse("annotator:article-detail", kwargs={"pk": article.pk})


def label_url(sentence) -> str:
    return reverse("annotator:sentence-label", kwargs={"pk": sentence.pk})


def set_mode(corpus, mode, share=0.0) -> None:
    corpus.suggestions = mode
    corpus.suggestion_control_share = share
    corpus.save(update_fields=["suggestions", "suggestion_control_share"])


@pytest.fixture
def predicted(corpus, sentences):
    """An older and a newer model version; the newer one says "opinion" on sentence 0."""
    old = model_version(corpus, name="old-model", version="1")
    new = model_version(corpus, name="claims-net", version="7")
    predict(old, sentences[0], "factual_claim", 0.99)
    predict(new, sentences[0], "opinion", 0.81)
    return new


def test_off_by_default_shows_and_records_nothing(
    client, corpus, annotator, assigned, sentences, predicted
):
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert "Model suggests" not in html
    assert "data-preselected" not in html
    client.post(label_url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))})
    annotation = Annotation.objects.get()
    assert (annotation.suggestion_visible, annotation.suggested_choice_id) == (None, None)


def test_annotators_mode_shows_the_newest_models_label_with_name_version_and_score(
    client, corpus, annotator, assigned, sentences, predicted
):
    set_mode(corpus, SuggestionMode.ANNOTATORS)
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert html.count("Model suggests") == 1
    assert "Claim type: Opinion (0.81, model claims-net 7)" in html
    assert "old-model" not in html
    assert "data-preselected" not in html  # a hint only: nothing looks chosen


def test_a_version_still_running_is_not_the_newest(client, corpus, annotator, assigned, sentences):
    set_mode(corpus, SuggestionMode.ANNOTATORS)
    done = model_version(corpus, name="done-model", version="1")
    running = model_version(corpus, name="half-model", version="2", status=ModelStatus.RUNNING)
    predict(done, sentences[1], "opinion", 0.6)
    predict(running, sentences[1], "factual_claim", 0.9)
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert "done-model 1" in html and "half-model" not in html


def test_stance_suggestions_name_their_target(client, corpus, annotator, assigned, sentences):
    set_mode(corpus, SuggestionMode.ANNOTATORS)
    target = corpus.stance_targets.get()
    version = model_version(corpus, layer=Layer.STANCE, target=target, name="stance-net")
    predict(version, sentences[2], "against", 0.7)
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert f"Stance on {target.name}: Against (0.70, model stance-net" in html


def test_model_names_are_escaped(client, corpus, annotator, assigned, sentences):
    set_mode(corpus, SuggestionMode.ANNOTATORS)
    version = model_version(corpus, name="<script>alert(1)</script>", version="<b>2</b>")
    predict(version, sentences[0], "opinion")
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;2&lt;/b&gt;" in html


def test_preselect_marks_the_suggestion_but_stores_nothing(
    client, corpus, annotator, assigned, sentences, predicted
):
    set_mode(corpus, SuggestionMode.PRESELECT)
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    opinion = label_value(choice(corpus, "opinion"))
    assert html.count("data-preselected") == 1
    button = html[html.index(f'value="{opinion}" class="choice preselected"') :][:300]
    assert 'aria-pressed="false"' in button
    assert not Annotation.objects.exists()
    # Once the sentence has a label of the annotator's, the suggestion is no longer proposed.
    response = client.post(
        label_url(sentences[0]),
        {"label": label_value(choice(corpus, "factual_claim"))},
        HTTP_HX_REQUEST="true",
    )
    assert "data-preselected" not in response.content.decode()
    assert "Model suggests" in response.content.decode()


def test_saving_records_the_visible_suggestion_from_the_server_not_the_page(
    client, corpus, annotator, assigned, sentences, predicted
):
    set_mode(corpus, SuggestionMode.ANNOTATORS, share=0.0)
    client.force_login(annotator)
    client.post(
        label_url(sentences[0]),
        {
            "label": label_value(choice(corpus, "factual_claim")),
            # Whatever a page sends about suggestions is ignored.
            "suggestion_visible": "false",
            "suggested_choice": str(choice(corpus, "factual_claim").pk),
            "suggestion_model": "1",
        },
    )
    annotation = Annotation.objects.get()
    assert annotation.suggestion_visible is True
    assert annotation.suggested_choice == choice(corpus, "opinion")
    assert annotation.suggestion_model == predicted
    # A sentence without a prediction records none.
    client.post(label_url(sentences[1]), {"label": label_value(choice(corpus, "opinion"))})
    other = Annotation.objects.get(sentence=sentences[1])
    assert (other.suggestion_visible, other.suggested_choice, other.suggestion_model) == (
        None,
        None,
        None,
    )


def test_hidden_controls_are_not_shown_but_recorded_as_hidden(
    client, corpus, annotator, assigned, sentences, predicted
):
    set_mode(corpus, SuggestionMode.PRESELECT, share=1.0)  # every sentence a control
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert "Model suggests" not in html and "data-preselected" not in html
    client.post(label_url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))})
    annotation = Annotation.objects.get()
    assert annotation.suggestion_visible is False
    assert annotation.suggested_choice == choice(corpus, "opinion")
    assert annotation.suggestion_model == predicted


def test_curators_mode_shows_annotators_nothing_and_records_nothing(
    client, corpus, annotator, assigned, sentences, predicted
):
    set_mode(corpus, SuggestionMode.CURATORS)
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert "Model suggests" not in html
    client.post(label_url(sentences[0]), {"label": label_value(choice(corpus, "opinion"))})
    assert Annotation.objects.get().suggestion_visible is None


def test_blind_mode_still_hides_other_annotators(
    client, corpus, annotator, other_annotator, assigned, sentences, predicted
):
    set_mode(corpus, SuggestionMode.ANNOTATORS)
    Assignment.objects.create(article=assigned.article, annotator=other_annotator)
    client.force_login(other_annotator)
    client.post(label_url(sentences[0]), {"label": label_value(choice(corpus, "factual_claim"))})
    client.force_login(annotator)
    html = client.get(page_url(assigned.article)).content.decode()
    assert "other-annotator" not in html
    assert "Model suggests" in html


@pytest.mark.parametrize("sentence_count", [3, 30])
def test_page_query_count_with_suggestions_does_not_grow_with_sentences(
    client, corpus, annotator, make_article, sentence_count, django_assert_num_queries
):
    set_mode(corpus, SuggestionMode.PRESELECT, share=0.3)
    text = " ".join(f"Sentence number {n} is here." for n in range(sentence_count))
    article = make_article(corpus=corpus, text=text)
    Assignment.objects.create(article=article, annotator=annotator)
    target = corpus.stance_targets.get()
    claims = model_version(corpus)
    stances = model_version(corpus, layer=Layer.STANCE, target=target)
    for sentence in article.sentences.all():
        predict(claims, sentence, "opinion")
        predict(stances, sentence, "favor")
    client.force_login(annotator)
    # the nine of the page without suggestions (see test_article_detail), plus one for the
    # newest predictions of every sentence
    with django_assert_num_queries(10):
        response = client.get(page_url(article))
    assert response.status_code == 200


def test_label_save_query_count_with_suggestions(
    client, corpus, annotator, assigned, sentences, predicted, django_assert_num_queries
):
    set_mode(corpus, SuggestionMode.ANNOTATORS)
    client.force_login(annotator)
    opinion = label_value(choice(corpus, "opinion"))
    client.post(label_url(sentences[1]), {"label": opinion}, HTTP_HX_REQUEST="true")  # warm
    # session, user, the sentence with my labels and note, the suggestions, the save
    with django_assert_num_queries(5):
        response = client.post(label_url(sentences[0]), {"label": opinion}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
