"""Who may see and do what in the API: corpus membership and role, checked per request.

Lists and details are scoped querysets (a non-member gets an empty list or a 404, never a 403
that would confirm the object exists); roles inside a corpus the caller can see answer 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import NotAuthenticated, PermissionDenied

from annotator.models import Corpus, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# How a refusal names the roles that may do what was asked.
ROLE_NAMES: dict[tuple[str, ...], str] = {
    Role.MANAGERS: "managers",
    Role.REVIEWERS: "managers and curators",
    Role.ANNOTATORS: "annotators",
}


def member_corpus(
    user: User | AnonymousUser, slug: str, *, roles: tuple[str, ...] | None = None
) -> Corpus:
    """The corpus `slug` if `user` is a member (else 404) with one of `roles` (else 403)."""
    corpus = get_object_or_404(Corpus.objects.for_user(user), slug=slug)
    require_role(corpus, user, roles)
    return corpus


def require_role(corpus: Corpus, user: User | AnonymousUser, roles: tuple[str, ...] | None) -> None:
    if roles is None:
        return
    if corpus.role_of(user) not in roles:
        who = ROLE_NAMES.get(roles, "other roles")
        raise PermissionDenied(f"Only {who} of corpus {corpus.slug!r} may do this.")


def signed_in(user: User | AnonymousUser) -> User:
    """The user of a request that passed IsAuthenticated (every API view's permission)."""
    if isinstance(user, AnonymousUser):
        raise NotAuthenticated()
    return user


class _CorpusId(TypedDict):
    id: int


def corpus_ids_with_role(
    user: User | AnonymousUser, roles: tuple[str, ...]
) -> QuerySet[Corpus, _CorpusId]:
    """A subquery of the ids of corpora where `user` has one of `roles`."""
    return Corpus.objects.with_role(user, roles).values("id")


def annotations_visible_to(user: User | AnonymousUser) -> Q:
    """Own labels in corpora the user belongs to, everyone's where they manage or curate."""
    member_of = Corpus.objects.for_user(user).values("id")
    return Q(sentence__article__corpus__in=member_of) & (
        Q(annotator=user)
        | Q(sentence__article__corpus__in=corpus_ids_with_role(user, Role.REVIEWERS))
    )


def can_create_corpora(user: User | AnonymousUser) -> bool:
    """Staff, and anyone who already manages a corpus, may start a new one."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff) or Corpus.objects.with_role(user, Role.MANAGERS).exists()
