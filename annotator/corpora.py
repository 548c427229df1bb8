"""Writes that shape a corpus: creating it with its default schema and first manager, its
members (adding, new accounts, roles, removal) and its label schema and stance targets (saving,
reordering, deleting only what no label uses). Each runs in one transaction.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.models import (
    Assignment,
    AssignmentStatus,
    Corpus,
    LabelChoice,
    Membership,
    Role,
    StanceTarget,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def create_corpus(*, creator: AbstractBaseUser, **fields: Any) -> Corpus:
    """A new corpus with the standard claim-type and stance choices, managed by `creator`."""
    with transaction.atomic():
        corpus = Corpus.objects.create(**fields)
        corpus.ensure_default_schema()
        Membership.objects.create(user=creator, corpus=corpus, role=Role.MANAGER)
    corpus.refresh_from_db()
    return corpus


class ManagementError(ValueError):
    """A change to a corpus's members or label schema that is refused, with a reason a person
    can read (shown as a message or a form error)."""


# Long enough that guessing is hopeless, short enough to read out or type once.
NEW_PASSWORD_BYTES = 15


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


# ---------------------------------------------------------------------------------------------
# Members


def _lock_memberships(corpus: Corpus) -> dict[int, str]:
    """Lock every membership of the corpus: two managers demoting or removing each other at
    the same moment must not leave the corpus with none. Returns {membership id: role} as
    committed after the lock was granted."""
    return dict(
        Membership.objects.select_for_update()
        .filter(corpus=corpus)
        .order_by("pk")
        .values_list("pk", "role")
    )


def _refuse_losing_last_manager(roles: dict[int, str], membership: Membership) -> None:
    managers = [pk for pk, role in roles.items() if role == Role.MANAGER]
    if managers == [membership.pk]:
        raise ManagementError(
            f"{membership.user.get_username()} is the last manager of {membership.corpus}; "
            "make someone else a manager first."
        )


def add_member(*, corpus: Corpus, user: AbstractBaseUser, role: str) -> Membership:
    """Make an existing account a member of the corpus with `role`."""
    try:
        with transaction.atomic():
            return Membership.objects.create(corpus=corpus, user=user, role=role)
    except IntegrityError:
        raise ManagementError(
            f"{user.get_username()} is already a member of {corpus}; change their role below."
        ) from None


def create_member_account(
    *, corpus: Corpus, username: str, email: str, role: str
) -> tuple[AbstractBaseUser, str]:
    """A new account with a random password, made a member of the corpus.

    Returns the user and the password in clear; only its hash is stored, so the caller shows
    it once and it can never be shown again.
    """
    password = secrets.token_urlsafe(NEW_PASSWORD_BYTES)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=username, email=email, password=password
            )
            Membership.objects.create(corpus=corpus, user=user, role=role)
    except IntegrityError:
        raise ManagementError(f"The username “{username}” is already taken.") from None
    return user, password


def change_role(*, membership: Membership, role: str) -> Membership:
    with transaction.atomic():
        roles = _lock_memberships(membership.corpus)
        if membership.pk not in roles:
            raise ManagementError(f"{membership.user.get_username()} is no longer a member.")
        if role != Role.MANAGER:
            _refuse_losing_last_manager(roles, membership)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def remove_member(*, membership: Membership) -> int:
    """Remove a member; returns how many articles in progress went back to the pool.

    Their annotations, history and finished articles stay: agreement and exports keep them.
    """
    corpus = membership.corpus
    with transaction.atomic():
        roles = _lock_memberships(corpus)
        if membership.pk not in roles:
            return 0
        _refuse_losing_last_manager(roles, membership)
        released = Assignment.objects.filter(
            article__corpus=corpus, annotator=membership.user, status=AssignmentStatus.ASSIGNED
        ).update(
            status=AssignmentStatus.SKIPPED,
            finished_at=timezone.now(),
            skip_reason="Removed from the corpus.",
        )
        membership.delete()
    return released


# ---------------------------------------------------------------------------------------------
# Label schema and stance targets


def save_choice(*, choice: LabelChoice) -> LabelChoice:
    """Add or edit a choice; a new one goes last in its layer. A key or value taken meanwhile
    by someone else (the form checked it first) becomes a ManagementError, not a 500."""
    try:
        with transaction.atomic():
            if choice.pk is None:
                last = (
                    LabelChoice.objects.filter(corpus=choice.corpus, layer=choice.layer)
                    .order_by("-order")
                    .values_list("order", flat=True)
                    .first()
                )
                choice.order = 0 if last is None else last + 1
            choice.save()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        if constraint == "label_choice_unique_value":
            raise ManagementError(f"The value “{choice.value}” is already in this layer.") from None
        raise ManagementError(f"The key “{choice.key}” is already used in this corpus.") from None
    return choice


def delete_choice(*, choice: LabelChoice) -> None:
    """Delete a choice nobody used; refuse, saying how often it is used, otherwise."""
    with transaction.atomic():
        # The row lock makes a label being saved with this choice wait for us (its foreign
        # key check needs a share lock), so the count below cannot go stale.
        locked = LabelChoice.objects.select_for_update().get(pk=choice.pk)
        annotations = locked.annotations.count()
        gold = locked.gold_labels.count()
        if annotations or gold:
            uses = " and ".join(
                _plural(count, word)
                for count, word in ((annotations, "annotation"), (gold, "gold label"))
                if count
            )
            raise ManagementError(
                f"“{locked.name}” is used by {uses}; it cannot be deleted. Rename it instead, "
                "or relabel those sentences first."
            )
        locked.delete()


def save_target(*, target: StanceTarget) -> StanceTarget:
    try:
        with transaction.atomic():
            if target.pk is None:
                last = (
                    StanceTarget.objects.filter(corpus=target.corpus)
                    .order_by("-order")
                    .values_list("order", flat=True)
                    .first()
                )
                target.order = 0 if last is None else last + 1
            target.save()
    except IntegrityError:
        raise ManagementError(f"A stance target named “{target.name}” already exists.") from None
    return target


def delete_target(*, target: StanceTarget) -> None:
    """Delete a stance target no label, gold label or history entry refers to."""
    with transaction.atomic():
        locked = StanceTarget.objects.select_for_update().get(pk=target.pk)
        counts = (
            (locked.annotations.count(), "annotation", ""),
            (locked.gold_labels.count(), "gold label", ""),
            (locked.history.count(), "history entry", "history entries"),
        )
        if any(count for count, *_ in counts):
            uses = " and ".join(_plural(*words) for words in counts if words[0])
            raise ManagementError(
                f"“{locked.name}” is used by {uses}; it cannot be deleted. Rename it instead."
            )
        locked.delete()


def move_in_order(*, item: LabelChoice | StanceTarget, step: int) -> bool:
    """Move a choice (within its layer) or a stance target one place up (-1) or down (+1).

    Renumbers the siblings 0, 1, 2... so equal or sparse `order` values cannot make a move do
    nothing. Returns False when the item is already first or last.
    """
    corpus = item.corpus
    with transaction.atomic():
        if isinstance(item, LabelChoice):
            siblings = LabelChoice.objects.filter(corpus=corpus, layer=item.layer)
        else:
            siblings = StanceTarget.objects.filter(corpus=corpus)
        ordered = list(siblings.select_for_update().order_by("order", "pk"))
        position = next(i for i, sibling in enumerate(ordered) if sibling.pk == item.pk)
        other = position + step
        if not 0 <= other < len(ordered):
            return False
        ordered[position], ordered[other] = ordered[other], ordered[position]
        changed = []
        for order, sibling in enumerate(ordered):
            if sibling.order != order:
                sibling.order = order
                changed.append(sibling)
        type(item).objects.bulk_update(changed, ["order"])
        corpus.bump_schema_version()
    return True
