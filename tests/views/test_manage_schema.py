"""The Label schema page: list per layer with usage, add, edit, reorder and delete choices;
keys unique across layers, values stable once used, deletes refused while labels use a choice,
and every change bumps the corpus's schema version."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import (
    Annotation,
    Article,
    Assignment,
    Corpus,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
)


def schema_url(corpus: Corpus) -> str:
    return reverse("annotator:corpus-schema", kwargs={"slug": corpus.slug})


def choice_url(name: str, choice: LabelChoice) -> str:
    return reverse(
        f"annotator:corpus-choice-{name}", kwargs={"slug": choice.corpus.slug, "pk": choice.pk}
    )


def choice(corpus: Corpus, value: str) -> LabelChoice:
    return LabelChoice.objects.get(corpus=corpus, value=value)


def version(corpus: Corpus) -> int:
    corpus.refresh_from_db()
    return corpus.schema_version


def values_in_order(corpus: Corpus, layer: str) -> list[str]:
    return list(
        LabelChoice.objects.filter(corpus=corpus, layer=layer)
        .order_by("order", "pk")
        .values_list("value", flat=True)
    )


def messages_of(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def add(client: Client, corpus: Corpus, layer: str, **fields: str) -> object:
    data = {"layer": layer} | {f"{layer}-{name}": value for name, value in fields.items()}
    return client.post(reverse("annotator:corpus-choice-add", kwargs={"slug": corpus.slug}), data)


@pytest.fixture
def signed_in(client: Client, manager: AbstractUser) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def labelled(
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> Article:
    """Three sentences labelled 'opinion' by two annotators (six annotations), one gold label."""
    article = make_article(corpus=corpus, text="One here. Two here. Three here.")
    sentences = list(article.sentences.all())
    for who in (annotator, other_annotator):
        for sentence in sentences:
            make_annotation(sentence=sentence, annotator=who, value="opinion")
    GoldLabel.objects.create(
        sentence=sentences[0],
        layer=Layer.CLAIM_TYPE,
        choice=choice(corpus, "opinion"),
        method=GoldMethod.UNANIMOUS,
        decided_by=annotator,
    )
    return article


# The page ------------------------------------------------------------------------------------


def test_schema_page_lists_both_layers_with_usage(
    signed_in: Client, corpus: Corpus, labelled: Article
) -> None:
    response = signed_in.get(schema_url(corpus))

    assert response.status_code == 200
    claim, stance = response.context["layers"]
    assert [c.value for c in claim["choices"]] == values_in_order(corpus, Layer.CLAIM_TYPE)
    assert [c.value for c in stance["choices"]] == ["favor", "against", "neutral"]
    opinion = next(c for c in claim["choices"] if c.value == "opinion")
    assert (opinion.annotation_count, opinion.gold_count) == (6, 1)
    assert "6 annotations, 1 gold" in response.content.decode()


def test_schema_page_query_count_does_not_grow_with_choices(
    signed_in: Client,
    corpus: Corpus,
    labelled: Article,
    django_assert_num_queries: Callable,
) -> None:
    for number in range(5):
        LabelChoice.objects.create(
            corpus=corpus,
            layer=Layer.STANCE,
            value=f"extra-{number}",
            name="X",
            key=f"{number + 4}",
        )

    # 1 session, 2 user, 3 the corpus (manager role checked in the same query),
    # 4 every choice with its annotation and gold counts (subqueries).
    with django_assert_num_queries(4):
        response = signed_in.get(schema_url(corpus))
    assert sum(len(layer["choices"]) for layer in response.context["layers"]) == 12


# Adding --------------------------------------------------------------------------------------


def test_manager_adds_a_choice_last_in_its_layer(signed_in: Client, corpus: Corpus) -> None:
    before = version(corpus)

    response = add(signed_in, corpus, "claim_type", value="rumour", name="Rumour", key="r")

    assert response.status_code == 302
    assert values_in_order(corpus, Layer.CLAIM_TYPE)[-1] == "rumour"
    added = choice(corpus, "rumour")
    assert (added.name, added.key, added.layer) == ("Rumour", "r", Layer.CLAIM_TYPE)
    assert version(corpus) == before + 1


def test_stance_choice_takes_a_numeric_code(signed_in: Client, corpus: Corpus) -> None:
    add(signed_in, corpus, "stance", value="mixed", name="Mixed", key="m", numeric_code="0.5")

    assert choice(corpus, "mixed").numeric_code == 0.5


@pytest.mark.parametrize(
    ("layer", "fields", "error"),
    [
        # Key taken in the same layer, and in the other layer: both layers share the keyboard.
        (
            "claim_type",
            {"value": "rumour", "key": "2"},
            "The key “2” is already used by Claim type: Opinion.",
        ),
        (
            "stance",
            {"value": "mixed", "key": "1"},
            "The key “1” is already used by Claim type: Factual claim.",
        ),
        (
            "claim_type",
            {"value": "opinion", "key": "r"},
            "The value “opinion” is already used in claim type.",
        ),
        ("claim_type", {"value": "Not A Slug!", "key": "r"}, "Enter a valid “slug”"),
        ("claim_type", {"value": "rumour", "key": "j"}, "The key “j” moves through sentences"),
        (
            "claim_type",
            {"value": "rumour", "key": "rr"},
            "Ensure this value has at most 1 character",
        ),
    ],
)
def test_bad_new_choice_is_a_form_error_and_nothing_changes(
    signed_in: Client, corpus: Corpus, layer: str, fields: dict[str, str], error: str
) -> None:
    before = (version(corpus), LabelChoice.objects.filter(corpus=corpus).count())

    response = add(signed_in, corpus, layer, name="New", **fields)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert (version(corpus), LabelChoice.objects.filter(corpus=corpus).count()) == before


def test_same_value_in_the_other_layer_is_allowed(signed_in: Client, corpus: Corpus) -> None:
    add(signed_in, corpus, "stance", value="opinion", name="Opinionated", key="o")

    assert LabelChoice.objects.filter(corpus=corpus, value="opinion").count() == 2


def test_key_taken_in_a_race_becomes_a_form_error(
    signed_in: Client, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form checked the key was free; someone took it before the insert: the constraint
    catches it and the manager reads a form error, not a 500."""
    from annotator import manage_forms

    monkeypatch.setattr(manage_forms.ChoiceForm, "clean_key", lambda form: form.cleaned_data["key"])

    response = add(signed_in, corpus, "claim_type", value="rumour", name="Rumour", key="2")

    assert response.status_code == 400
    assert "The key “2” is already used in this corpus." in response.content.decode()
    assert not LabelChoice.objects.filter(corpus=corpus, value="rumour").exists()


