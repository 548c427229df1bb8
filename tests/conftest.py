"""Shared fixtures: small keyword-only factories (`make_*`) and a cast of users.

Every access test checks both sides: the cast has a manager, a curator, two annotators and
an outsider who belongs to no corpus.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from hypothesis import settings as hypothesis_settings

from annotator import corpora, middleware
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
    Sentence,
    SiteActivity,
    StanceTarget,
)
from annotator.views.workspace import forget_schemas
from tests.factories import create_article

_sequence = itertools.count(1)

# CI replays the same generated examples on every run, so a red build points at a change in the
# code, not at a new random draw; locally each run explores new inputs.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def make_user(db: None) -> Callable[..., AbstractUser]:
    def make(
        *, username: str | None = None, password: str = "pw", **fields: object
    ) -> AbstractUser:
        username = username or f"user{next(_sequence)}"
        return get_user_model().objects.create_user(username=username, password=password, **fields)

    return make


@pytest.fixture
def make_corpus(db: None) -> Callable[..., Corpus]:
    def make(
        *,
        name: str | None = None,
        slug: str | None = None,
        targets: tuple[str, ...] = ("China–North Korea alliance",),
        **fields: object,
    ) -> Corpus:
        number = next(_sequence)
        corpus = Corpus.objects.create(
            name=name or f"Corpus {number}", slug=slug or f"corpus-{number}", **fields
        )
        corpus.ensure_default_schema()
        for order, target in enumerate(targets):
            StanceTarget.objects.create(corpus=corpus, name=target, order=order)
        corpus.refresh_from_db()
        return corpus

    return make


@pytest.fixture
def make_member(make_user: Callable[..., AbstractUser]) -> Callable[..., AbstractUser]:
    def make(*, corpus: Corpus, role: str = Role.ANNOTATOR, **fields: object) -> AbstractUser:
        user = make_user(**fields)
        Membership.objects.create(user=user, corpus=corpus, role=role)
        return user

    return make


@pytest.fixture
def make_article(db: None) -> Callable[..., Article]:
    """An article segmented with the real segmenter, as an import would store it."""
    return create_article


@pytest.fixture
def corpus(make_corpus: Callable[..., Corpus]) -> Corpus:
    return make_corpus(name="Korea coverage", slug="korea")


@pytest.fixture
def manager(corpus: Corpus, make_member: Callable[..., AbstractUser]) -> AbstractUser:
    return make_member(corpus=corpus, role=Role.MANAGER, username="manager")


@pytest.fixture
def curator(corpus: Corpus, make_member: Callable[..., AbstractUser]) -> AbstractUser:
    return make_member(corpus=corpus, role=Role.CURATOR, username="curator")


@pytest.fixture
def annotator(corpus: Corpus, make_member: Callable[..., AbstractUser]) -> AbstractUser:
    return make_member(corpus=corpus, role=Role.ANNOTATOR, username="annotator")


@pytest.fixture
def other_annotator(corpus: Corpus, make_member: Callable[..., AbstractUser]) -> AbstractUser:
    return make_member(corpus=corpus, role=Role.ANNOTATOR, username="other-annotator")


@pytest.fixture
def outsider(make_user: Callable[..., AbstractUser]) -> AbstractUser:
    """Signed in, but a member of no corpus."""
    return make_user(username="outsider")


@pytest.fixture(autouse=True)
def cold_schema_cache() -> None:
    """Every test starts with an empty label-schema cache, so pinned query counts do not depend
    on which test ran before in the same process."""
    forget_schemas()


@pytest.fixture
def assign(db: None) -> Callable[..., Assignment]:
    """Give an article to an annotator, as "Next article" would (labelling needs it)."""

    def make(*, article: Article, annotator: AbstractUser) -> Assignment:
        return Assignment.objects.create(
            article=article, annotator=annotator, status=AssignmentStatus.ASSIGNED
        )

    return make


@pytest.fixture
def make_annotation(db: None) -> Callable[..., Annotation]:
    """An annotator's label for a sentence by choice value; stance picks the corpus's first target
    unless one is given."""

    def make(
        *,
        sentence: Sentence,
        annotator: AbstractUser,
        value: str,
        layer: str = Layer.CLAIM_TYPE,
        target: StanceTarget | None = None,
    ) -> Annotation:
        corpus = sentence.article.corpus
        if layer == Layer.STANCE and target is None:
            target = corpus.stance_targets.order_by("order", "id").first()
        choice = LabelChoice.objects.get(corpus=corpus, layer=layer, value=value)
        return Annotation.objects.create(
            sentence=sentence, annotator=annotator, layer=layer, target=target, choice=choice
        )

    return make


@pytest.fixture
def meet_after_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each of two membership changes, once it has read the members, until the other has
    read them too (or a second has passed): without the row lock both then act on the same
    stale read, every time; with it the second cannot read until the first commits, and the
    first goes on alone. For tests that make two such changes at once."""
    meeting = threading.Barrier(2, timeout=1)
    check = corpora._refuse_losing_last_manager

    def held(roles: dict[int, str], membership: Membership) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        check(roles, membership)

    monkeypatch.setattr(corpora, "_refuse_losing_last_manager", held)


def _stop_activity_writers() -> None:
    for beacon in middleware._beacons.values():
        beacon.stop()
    middleware._beacons.clear()


@pytest.fixture(autouse=True)
def _activity_beats_stay_in_their_test() -> Iterator[None]:
    """A page view's beat is written by a thread of the process, after the request: stop that
    thread after each test, so no beat lands in a later test or after the test database is
    dropped."""
    yield
    _stop_activity_writers()


@pytest.fixture
def quiet_site(transactional_db: None) -> Iterator[None]:
    """Nobody has used the site yet, by the shared activity record (annotator/activity.py).

    The record is a committed row written by a thread of the process, so tests that read it are
    transactional: the process's writer is stopped first (a beat of an earlier test must not
    land in this one) and again at the end.
    """
    _stop_activity_writers()
    SiteActivity.objects.all().delete()
    yield
    _stop_activity_writers()


@pytest.fixture
def release_storage(settings: object, tmp_path: Path) -> Path:
    """A release storage folder of the test's own (Django resets its storages on change)."""
    location = tmp_path / "releases"
    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location
