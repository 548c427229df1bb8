"""Writes that shape a corpus: creating it with its default schema and first manager, its
members (adding, new accounts, roles, removal) and its label schema and stance targets (saving,
reordering, deleting only what no label uses). Each runs in one transaction.

These functions are where the rules of a corpus's shape are decided, whoever asks: the manage
pages, the API, the admin and the management commands all call them and only translate a
`ManagementError` into their own answer (a message, a form error, a 400). The rules: a corpus
keeps a manager (the last one can be neither demoted nor removed, even by two requests at the
same moment); a removed member's articles in progress go back to the pool; a choice or stance
target in use cannot be deleted, nor a used choice's value changed; every schema change raises
the corpus's schema version.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotator.article_stats import count_assignments
from annotator.models import (
    Assignment,
    AssignmentStatus,
    Corpus,
    LabelChoice,
    Membership,
    Role,
    StanceTarget,
    validate_choice_key,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def create_corpus(*, creator: User, **fields: Any) -> Corpus:
    """A new corpus with the standard claim-type and stance choices, managed by `creator`."""
    with transaction.atomic():
        corpus = Corpus.objects.create(**fields)
        corpus.ensure_default_schema()
        Membership.objects.create(user=creator, corpus=corpus, role=Role.MANAGER)
    corpus.refresh_from_db()
    return corpus


class ManagementError(ValueError):
    """A change to a corpus's members or label schema that is refused, with a reason a person
    can read (shown as a message or a form error); `field` names the input it is about, if one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ManagementError(
            f"“{role}” is not a role; pick one of {', '.join(Role.values)}.", field="role"
        )


def add_member(*, corpus: Corpus, user: User, role: str) -> Membership:
    """Make an existing account a member of the corpus with `role`."""
    _check_role(role)
    try:
        with transaction.atomic():
            return Membership.objects.create(corpus=corpus, user=user, role=role)
    except IntegrityError:
        raise ManagementError(
            f"{user.get_username()} is already a member of {corpus}; change their role instead.",
            field="username",
        ) from None


def create_member_account(
    *, corpus: Corpus, username: str, email: str, role: str
) -> tuple[User, str]:
    """A new account with a random password, made a member of the corpus.

    Returns the user and the password in clear; only its hash is stored, so the caller shows
    it once and it can never be shown again.
    """
    _check_role(role)
    password = secrets.token_urlsafe(NEW_PASSWORD_BYTES)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=username, email=email, password=password
            )
            Membership.objects.create(corpus=corpus, user=user, role=role)
    except IntegrityError:
        raise ManagementError(
            f"The username “{username}” is already taken.", field="username"
        ) from None
    return user, password


def change_role(*, membership: Membership, role: str) -> Membership:
    """Give a member another role; the corpus's last manager keeps theirs."""
    _check_role(role)
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
        in_progress = Assignment.objects.filter(
            article__corpus=corpus, annotator=membership.user, status=AssignmentStatus.ASSIGNED
        )
        article_ids = sorted(in_progress.values_list("article_id", flat=True))
        released = in_progress.update(
            status=AssignmentStatus.SKIPPED,
            finished_at=timezone.now(),
            skip_reason="Removed from the corpus.",
        )
        count_assignments(article_ids=article_ids)
        membership.delete()
    return released


# ---------------------------------------------------------------------------------------------
# Label schema and stance targets


def save_choice(*, choice: LabelChoice) -> LabelChoice:
    """Add or edit a choice; a new one goes last in its layer.

    The value of a choice that annotations or gold labels use cannot change: exports and
    stored gold name choices by value. A key or value taken meanwhile by someone else (the form
    checked it first) becomes a ManagementError, not a 500.
    """
    try:
        validate_choice_key(choice.key)
    except ValidationError as error:
        raise ManagementError(" ".join(error.messages), field="key") from None
    try:
        with transaction.atomic():
            if choice.pk is None:
                choice.order = _next_order(choice)
            else:
                _refuse_changing_a_used_value(choice)
            choice.save()
            choice.corpus.bump_schema_version()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        if constraint == "label_choice_unique_value":
            raise ManagementError(
                f"The value “{choice.value}” is already in this layer.", field="value"
            ) from None
        raise ManagementError(
            f"The key “{choice.key}” is already used in this corpus.", field="key"
        ) from None
    return choice


def _refuse_changing_a_used_value(choice: LabelChoice) -> None:
    # The row lock makes a label being saved with this choice wait for us (as in delete_choice),
    # so "not used" cannot go stale before the new value is written.
    stored = (
        LabelChoice.objects.select_for_update()
        .filter(pk=choice.pk)
        .values_list("value", flat=True)
        .first()
    )
    if stored is not None and stored != choice.value and choice.is_used():
        raise ManagementError(
            f"“{stored}” is used by annotations or gold labels and exports name it; it cannot "
            "change. Edit the display name instead.",
            field="value",
        )


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
        locked.corpus.bump_schema_version()


def save_target(*, target: StanceTarget) -> StanceTarget:
    """Add or edit a stance target; a new one goes last."""
    try:
        with transaction.atomic():
            if target.pk is None:
                target.order = _next_order(target)
            target.save()
            target.corpus.bump_schema_version()
    except IntegrityError:
        raise ManagementError(
            f"A stance target named “{target.name}” already exists.", field="name"
        ) from None
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
        locked.corpus.bump_schema_version()


def move_in_order(*, item: LabelChoice | StanceTarget, step: int) -> bool:
    """Move a choice (within its layer) or a stance target one place up (-1) or down (+1).

    Renumbers the siblings 0, 1, 2... so equal or sparse `order` values cannot make a move do
    nothing. Returns False when the item is already first or last.
    """
    with transaction.atomic():
        ordered = list(_siblings(item).select_for_update().order_by("order", "pk"))
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
        item.corpus.bump_schema_version()
    return True


def _siblings(item: LabelChoice | StanceTarget) -> QuerySet:
    """What an item is ordered among: the choices of its layer, or the corpus's targets."""
    if isinstance(item, LabelChoice):
        return LabelChoice.objects.filter(corpus=item.corpus_id, layer=item.layer)
    return StanceTarget.objects.filter(corpus=item.corpus_id)


def _next_order(item: LabelChoice | StanceTarget) -> int:
    """Last place among the item's siblings."""
    last = _siblings(item).order_by("-order").values_list("order", flat=True).first()
    return 0 if last is None else last + 1
