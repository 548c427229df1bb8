"""Mass assignment: extra fields in a request body (`annotator`, `user`, `is_staff`,
`is_superuser`, `role`, `corpus`, ids and timestamps) never change anything beyond what the
caller's role allows. Each endpoint reads an explicit list of fields; these tests send the rest.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import (
    Annotation,
    ApiToken,
    Article,
    Assignment,
    Corpus,
    LabelChoice,
    Membership,
    Role,
    SentenceNote,
)
from annotator.tokens import create_token

HOSTILE = {
    "is_staff": True,
    "is_superuser": True,
    "role": Role.MANAGER,
    "schema_version": 99,
    "created_at": "2000-01-01T00:00:00Z",
}


def token_client(user: AbstractUser) -> Client:
    return Client(headers={"Authorization": f"Bearer {create_token(user=user, name='t')[1]}"})


def privileges(*users: AbstractUser) -> list[tuple[bool, bool, list[tuple[int, str]]]]:
    result = []
    for user in users:
        user.refresh_from_db()
        roles = list(Membership.objects.filter(user=user).values_list("corpus_id", "role"))
        result.append((user.is_staff, user.is_superuser, sorted(roles)))
    return result


@pytest.fixture
def assigned_article(
    corpus: Corpus, annotator: AbstractUser, make_article: Callable[..., Article]
) -> Article:
    article = make_article(corpus=corpus)
    Assignment.objects.create(article=article, annotator=annotator)
    return article


def test_web_label_and_note_are_always_the_callers_own(
    client: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    manager: AbstractUser,
    assigned_article: Article,
) -> None:
    client.force_login(annotator)
    sentence = assigned_article.sentences.first()
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    before = privileges(annotator, other_annotator)
    extra = {**HOSTILE, "annotator": other_annotator.pk, "user": other_annotator.pk}
    extra |= {"annotator_id": other_annotator.pk, "changed_by": manager.pk, "corpus": "x"}

    client.post(
        reverse("annotator:sentence-label", kwargs={"pk": sentence.pk}),
        {"label": str(opinion.pk), **extra},
    )
    client.post(
        reverse("annotator:sentence-note", kwargs={"pk": sentence.pk}), {"note": "n", **extra}
    )

    annotation = Annotation.objects.get()
    assert annotation.annotator == annotator
    assert sentence.history.get().changed_by == annotator
    assert SentenceNote.objects.get().annotator == annotator
    assert privileges(annotator, other_annotator) == before


def test_api_annotation_upsert_ignores_annotator_and_timestamps(
    corpus: Corpus,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    assigned_article: Article,
) -> None:
    sentence = assigned_article.sentences.first()
    body = {
        "sentence": sentence.pk,
        "layer": "claim_type",
        "label": "opinion",
        **HOSTILE,
        "annotator": other_annotator.get_username(),
        "user": other_annotator.pk,
        "seconds_spent": 9999,
        "updated_at": "2000-01-01T00:00:00Z",
    }

    response = token_client(annotator).post(
        "/api/v1/annotations/", body, content_type="application/json"
    )

    assert response.status_code == 201
    annotation = Annotation.objects.get()
    assert (annotation.annotator, annotation.seconds_spent) == (annotator, 0)
    assert annotation.created_at.year > 2000 and annotation.updated_at.year > 2000
    assert privileges(annotator)[0][:2] == (False, False)


def test_api_corpus_create_and_update_take_only_settings(
    corpus: Corpus, manager: AbstractUser, annotator: AbstractUser, make_user: Callable
) -> None:
    client = token_client(manager)
    bystander = make_user(username="bystander")
    body = {"slug": "fresh", "name": "Fresh", **HOSTILE, "memberships": [{"user": bystander.pk}]}

    created = client.post("/api/v1/corpora/", body, content_type="application/json")

    assert created.status_code == 201
    fresh = Corpus.objects.get(slug="fresh")
    assert fresh.schema_version != HOSTILE["schema_version"]
    assert fresh.created_at.year > 2000
    assert list(fresh.memberships.values_list("user", "role")) == [(manager.pk, Role.MANAGER)]
    assert privileges(manager, bystander)[0][:2] == (False, False)

    version = corpus.schema_version
    changed = client.patch(
        f"/api/v1/corpora/{corpus.slug}/",
        {"name": "Renamed", **HOSTILE},
        content_type="application/json",
    )
    assert changed.status_code == 200
    corpus.refresh_from_db()
    assert (corpus.name, corpus.schema_version) == ("Renamed", version)
    assert corpus.role_of(manager) == Role.MANAGER

    refused = token_client(annotator).patch(
        f"/api/v1/corpora/{corpus.slug}/",
        {"name": "Taken over", "role": Role.MANAGER},
        content_type="application/json",
    )
    assert refused.status_code == 403
    corpus.refresh_from_db()
    assert corpus.name == "Renamed" and corpus.role_of(annotator) == Role.ANNOTATOR


def test_api_memberships_change_only_the_role_and_only_for_managers(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    make_corpus: Callable[..., Corpus],
    make_user: Callable,
) -> None:
    elsewhere = make_corpus(slug="elsewhere")
    newcomer = make_user(username="newcomer")
    membership = Membership.objects.get(user=annotator)

    added = token_client(manager).post(
        "/api/v1/memberships/",
        {
            "corpus": corpus.slug,
            "username": "newcomer",
            "role": "curator",
            **HOSTILE | {"role": "curator"},
            "user": manager.pk,
        },
        content_type="application/json",
    )
    moved = token_client(manager).patch(
        f"/api/v1/memberships/{membership.pk}/",
        {"role": "curator", "corpus": elsewhere.slug, "user": manager.pk, "username": "manager"},
        content_type="application/json",
    )
    into_elsewhere = token_client(manager).post(
        "/api/v1/memberships/",
        {"corpus": elsewhere.slug, "username": "manager", "role": "manager"},
        content_type="application/json",
    )
    self_promotion = token_client(annotator).patch(
        f"/api/v1/memberships/{membership.pk}/",
        {"role": "manager"},
        content_type="application/json",
    )
    self_join = token_client(annotator).post(
        "/api/v1/memberships/",
        {"corpus": corpus.slug, "username": "newcomer", "role": "manager"},
        content_type="application/json",
    )

    assert added.status_code == 201 and moved.status_code == 200
    assert privileges(newcomer) == [(False, False, [(corpus.pk, Role.CURATOR)])]
    membership.refresh_from_db()
    assert (membership.user, membership.corpus, membership.role) == (annotator, corpus, "curator")
    assert into_elsewhere.status_code == 404  # a manager of one corpus is a stranger to another
    assert self_promotion.status_code == 404
    assert self_join.status_code == 403
    assert privileges(manager, annotator) == [
        (False, False, [(corpus.pk, Role.MANAGER)]),
        (False, False, [(corpus.pk, Role.CURATOR)]),
    ]
    assert not elsewhere.memberships.exists()


def test_tokens_are_created_and_revoked_only_for_the_caller(
    client: Client, annotator: AbstractUser, other_annotator: AbstractUser
) -> None:
    client.force_login(annotator)

    response = client.post(
        reverse("annotator:token-list"),
        {"name": "script", "user": other_annotator.pk, "user_id": other_annotator.pk, **HOSTILE},
    )

    assert response.status_code == 200
    assert list(ApiToken.objects.values_list("user", "name")) == [(annotator.pk, "script")]
    assert privileges(annotator)[0][:2] == (False, False)


def test_manager_pages_cannot_grant_staff_or_superuser(
    client: Client, corpus: Corpus, manager: AbstractUser, make_user: Callable
) -> None:
    client.force_login(manager)
    existing = make_user(username="existing")

    client.post(
        reverse("annotator:corpus-member-create", kwargs={"slug": corpus.slug}),
        {
            "username": "brandnew",
            "role": "annotator",
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
            "groups": "1",
        },
    )
    client.post(
        reverse("annotator:corpus-member-add", kwargs={"slug": corpus.slug}),
        {"username": "existing", "role": "curator", "is_staff": "on", "is_superuser": "on"},
    )
    client.post(
        reverse("annotator:corpus-settings", kwargs={"slug": corpus.slug}),
        {
            "name": "Korea coverage",
            "annotators_per_article": "2",
            "slug": "hijacked",
            "schema_version": "99",
            "created_at": "2000-01-01",
        },
    )

    brandnew = get_user_model().objects.get(username="brandnew")
    assert privileges(brandnew, existing, manager) == [
        (False, False, [(corpus.pk, Role.ANNOTATOR)]),
        (False, False, [(corpus.pk, Role.CURATOR)]),
        (False, False, [(corpus.pk, Role.MANAGER)]),
    ]
    corpus.refresh_from_db()
    assert corpus.slug == "korea" and corpus.schema_version < 99
    assert corpus.created_at.year > 2000


def test_staff_manager_cannot_make_themselves_superuser_in_the_admin(
    client: Client, corpus: Corpus, make_member: Callable
) -> None:
    staff_manager = make_member(corpus=corpus, role=Role.MANAGER, is_staff=True)
    client.force_login(staff_manager)

    response = client.post(
        reverse("admin:auth_user_change", args=[staff_manager.pk]),
        {
            "username": staff_manager.get_username(),
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
        },
    )

    assert response.status_code == 403
    assert privileges(staff_manager)[0][:2] == (True, False)
