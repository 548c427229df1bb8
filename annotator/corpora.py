"""Creating a corpus: the row, its default label schema and its first manager, together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from annotator.models import Corpus, Membership, Role

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
