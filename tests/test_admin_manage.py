"""What a superuser may still write in the admin goes through corpora.py, like every other entry
point: corpus creation, memberships (a corpus keeps a manager; a removed member's articles in
progress go back to the pool), label choices and stance targets (used ones are neither deleted
nor, for a choice, given another value; the schema version moves). Refusals come back as the
rule's own message and change nothing. Labels, history, notes, gold, articles and assignments
are read-only."""

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
    AssignmentStatus,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Role,
    StanceTarget,
)


@pytest.fixture
def superuser(make_user: Callable[..., AbstractUser]) -> AbstractUser:
    return make_user(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def signed_in(client: Client, superuser: AbstractUser) -> Client:
    client.force_login(superuser)
    return client


def version(corpus: Corpus) -> int:
    corpus.refresh_from_db()
    return corpus.schema_version


def messages_of(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def used_opinion(
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> LabelChoice:
    article = make_article(corpus=corpus)
    make_annotation(sentence=article.sentences.first(), annotator=annotator, value="opinion")
    return LabelChoice.objects.get(corpus=corpus, value="opinion")


# Corpora -------------------------------------------------------------------------------------


def test_a_corpus_added_here_gets_the_default_schema_and_a_manager(
    signed_in: Client, superuser: AbstractUser
) -> None:
    response = signed_in.post(
        reverse("admin:annotator_corpus_add"),
        {
            "name": "Iran coverage",
            "slug": "iran",
            "annotators_per_article": 2,
            # The model-assistance settings as the add form shows them (their defaults).
            "suggestions": "off",
            "suggestion_control_share": 0.2,
            "retrain_every": 0,
            "assignment_order": "fair",
        },
    )

    corpus = Corpus.objects.get(slug="iran")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:annotator_corpus_changelist")
    assert corpus.choices.filter(layer=Layer.CLAIM_TYPE).count() == 4
    assert corpus.role_of(superuser) == Role.MANAGER


# Label choices and stance targets ------------------------------------------------------------


def test_a_choice_added_here_goes_last_and_bumps_the_version(
    signed_in: Client, corpus: Corpus
) -> None:
    before = version(corpus)

    response = signed_in.post(
        reverse("admin:annotator_labelchoice_add"),
        {
            "corpus": corpus.pk,
            "layer": Layer.CLAIM_TYPE,
            "value": "rumour",
            "name": "Rumour",
            "key": "r",
        },
    )

    added = LabelChoice.objects.get(corpus=corpus, value="rumour")
    assert response.status_code == 302
    assert added.order == 4  # after the four default claim types
    assert version(corpus) == before + 1


def test_a_key_the_pages_reserve_is_refused_as_on_the_schema_page(
    signed_in: Client, corpus: Corpus
) -> None:
    response = signed_in.post(
        reverse("admin:annotator_labelchoice_add"),
        {"corpus": corpus.pk, "layer": Layer.STANCE, "value": "mixed", "name": "Mixed", "key": "j"},
    )

    assert response.status_code == 200
    assert "moves through sentences" in response.content.decode()
    assert not LabelChoice.objects.filter(value="mixed").exists()


def test_a_used_choice_keeps_its_value_and_says_why(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> None:
    opinion = used_opinion(corpus, annotator, make_article, make_annotation)
    before = version(corpus)

    response = signed_in.post(
        reverse("admin:annotator_labelchoice_change", args=[opinion.pk]),
        {"value": "view", "name": "View", "key": opinion.key},
        follow=True,
    )

    opinion.refresh_from_db()
    assert (opinion.value, opinion.name) == ("opinion", "Opinion")
    assert messages_of(response) == [
        "“opinion” is used by annotations or gold labels and exports name it; it cannot change. "
        "Edit the display name instead."
    ]
    assert version(corpus) == before


def test_a_used_choice_is_not_deleted_and_the_count_is_given(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> None:
    opinion = used_opinion(corpus, annotator, make_article, make_annotation)
    url = reverse("admin:annotator_labelchoice_delete", args=[opinion.pk])

    confirm = signed_in.get(url)
    response = signed_in.post(url, {"post": "yes"}, follow=True)

    assert confirm.status_code == 200
    assert LabelChoice.objects.filter(pk=opinion.pk).exists()
    assert messages_of(response) == [
        "“Opinion” is used by 1 annotation; it cannot be deleted. Rename it instead, or relabel "
        "those sentences first."
    ]


def test_deleting_an_unused_choice_or_target_bumps_the_version(
    signed_in: Client, corpus: Corpus
) -> None:
    before = version(corpus)
    choice = LabelChoice.objects.get(corpus=corpus, value="user_comment")
    target = corpus.stance_targets.get()

    signed_in.post(reverse("admin:annotator_labelchoice_delete", args=[choice.pk]), {"post": "yes"})
    signed_in.post(
        reverse("admin:annotator_stancetarget_delete", args=[target.pk]), {"post": "yes"}
    )

    assert not LabelChoice.objects.filter(pk=choice.pk).exists()
    assert not StanceTarget.objects.filter(pk=target.pk).exists()
    assert version(corpus) == before + 2


def test_a_target_name_taken_in_another_case_is_refused(signed_in: Client, corpus: Corpus) -> None:
    response = signed_in.post(
        reverse("admin:annotator_stancetarget_add"),
        {"corpus": corpus.pk, "name": "china–north korea ALLIANCE", "description": ""},
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert corpus.stance_targets.count() == 1


@pytest.mark.parametrize("model", ["labelchoice", "stancetarget", "membership"])
def test_no_bulk_delete_that_would_skip_the_rules(signed_in: Client, model: str) -> None:
    response = signed_in.get(reverse(f"admin:annotator_{model}_changelist"))

    assert "delete_selected" not in response.content.decode()


# Memberships ---------------------------------------------------------------------------------


def test_superuser_adds_a_member(
    signed_in: Client, corpus: Corpus, make_user: Callable[..., AbstractUser]
) -> None:
    newcomer = make_user(username="newcomer")

    response = signed_in.post(
        reverse("admin:annotator_membership_add"),
        {"user": newcomer.pk, "corpus": corpus.pk, "role": Role.CURATOR},
    )

    assert response.status_code == 302
    assert corpus.role_of(newcomer) == Role.CURATOR


def test_last_manager_is_neither_demoted_nor_removed_here(
    signed_in: Client, corpus: Corpus, manager: AbstractUser
) -> None:
    membership = Membership.objects.get(corpus=corpus, user=manager)
    expected = ["manager is the last manager of Korea coverage; make someone else a manager first."]

    demoted = signed_in.post(
        reverse("admin:annotator_membership_change", args=[membership.pk]),
        {"role": Role.ANNOTATOR},
        follow=True,
    )
    deleted = signed_in.post(
        reverse("admin:annotator_membership_delete", args=[membership.pk]),
        {"post": "yes"},
        follow=True,
    )

    assert messages_of(demoted) == expected
    assert messages_of(deleted) == expected
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER


def test_removing_a_member_here_gives_their_open_articles_back(
    signed_in: Client,
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> None:
    started = Assignment.objects.create(article=make_article(corpus=corpus), annotator=annotator)
    membership = Membership.objects.get(corpus=corpus, user=annotator)

    response = signed_in.post(
        reverse("admin:annotator_membership_delete", args=[membership.pk]),
        {"post": "yes"},
        follow=True,
    )

    started.refresh_from_db()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert started.status == AssignmentStatus.SKIPPED
    assert "1 article(s) in progress went back to the pool." in messages_of(response)


def test_a_role_change_here_takes_effect(
    signed_in: Client, corpus: Corpus, annotator: AbstractUser
) -> None:
    membership = Membership.objects.get(corpus=corpus, user=annotator)

    signed_in.post(
        reverse("admin:annotator_membership_change", args=[membership.pk]),
        {"role": Role.CURATOR},
    )

    membership.refresh_from_db()
    assert membership.role == Role.CURATOR


# Read-only -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    ["annotation", "annotationhistory", "sentencenote", "goldlabel", "article", "assignment"],
)
def test_what_annotating_and_curating_wrote_is_read_only(signed_in: Client, model: str) -> None:
    assert signed_in.get(reverse(f"admin:annotator_{model}_changelist")).status_code == 200
    assert signed_in.get(reverse(f"admin:annotator_{model}_add")).status_code == 403


def test_an_annotation_page_offers_no_edit_or_delete(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> None:
    article = make_article(corpus=corpus)
    annotation = make_annotation(
        sentence=article.sentences.first(), annotator=annotator, value="opinion"
    )

    page = signed_in.get(reverse("admin:annotator_annotation_change", args=[annotation.pk]))
    deleted = signed_in.post(
        reverse("admin:annotator_annotation_delete", args=[annotation.pk]), {"post": "yes"}
    )

    assert page.status_code == 200
    assert '<input type="submit" value="Save"' not in page.content.decode()
    assert deleted.status_code == 403
    assert Annotation.objects.filter(pk=annotation.pk).exists()
