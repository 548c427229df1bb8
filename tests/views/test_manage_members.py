"""The Members page: the list with per-member progress, adding an existing account, creating a
new one (its password shown once), changing roles and removing members."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import (
    Annotation,
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    Membership,
    Role,
)


def members_url(corpus: Corpus) -> str:
    return reverse("annotator:corpus-members", kwargs={"slug": corpus.slug})


def action_url(name: str, corpus: Corpus, user: AbstractUser) -> str:
    membership = Membership.objects.get(corpus=corpus, user=user)
    return reverse(
        f"annotator:corpus-member-{name}", kwargs={"slug": corpus.slug, "pk": membership.pk}
    )


def messages_of(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def signed_in(client: Client, manager: AbstractUser) -> Client:
    client.force_login(manager)
    return client


# The list ------------------------------------------------------------------------------------


def test_members_page_shows_each_members_progress(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> None:
    done = make_article(corpus=corpus, text="One done. Two done.")
    started = make_article(corpus=corpus, text="Started here. Not yet done.")
    Assignment.objects.create(article=done, annotator=annotator, status=AssignmentStatus.DONE)
    Assignment.objects.create(article=started, annotator=annotator)
    for sentence in done.sentences.all():
        make_annotation(sentence=sentence, annotator=annotator, value="opinion")

    response = signed_in.get(members_url(corpus))

    assert response.status_code == 200
    row = next(m for m in response.context["members"] if m.user == annotator)
    assert (row.open, row.done, row.skipped, row.labels) == (1, 1, 0, done.sentences.count())
    assert b"annotator" in response.content


def test_members_page_query_count_does_not_grow_with_members(
    signed_in: Client,
    corpus: Corpus,
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., Article],
    django_assert_num_queries: Callable,
) -> None:
    article = make_article(corpus=corpus)
    for number in range(6):
        member = make_member(corpus=corpus, role=Role.ANNOTATOR if number % 2 else Role.CURATOR)
        Assignment.objects.create(article=article, annotator=member)

    # 1 session, 2 user, 3 the corpus (manager role checked in the same query),
    # 4 the members with their counts (subqueries, one query for every row).
    with django_assert_num_queries(4):
        response = signed_in.get(members_url(corpus))
    assert len(response.context["members"]) == 7


# Adding an existing account ------------------------------------------------------------------


def test_manager_adds_existing_account_with_a_role(
    signed_in: Client, corpus: Corpus, make_user: Callable[..., AbstractUser]
) -> None:
    make_user(username="newcomer")

    response = signed_in.post(
        reverse("annotator:corpus-member-add", kwargs={"slug": corpus.slug}),
        {"username": "newcomer", "role": "curator"},
        follow=True,
    )

    assert Membership.objects.get(corpus=corpus, user__username="newcomer").role == Role.CURATOR
    assert "newcomer joined as curator." in messages_of(response)


def test_adding_unknown_username_is_a_form_error(signed_in: Client, corpus: Corpus) -> None:
    response = signed_in.post(
        reverse("annotator:corpus-member-add", kwargs={"slug": corpus.slug}),
        {"username": "nobody", "role": "annotator"},
    )

    assert response.status_code == 400
    assert "There is no account named “nobody”" in response.content.decode()
    assert not Membership.objects.filter(user__username="nobody").exists()


def test_adding_a_member_twice_is_a_form_error(
    signed_in: Client, corpus: Corpus, annotator: AbstractUser
) -> None:
    response = signed_in.post(
        reverse("annotator:corpus-member-add", kwargs={"slug": corpus.slug}),
        {"username": "annotator", "role": "manager"},
    )

    assert response.status_code == 400
    assert "annotator is already a member" in response.content.decode()
    assert Membership.objects.get(corpus=corpus, user=annotator).role == Role.ANNOTATOR


# Creating an account -------------------------------------------------------------------------


def test_new_account_password_is_shown_once_and_signs_in(signed_in: Client, corpus: Corpus) -> None:
    response = signed_in.post(
        reverse("annotator:corpus-member-create", kwargs={"slug": corpus.slug}),
        {"username": "fresh", "email": "fresh@example.org", "role": "annotator"},
    )

    assert response.status_code == 200
    match = re.search(
        r'<code id="new-password" class="secret">([^<]+)</code>', response.content.decode()
    )
    assert match is not None
    password = match.group(1)
    user = get_user_model().objects.get(username="fresh")
    assert user.email == "fresh@example.org"
    assert Membership.objects.get(corpus=corpus, user=user).role == Role.ANNOTATOR
    # Stored as a hash only, and never again on the page.
    assert password not in user.password
    assert user.check_password(password)
    again = signed_in.get(members_url(corpus))
    assert password not in again.content.decode()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert Client().login(username="fresh", password=password)


def test_two_new_accounts_get_different_passwords(signed_in: Client, corpus: Corpus) -> None:
    url = reverse("annotator:corpus-member-create", kwargs={"slug": corpus.slug})
    passwords = set()
    for username in ("first-new", "second-new"):
        content = signed_in.post(url, {"username": username, "role": "annotator"}).content.decode()
        passwords.add(re.search(r'id="new-password" class="secret">([^<]+)<', content).group(1))

    assert len(passwords) == 2
    assert all(len(password) >= 20 for password in passwords)


@pytest.mark.parametrize(
    ("username", "error"),
    [
        ("ANNOTATOR", "The username “ANNOTATOR” is already taken."),
        ("no spaces", "Enter a valid username."),
        ("", "This field is required."),
    ],
)
def test_bad_new_username_is_a_form_error(
    signed_in: Client, corpus: Corpus, annotator: AbstractUser, username: str, error: str
) -> None:
    users_before = get_user_model().objects.count()

    response = signed_in.post(
        reverse("annotator:corpus-member-create", kwargs={"slug": corpus.slug}),
        {"username": username, "role": "annotator"},
    )

    assert response.status_code == 400
    assert error in response.content.decode()
    assert get_user_model().objects.count() == users_before


# Roles and removal ---------------------------------------------------------------------------


def test_manager_changes_a_role(signed_in: Client, corpus: Corpus, annotator: AbstractUser) -> None:
    response = signed_in.post(
        action_url("role", corpus, annotator), {"role": "curator"}, follow=True
    )

    assert Membership.objects.get(corpus=corpus, user=annotator).role == Role.CURATOR
    assert "annotator is now curator." in messages_of(response)


def test_invalid_role_is_refused(
    signed_in: Client, corpus: Corpus, annotator: AbstractUser
) -> None:
    response = signed_in.post(action_url("role", corpus, annotator), {"role": "owner"}, follow=True)

    assert Membership.objects.get(corpus=corpus, user=annotator).role == Role.ANNOTATOR
    assert "Pick one of the roles" in messages_of(response)[0]


def test_last_manager_cannot_step_down_or_be_removed(
    signed_in: Client, corpus: Corpus, manager: AbstractUser
) -> None:
    demoted = signed_in.post(
        action_url("role", corpus, manager), {"role": "annotator"}, follow=True
    )
    removed = signed_in.post(action_url("remove", corpus, manager), follow=True)

    assert Membership.objects.get(corpus=corpus, user=manager).role == Role.MANAGER
    expected = "manager is the last manager of Korea coverage; make someone else a manager first."
    assert messages_of(demoted) == [expected]
    assert messages_of(removed) == [expected]


def test_a_manager_can_leave_when_another_manager_remains(
    signed_in: Client,
    corpus: Corpus,
    manager: AbstractUser,
    make_member: Callable[..., AbstractUser],
) -> None:
    make_member(corpus=corpus, role=Role.MANAGER)

    signed_in.post(action_url("remove", corpus, manager))

    assert not Membership.objects.filter(corpus=corpus, user=manager).exists()


def test_removing_an_annotator_keeps_labels_and_frees_open_articles(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> None:
    finished = make_article(corpus=corpus, text="Finished one. Indeed.")
    started = make_article(corpus=corpus, text="Started one. Not done.")
    Assignment.objects.create(article=finished, annotator=annotator, status=AssignmentStatus.DONE)
    open_assignment = Assignment.objects.create(article=started, annotator=annotator)
    make_annotation(sentence=finished.sentences.first(), annotator=annotator, value="opinion")

    response = signed_in.post(action_url("remove", corpus, annotator), follow=True)

    assert not Membership.objects.filter(corpus=corpus, user=annotator).exists()
    assert Annotation.objects.filter(annotator=annotator).count() == 1
    open_assignment.refresh_from_db()
    assert open_assignment.status == AssignmentStatus.SKIPPED
    assert Assignment.objects.get(article=finished).status == AssignmentStatus.DONE
    assert messages_of(response) == [
        "annotator was removed; their labels stay. 1 article(s) in progress went back to the pool."
    ]
    # Removed means removed: the corpus is gone from their view.
    client = Client()
    client.force_login(annotator)
    assert client.get(corpus.get_absolute_url()).status_code == 404
