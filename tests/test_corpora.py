"""corpora.py: the writes behind the corpus settings pages, including what two managers doing
things at the same moment must never produce (a corpus without a manager)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection

from annotator.corpora import (
    ManagementError,
    change_role,
    create_corpus,
    create_member_account,
    delete_choice,
    move_in_order,
    remove_member,
    save_choice,
)
from annotator.models import Corpus, LabelChoice, Layer, Membership, Role


def test_create_corpus_gives_default_schema_and_first_manager(
    make_user: Callable[..., AbstractUser],
) -> None:
    creator = make_user()

    corpus = create_corpus(creator=creator, name="New", slug="new")

    assert corpus.choices.filter(layer=Layer.CLAIM_TYPE).count() == 4
    assert Membership.objects.get(corpus=corpus).role == Role.MANAGER


def test_new_account_password_is_random_and_only_its_hash_is_stored(corpus: Corpus) -> None:
    first, first_password = create_member_account(
        corpus=corpus, username="a-new", email="", role=Role.ANNOTATOR
    )
    second, second_password = create_member_account(
        corpus=corpus, username="b-new", email="", role=Role.ANNOTATOR
    )

    assert first_password != second_password
    assert first.check_password(first_password)
    assert first_password not in first.password


def test_taken_username_creates_nothing(corpus: Corpus, annotator: AbstractUser) -> None:
    with pytest.raises(ManagementError, match="already taken"):
        create_member_account(corpus=corpus, username="annotator", email="", role=Role.MANAGER)

    assert Membership.objects.filter(corpus=corpus).count() == 1


def test_save_choice_turns_a_key_collision_into_a_management_error(corpus: Corpus) -> None:
    clash = LabelChoice(corpus=corpus, layer=Layer.STANCE, value="mixed", name="Mixed", key="1")

    with pytest.raises(ManagementError, match="The key “1” is already used"):
        save_choice(choice=clash)

    assert not LabelChoice.objects.filter(value="mixed").exists()


def test_delete_choice_bumps_schema_version(corpus: Corpus) -> None:
    before = corpus.schema_version

    delete_choice(choice=LabelChoice.objects.get(corpus=corpus, value="opinion"))

    corpus.refresh_from_db()
    assert corpus.schema_version == before + 1


def test_model_delete_bumps_schema_version_for_choices_and_targets(corpus: Corpus) -> None:
    before = corpus.schema_version

    LabelChoice.objects.get(corpus=corpus, value="neutral").delete()
    corpus.stance_targets.get().delete()

    corpus.refresh_from_db()
    assert corpus.schema_version == before + 2


def test_move_renumbers_siblings_with_equal_orders(corpus: Corpus) -> None:
    LabelChoice.objects.filter(corpus=corpus, layer=Layer.STANCE).update(order=0)
    against = LabelChoice.objects.get(corpus=corpus, value="against")

    assert move_in_order(item=against, step=-1)

    order = list(
        LabelChoice.objects.filter(corpus=corpus, layer=Layer.STANCE)
        .order_by("order")
        .values_list("value", "order")
    )
    assert order == [("against", 0), ("favor", 1), ("neutral", 2)]


def test_removing_someone_no_longer_a_member_is_harmless(
    corpus: Corpus, manager: AbstractUser, annotator: AbstractUser
) -> None:
    membership = Membership.objects.get(corpus=corpus, user=annotator)
    remove_member(membership=membership)

    assert remove_member(membership=membership) == 0


@pytest.mark.django_db(transaction=True)
def test_two_managers_demoting_each_other_at_once_leave_one_manager(
    make_corpus: Callable[..., Corpus], make_member: Callable[..., AbstractUser]
) -> None:
    """Each demotion alone is allowed (another manager remains); run together, the row locks
    make the second one see the first and refuse, so the corpus keeps a manager."""
    corpus = make_corpus()
    memberships = [
        Membership.objects.get(user=make_member(corpus=corpus, role=Role.MANAGER)) for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    refused: list[str] = []

    def demote(membership: Membership) -> None:
        try:
            barrier.wait()
            change_role(membership=membership, role=Role.ANNOTATOR)
        except ManagementError as error:
            refused.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(m,)) for m in memberships]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Membership.objects.filter(corpus=corpus, role=Role.MANAGER).count() == 1
    assert len(refused) == 1
