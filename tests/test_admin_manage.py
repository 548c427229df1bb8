"""The admin for staff managers: they add, change and delete their own corpora's stance targets,
label choices and memberships and change the corpus itself, never another corpus's rows; labels,
history, notes and gold stay read-only; protected rows are refused on Django's own page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import (
    Annotation,
    Article,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Role,
    StanceTarget,
)


@pytest.fixture
def staff_manager(manager: AbstractUser) -> AbstractUser:
    manager.is_staff = True
    manager.save()
    return manager


@pytest.fixture
def signed_in(client: Client, staff_manager: AbstractUser) -> Client:
    client.force_login(staff_manager)
    return client


@pytest.fixture
def elsewhere(make_corpus: Callable[..., Corpus]) -> Corpus:
    return make_corpus(name="Someone else's", slug="elsewhere")


def version(corpus: Corpus) -> int:
    corpus.refresh_from_db()
    return corpus.schema_version


def test_manager_adds_a_label_choice_to_their_corpus(signed_in: Client, corpus: Corpus) -> None:
    before = version(corpus)

    response = signed_in.post(
        reverse("admin:annotator_labelchoice_add"),
        {
            "corpus": corpus.pk,
            "layer": Layer.CLAIM_TYPE,
            "value": "rumour",
            "name": "Rumour",
            "key": "r",
            "order": 9,
        },
    )

    assert response.status_code == 302
    assert LabelChoice.objects.filter(corpus=corpus, value="rumour").exists()
    assert version(corpus) == before + 1


def test_corpus_dropdown_offers_only_managed_corpora(
    signed_in: Client, corpus: Corpus, elsewhere: Corpus
) -> None:
    response = signed_in.get(reverse("admin:annotator_stancetarget_add"))
    offered = list(response.context["adminform"].form.fields["corpus"].queryset)

    posted = signed_in.post(
        reverse("admin:annotator_stancetarget_add"),
        {"corpus": elsewhere.pk, "name": "Smuggled", "order": 0},
    )

    assert offered == [corpus]
    assert posted.status_code == 200  # the form again, with an error
    assert not StanceTarget.objects.filter(name="Smuggled").exists()


def test_other_corpora_rows_cannot_be_changed_or_deleted(
    signed_in: Client, elsewhere: Corpus
) -> None:
    foreign = LabelChoice.objects.get(corpus=elsewhere, value="opinion")

    change = signed_in.get(reverse("admin:annotator_labelchoice_change", args=[foreign.pk]))
    delete = signed_in.post(
        reverse("admin:annotator_labelchoice_delete", args=[foreign.pk]), {"post": "yes"}
    )

    # The admin answers an object outside the queryset with a redirect to the index.
    assert change.status_code == 302
    assert delete.status_code == 302
    assert LabelChoice.objects.filter(pk=foreign.pk).exists()


def test_deleting_a_used_choice_shows_the_protected_objects_page(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> None:
    article = make_article(corpus=corpus)
    make_annotation(sentence=article.sentences.first(), annotator=annotator, value="opinion")
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    url = reverse("admin:annotator_labelchoice_delete", args=[opinion.pk])

    page = signed_in.get(url)
    signed_in.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert page.context["protected"]
    assert "<title>Cannot delete label choice" in page.content.decode()
    assert LabelChoice.objects.filter(pk=opinion.pk).exists()


def test_deleting_an_unused_choice_in_bulk_bumps_the_version(
    signed_in: Client, corpus: Corpus
) -> None:
    unused = list(LabelChoice.objects.filter(corpus=corpus, value__in=["opinion", "user_comment"]))
    before = version(corpus)

    response = signed_in.post(
        reverse("admin:annotator_labelchoice_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [choice.pk for choice in unused],
            "post": "yes",
        },
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Successfully deleted 2 label choices."
    ]
    assert not LabelChoice.objects.filter(pk__in=[choice.pk for choice in unused]).exists()
    assert version(corpus) == before + 1


def test_manager_adds_a_member_by_username(
    signed_in: Client, corpus: Corpus, make_user: Callable[..., AbstractUser]
) -> None:
    make_user(username="newcomer")

    response = signed_in.post(
        reverse("admin:annotator_membership_add"),
        {
            "user": "newcomer",
            "corpus": corpus.pk,
            "role": Role.CURATOR,
            "created_at_0": "2024-01-01",
            "created_at_1": "00:00:00",
        },
    )

    assert response.status_code == 302
    assert Membership.objects.get(user__username="newcomer").role == Role.CURATOR


def test_last_manager_cannot_be_demoted_or_deleted_in_the_admin(
    signed_in: Client, corpus: Corpus, staff_manager: AbstractUser
) -> None:
    membership = Membership.objects.get(corpus=corpus, user=staff_manager)

    demoted = signed_in.post(
        reverse("admin:annotator_membership_change", args=[membership.pk]),
        {"role": Role.ANNOTATOR, "created_at_0": "2024-01-01", "created_at_1": "00:00:00"},
    )
    deleted = signed_in.post(
        reverse("admin:annotator_membership_delete", args=[membership.pk]), {"post": "yes"}
    )

    assert "is the last manager of Korea coverage" in demoted.content.decode()
    assert "is the last manager of Korea coverage" in deleted.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER


def test_manager_changes_their_corpus_but_cannot_add_or_delete_corpora(
    signed_in: Client, corpus: Corpus
) -> None:
    change_url = reverse("admin:annotator_corpus_change", args=[corpus.pk])
    page = signed_in.get(change_url)

    assert page.status_code == 200
    assert "slug" not in page.context["adminform"].form.fields
    assert signed_in.get(reverse("admin:annotator_corpus_add")).status_code == 403
    assert (
        signed_in.get(reverse("admin:annotator_corpus_delete", args=[corpus.pk])).status_code == 403
    )


@pytest.mark.parametrize("model", ["annotation", "annotationhistory", "sentencenote", "goldlabel"])
def test_labels_history_notes_and_gold_stay_read_only(
    signed_in: Client, corpus: Corpus, model: str
) -> None:
    assert signed_in.get(reverse(f"admin:annotator_{model}_changelist")).status_code == 200
    assert signed_in.get(reverse(f"admin:annotator_{model}_add")).status_code == 403