# Editing -------------------------------------------------------------------------------------


def test_manager_renames_a_used_choice(
    signed_in: Client, corpus: Corpus, labelled: Article
) -> None:
    opinion = choice(corpus, "opinion")
    before = version(corpus)

    response = signed_in.post(
        choice_url("edit", opinion), {"value": "opinion", "name": "Opinion or view", "key": "v"}
    )

    assert response.status_code == 302
    opinion.refresh_from_db()
    assert (opinion.name, opinion.key) == ("Opinion or view", "v")
    assert version(corpus) == before + 1


def test_value_of_a_used_choice_cannot_change(
    signed_in: Client, corpus: Corpus, labelled: Article
) -> None:
    opinion = choice(corpus, "opinion")
    before = version(corpus)

    response = signed_in.post(
        choice_url("edit", opinion), {"value": "view", "name": "Opinion", "key": "2"}
    )

    assert response.status_code == 400
    assert "“opinion” is used by annotations or gold labels" in response.content.decode()
    opinion.refresh_from_db()
    assert opinion.value == "opinion"
    assert version(corpus) == before


def test_value_of_an_unused_choice_can_change(signed_in: Client, corpus: Corpus) -> None:
    opinion = choice(corpus, "opinion")

    signed_in.post(choice_url("edit", opinion), {"value": "view", "name": "View", "key": "2"})

    opinion.refresh_from_db()
    assert opinion.value == "view"


