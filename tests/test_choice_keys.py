"""Keys the pages use themselves (j, k, u, !, /, >, ?, space) can never become a label choice's
key: the rule is one validator on LabelChoice.key, and each entry point that sets a key (model
validation, the settings pages' add and edit, the admin's add and change) refuses them."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from annotator.models import RESERVED_KEYS, Corpus, LabelChoice, Layer

NEW_CHOICE = {"value": "rumour", "name": "Rumour"}


def keys_in_use(corpus: Corpus) -> dict[str, str]:
    return dict(LabelChoice.objects.filter(corpus=corpus).values_list("value", "key"))


@pytest.fixture
def superuser(make_user: Callable[..., AbstractUser]) -> AbstractUser:
    # The admin is the superusers' only (staff managers use the settings pages).
    return make_user(username="root", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("key", sorted(RESERVED_KEYS))
def test_model_validation_refuses_every_reserved_key(corpus: Corpus, key: str) -> None:
    choice = LabelChoice(corpus=corpus, layer=Layer.CLAIM_TYPE, key=key, **NEW_CHOICE)

    with pytest.raises(ValidationError) as caught:
        choice.full_clean()

    [message] = caught.value.message_dict["key"]
    assert "on the article and curation pages; pick another." in message


@pytest.mark.parametrize("key", ["\t", "\n", "\u200b"])
def test_model_validation_refuses_an_invisible_key(corpus: Corpus, key: str) -> None:
    choice = LabelChoice(corpus=corpus, layer=Layer.CLAIM_TYPE, key=key, **NEW_CHOICE)

    with pytest.raises(ValidationError) as caught:
        choice.full_clean()

    assert caught.value.message_dict["key"] == [
        "A key must be one visible character (a letter, digit or sign)."
    ]


def test_model_validation_accepts_an_ordinary_key(corpus: Corpus) -> None:
    LabelChoice(corpus=corpus, layer=Layer.CLAIM_TYPE, key="r", **NEW_CHOICE).full_clean()


@pytest.mark.parametrize("key", ["!", ">", " "])
def test_settings_page_refuses_a_reserved_key_for_a_new_choice(
    client: Client, manager: AbstractUser, corpus: Corpus, key: str
) -> None:
    client.force_login(manager)
    before = keys_in_use(corpus)

    response = client.post(
        reverse("annotator:corpus-choice-add", kwargs={"slug": corpus.slug}),
        {"layer": Layer.CLAIM_TYPE}
        | {f"claim_type-{name}": value for name, value in (NEW_CHOICE | {"key": key}).items()},
    )

    assert response.status_code == 400
    shown = "space" if key == " " else key
    assert f"The key “{escape(shown)}” {RESERVED_KEYS[key]}" in response.content.decode()
    assert keys_in_use(corpus) == before


def test_settings_page_refuses_changing_a_key_to_a_reserved_one(
    client: Client, manager: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(manager)
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")

    response = client.post(
        reverse("annotator:corpus-choice-edit", kwargs={"slug": corpus.slug, "pk": opinion.pk}),
        {"value": "opinion", "name": "Opinion", "key": ">"},
    )

    assert response.status_code == 400
    assert "The key “&gt;” skips the article" in response.content.decode()
    opinion.refresh_from_db()
    assert opinion.key == "2"


def test_admin_refuses_a_reserved_key_for_a_new_choice(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(superuser)

    response = client.post(
        reverse("admin:annotator_labelchoice_add"),
        {"corpus": corpus.pk, "layer": Layer.CLAIM_TYPE, "key": "u", "order": 9} | NEW_CHOICE,
    )

    assert response.status_code == 200  # the form again, with the error
    assert "The key “u” undoes the last change" in response.content.decode()
    assert not LabelChoice.objects.filter(corpus=corpus, value="rumour").exists()


def test_admin_refuses_changing_a_key_to_a_reserved_one(
    client: Client, superuser: AbstractUser, corpus: Corpus
) -> None:
    client.force_login(superuser)
    favor = LabelChoice.objects.get(corpus=corpus, value="favor")

    response = client.post(
        reverse("admin:annotator_labelchoice_change", args=[favor.pk]),
        {
            "corpus": corpus.pk,
            "layer": Layer.STANCE,
            "value": "favor",
            "name": "Favor",
            "key": "/",
            "order": favor.order,
            "numeric_code": "1",
        },
    )

    assert response.status_code == 200
    assert "The key “/” opens the note field" in response.content.decode()
    favor.refresh_from_db()
    assert favor.key == "f"


@pytest.mark.parametrize("key", ["j", "?", " "])
def test_domain_function_refuses_a_reserved_key(corpus: Corpus, key: str) -> None:
    from annotator.corpora import ManagementError, save_choice

    choice = LabelChoice(corpus=corpus, layer=Layer.CLAIM_TYPE, key=key, **NEW_CHOICE)

    with pytest.raises(ManagementError) as caught:
        save_choice(choice=choice)

    assert caught.value.field == "key"
    assert "rumour" not in keys_in_use(corpus)
