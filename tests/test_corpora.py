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
    add_member,
    change_role,
    create_corpus,
    create_member_account,
    delete_choice,
    delete_target,
    move_in_order,
    remove_member,
    save_choice,
    save_target,
)
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


def new_choice(corpus: Corpus) -> LabelChoice:
    return save_choice(
        choice=LabelChoice(corpus=corpus, layer=Layer.STANCE, value="mixed", name="Mixed", key="m")
    )


def renamed_choice(corpus: Corpus) -> LabelChoice:
    choice = LabelChoice.objects.get(corpus=corpus, value="neutral")
    choice.name = "Neither"
    return save_choice(choice=choice)


SCHEMA_WRITES = {
    "add a choice": new_choice,
    "edit a choice": renamed_choice,
    "delete a choice": lambda corpus: delete_choice(
        choice=LabelChoice.objects.get(corpus=corpus, value="neutral")
    ),
    "move a choice": lambda corpus: move_in_order(
        item=LabelChoice.objects.get(corpus=corpus, value="neutral"), step=-1
    ),
    "add a target": lambda corpus: save_target(
        target=StanceTarget(corpus=corpus, name="Sanctions")
    ),
    "edit a target": lambda corpus: save_target(target=corpus.stance_targets.get()),
    "delete a target": lambda corpus: delete_target(target=corpus.stance_targets.get()),
}


@pytest.mark.parametrize("write", SCHEMA_WRITES.values(), ids=SCHEMA_WRITES.keys())
def test_every_schema_write_raises_the_schema_version_once(
    corpus: Corpus, write: Callable[[Corpus], object]
) -> None:
    before = corpus.schema_version

    write(corpus)

    corpus.refresh_from_db()
    assert corpus.schema_version == before + 1


def test_a_used_choice_keeps_its_value_but_may_be_renamed(
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> None:
    make_annotation(
        sentence=make_article(corpus=corpus).sentences.first(), annotator=annotator, value="opinion"
    )
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    before = corpus.schema_version

    opinion.value = "view"
    with pytest.raises(ManagementError, match="“opinion” is used by annotations") as refused:
        save_choice(choice=opinion)
    opinion.value, opinion.name = "opinion", "View"
    save_choice(choice=opinion)

    assert refused.value.field == "value"
    assert LabelChoice.objects.get(pk=opinion.pk).name == "View"
    corpus.refresh_from_db()
    assert corpus.schema_version == before + 1  # the refused edit wrote nothing


def test_an_unused_choice_may_change_its_value(corpus: Corpus) -> None:
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    opinion.value = "view"

    save_choice(choice=opinion)

    assert LabelChoice.objects.filter(corpus=corpus, value="view").exists()


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


def test_removal_gives_open_articles_back_and_keeps_finished_ones(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> None:
    started = Assignment.objects.create(
        article=make_article(corpus=corpus, text="Started here. Not yet done."), annotator=annotator
    )
    finished = Assignment.objects.create(
        article=make_article(corpus=corpus, text="Finished one. Indeed."),
        annotator=annotator,
        status=AssignmentStatus.DONE,
    )

    released = remove_member(membership=Membership.objects.get(corpus=corpus, user=annotator))

    started.refresh_from_db()
    finished.refresh_from_db()
    assert released == 1
    assert (started.status, started.skip_reason) == (
        AssignmentStatus.SKIPPED,
        "Removed from the corpus.",
    )
    assert finished.status == AssignmentStatus.DONE


def test_last_manager_is_neither_demoted_nor_removed(corpus: Corpus, manager: AbstractUser) -> None:
    membership = Membership.objects.get(corpus=corpus, user=manager)

    for change in (
        lambda: change_role(membership=membership, role=Role.CURATOR),
        lambda: remove_member(membership=membership),
    ):
        with pytest.raises(ManagementError, match="is the last manager of Korea coverage"):
            change()

    assert Membership.objects.get(pk=membership.pk).role == Role.MANAGER


@pytest.mark.parametrize("role", ["owner", ""])
def test_a_role_that_does_not_exist_is_refused(
    corpus: Corpus, annotator: AbstractUser, make_user: Callable[..., AbstractUser], role: str
) -> None:
    membership = Membership.objects.get(corpus=corpus, user=annotator)

    with pytest.raises(ManagementError, match="is not a role") as added:
        add_member(corpus=corpus, user=make_user(), role=role)
    with pytest.raises(ManagementError, match="is not a role"):
        change_role(membership=membership, role=role)

    assert added.value.field == "role"
    assert Membership.objects.get(pk=membership.pk).role == Role.ANNOTATOR
    assert Membership.objects.filter(corpus=corpus).count() == 1


def test_adding_a_member_twice_is_refused(corpus: Corpus, annotator: AbstractUser) -> None:
    with pytest.raises(ManagementError, match="already a member") as refused:
        add_member(corpus=corpus, user=annotator, role=Role.CURATOR)

    assert refused.value.field == "username"
    assert corpus.role_of(annotator) == Role.ANNOTATOR


def run_at_once(*calls: Callable[[], object]) -> list[str]:
    """Run the calls in threads released together (each on its own connection, as two
    requests would be); returns the refusals' messages."""
    barrier = threading.Barrier(len(calls))
    refused: list[str] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except ManagementError as error:
            refused.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refused


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("meet_after_reading")
def test_two_last_managers_removed_at_once_leave_one_manager(
    make_corpus: Callable[..., Corpus], make_member: Callable[..., AbstractUser]
) -> None:
    """Each removal alone is allowed (another manager remains); run together, the row locks
    make the second see the first and refuse, so the corpus keeps a manager."""
    corpus = make_corpus()
    first, second = (
        Membership.objects.get(user=make_member(corpus=corpus, role=Role.MANAGER)) for _ in range(2)
    )

    refused = run_at_once(
        lambda: remove_member(membership=first), lambda: remove_member(membership=second)
    )

    assert Membership.objects.filter(corpus=corpus, role=Role.MANAGER).count() == 1
    assert len(refused) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("meet_after_reading")
def test_two_managers_demoting_each_other_at_once_leave_one_manager(
    make_corpus: Callable[..., Corpus], make_member: Callable[..., AbstractUser]
) -> None:
    """Each demotion alone is allowed (another manager remains); run together, the row locks
    make the second one see the first and refuse, so the corpus keeps a manager."""
    corpus = make_corpus()
    memberships = [
        Membership.objects.get(user=make_member(corpus=corpus, role=Role.MANAGER)) for _ in range(2)
    ]
    refused = run_at_once(
        *(lambda m=m: change_role(membership=m, role=Role.ANNOTATOR) for m in memberships)
    )

    assert Membership.objects.filter(corpus=corpus, role=Role.MANAGER).count() == 1
    assert len(refused) == 1
