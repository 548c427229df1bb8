"""The corpus Settings page: name, description, guidelines (with a sanitised preview),
annotators per article and stance required."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import Article, Assignment, AssignmentStatus, Corpus


def settings_url(corpus: Corpus) -> str:
    return reverse("annotator:corpus-settings", kwargs={"slug": corpus.slug})


def messages_of(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def form_data(**changes: object) -> dict[str, object]:
    data = {
        "name": "Korea coverage",
        "description": "",
        "guidelines": "",
        "annotators_per_article": "2",
    }
    return data | changes


@pytest.fixture
def signed_in(client: Client, manager: AbstractUser) -> Client:
    client.force_login(manager)
    return client


def test_settings_page_shows_the_form_and_an_empty_state(signed_in: Client, corpus: Corpus) -> None:
    response = signed_in.get(settings_url(corpus))

    assert response.status_code == 200
    assert response.context["form"].initial["annotators_per_article"] == 2
    assert "No guidelines yet" in response.content.decode()


def test_manager_saves_settings(signed_in: Client, corpus: Corpus) -> None:
    response = signed_in.post(
        settings_url(corpus),
        form_data(
            name="Korea 2024",
            description="Spring coverage",
            guidelines="# Rules\n\nLabel *every* sentence.",
            annotators_per_article="3",
            stance_required="on",
        ),
        follow=True,
    )

    corpus.refresh_from_db()
    assert (corpus.name, corpus.description, corpus.annotators_per_article) == (
        "Korea 2024",
        "Spring coverage",
        3,
    )
    assert corpus.stance_required is True
    assert corpus.guidelines.startswith("# Rules")
    assert messages_of(response) == ["Settings saved."]
    assert "<em>every</em>" in response.content.decode()


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_annotators_per_article_must_be_at_least_one(
    signed_in: Client, corpus: Corpus, value: str
) -> None:
    response = signed_in.post(settings_url(corpus), form_data(annotators_per_article=value))

    assert response.status_code == 400
    assert response.context["form"].errors["annotators_per_article"]
    corpus.refresh_from_db()
    assert corpus.annotators_per_article == 2


def test_empty_name_is_refused_and_page_keeps_stored_name(
    signed_in: Client, corpus: Corpus
) -> None:
    response = signed_in.post(settings_url(corpus), form_data(name=""))

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert "<title>Settings · Korea coverage" in response.content.decode()
    corpus.refresh_from_db()
    assert corpus.name == "Korea coverage"


def test_preview_renders_sanitised_guidelines_without_saving(
    signed_in: Client, corpus: Corpus
) -> None:
    response = signed_in.post(
        settings_url(corpus),
        form_data(guidelines="**Bold** <script>alert(1)</script>", preview="1"),
    )

    page = response.content.decode()
    assert "<strong>Bold</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "Preview only: press Save to keep these settings." in messages_of(response)
    corpus.refresh_from_db()
    assert corpus.guidelines == ""


def test_lowering_annotators_per_article_explains_the_effect(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> None:
    article = make_article(corpus=corpus)
    Assignment.objects.create(article=article, annotator=annotator, status=AssignmentStatus.DONE)
    Assignment.objects.create(article=article, annotator=other_annotator)

    response = signed_in.post(
        settings_url(corpus), form_data(annotators_per_article="1"), follow=True
    )

    corpus.refresh_from_db()
    assert corpus.annotators_per_article == 1
    assert Assignment.objects.filter(article=article).count() == 2
    assert messages_of(response)[1].startswith(
        "1 article(s) already have more than 1 annotator(s). They keep them and their labels"
    )


def test_manager_sets_model_assistance(signed_in: Client, corpus: Corpus) -> None:
    response = signed_in.post(
        settings_url(corpus),
        form_data(
            suggestions="preselect",
            suggestion_control_share="0.25",
            retrain_every="500",
            assignment_order="uncertainty",
        ),
    )

    assert response.status_code == 302
    corpus.refresh_from_db()
    assert (
        corpus.suggestions,
        corpus.suggestion_control_share,
        corpus.retrain_every,
        corpus.assignment_order,
    ) == ("preselect", 0.25, 500, "uncertainty")
    # A form posted without them keeps them.
    signed_in.post(settings_url(corpus), form_data(name="Renamed"))
    corpus.refresh_from_db()
    assert (corpus.name, corpus.suggestions, corpus.retrain_every) == ("Renamed", "preselect", 500)


@pytest.mark.parametrize(
    ("field", "value"),
    [("suggestion_control_share", "1.5"), ("retrain_every", "-1"), ("suggestions", "everyone")],
)
def test_bad_model_assistance_settings_are_refused(
    signed_in: Client, corpus: Corpus, field: str, value: str
) -> None:
    response = signed_in.post(settings_url(corpus), form_data(**{field: value}))
    assert response.status_code == 400
    assert field in response.context["form"].errors