def test_editing_to_a_key_of_another_choice_is_a_form_error(
    signed_in: Client, corpus: Corpus
) -> None:
    opinion = choice(corpus, "opinion")

    response = signed_in.post(
        choice_url("edit", opinion), {"value": "opinion", "name": "Opinion", "key": "f"}
    )

    assert response.status_code == 400
    assert "The key “f” is already used by Stance: Favor." in response.content.decode()
    # The page header still shows the stored name, not the rejected input.
    assert "<h1>Edit “Opinion”" in response.content.decode()


# Reordering ----------------------------------------------------------------------------------


def test_up_and_down_reorder_within_the_layer(signed_in: Client, corpus: Corpus) -> None:
    before = version(corpus)

    signed_in.post(choice_url("move", choice(corpus, "user_comment")), {"direction": "up"})
    assert values_in_order(corpus, Layer.CLAIM_TYPE) == [
        "factual_claim",
        "user_comment",
        "opinion",
        "not_a_claim",
    ]
    signed_in.post(choice_url("move", choice(corpus, "factual_claim")), {"direction": "down"})
    assert values_in_order(corpus, Layer.CLAIM_TYPE) == [
        "user_comment",
        "factual_claim",
        "opinion",
        "not_a_claim",
    ]
    assert version(corpus) == before + 2
    assert values_in_order(corpus, Layer.STANCE) == ["favor", "against", "neutral"]


def test_moving_the_first_choice_up_changes_nothing(signed_in: Client, corpus: Corpus) -> None:
    before = version(corpus)

    signed_in.post(choice_url("move", choice(corpus, "factual_claim")), {"direction": "up"})

    assert values_in_order(corpus, Layer.CLAIM_TYPE)[0] == "factual_claim"
    assert version(corpus) == before


# Deleting ------------------------------------------------------------------------------------


def test_deleting_a_used_choice_is_refused_with_the_count(
    signed_in: Client, corpus: Corpus, labelled: Article
) -> None:
    before = version(corpus)

    response = signed_in.post(choice_url("delete", choice(corpus, "opinion")), follow=True)

    assert messages_of(response) == [
        "“Opinion” is used by 6 annotations and 1 gold label; it cannot be deleted. Rename it "
        "instead, or relabel those sentences first."
    ]
    assert LabelChoice.objects.filter(corpus=corpus, value="opinion").exists()
    assert Annotation.objects.count() == 6
    assert version(corpus) == before


def test_deleting_an_unused_choice_works_and_bumps_the_version(
    signed_in: Client, corpus: Corpus, labelled: Article
) -> None:
    before = version(corpus)

    response = signed_in.post(choice_url("delete", choice(corpus, "user_comment")), follow=True)

    assert messages_of(response) == ["Deleted “User comment”."]
    assert not LabelChoice.objects.filter(corpus=corpus, value="user_comment").exists()
    assert version(corpus) == before + 1


# Escaping ------------------------------------------------------------------------------------


def test_script_in_a_choice_name_is_escaped_on_schema_and_article_pages(
    signed_in: Client,
    client: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> None:
    evil = "<script>alert(1)</script>"
    add(signed_in, corpus, "claim_type", value="evil", name=evil, key="e")
    article = make_article(corpus=corpus)
    Assignment.objects.create(article=article, annotator=annotator)

    schema_page = signed_in.get(schema_url(corpus)).content.decode()
    annotator_client = Client()
    annotator_client.force_login(annotator)
    article_page = annotator_client.get(article.get_absolute_url()).content.decode()

    for page in (schema_page, article_page):
        assert evil not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
