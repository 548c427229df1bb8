"""Who reaches the corpus settings pages: its managers only. Curators, annotators and outsiders
get 404 on every page and every POST (and nothing changes), anonymous visitors the login page,
and a POST without a CSRF token is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import Corpus, LabelChoice, Membership, StanceTarget

# (url name, kind of object in the URL or None, method)
ROUTES = [
    ("annotator:corpus-settings", None, "get"),
    ("annotator:corpus-settings", None, "post"),
    ("annotator:corpus-members", None, "get"),
    ("annotator:corpus-member-add", None, "post"),
    ("annotator:corpus-member-create", None, "post"),
    ("annotator:corpus-member-role", "membership", "post"),
    ("annotator:corpus-member-remove", "membership", "post"),
    ("annotator:corpus-schema", None, "get"),
    ("annotator:corpus-choice-add", None, "post"),
    ("annotator:corpus-choice-edit", "choice", "get"),
    ("annotator:corpus-choice-edit", "choice", "post"),
    ("annotator:corpus-choice-move", "choice", "post"),
    ("annotator:corpus-choice-delete", "choice", "post"),
    ("annotator:corpus-targets", None, "get"),
    ("annotator:corpus-target-add", None, "post"),
    ("annotator:corpus-target-edit", "target", "get"),
    ("annotator:corpus-target-edit", "target", "post"),
    ("annotator:corpus-target-move", "target", "post"),
    ("annotator:corpus-target-delete", "target", "post"),
]

# A POST that would change something if it got through.
PAYLOADS = {
    "annotator:corpus-settings": {"name": "Renamed", "annotators_per_article": "3"},
    "annotator:corpus-member-add": {"username": "outsider", "role": "manager"},
    "annotator:corpus-member-create": {"username": "sneaky", "role": "manager"},
    "annotator:corpus-member-role": {"role": "manager"},
    "annotator:corpus-choice-add": {
        "layer": "claim_type",
        "claim_type-value": "rumour",
        "claim_type-name": "Rumour",
        "claim_type-key": "r",
    },
    "annotator:corpus-choice-edit": {"value": "opinion", "name": "Hacked", "key": "2"},
    "annotator:corpus-choice-move": {"direction": "down"},
    "annotator:corpus-target-add": {"name": "Sneaky target"},
    "annotator:corpus-target-edit": {"name": "Hacked"},
    "annotator:corpus-target-move": {"direction": "down"},
}


def url_for(name: str, kind: str | None, corpus: Corpus, member: AbstractUser) -> str:
    kwargs: dict[str, object] = {"slug": corpus.slug}
    if kind == "membership":
        kwargs["pk"] = Membership.objects.get(corpus=corpus, user=member).pk
    elif kind == "choice":
        kwargs["pk"] = LabelChoice.objects.get(corpus=corpus, value="opinion").pk
    elif kind == "target":
        kwargs["pk"] = corpus.stance_targets.first().pk
    return reverse(name, kwargs=kwargs)


def snapshot(corpus: Corpus) -> tuple:
    """Everything these pages could change, to prove a refused request changed nothing."""
    corpus.refresh_from_db()
    return (
        corpus.name,
        corpus.annotators_per_article,
        corpus.schema_version,
        sorted(Membership.objects.filter(corpus=corpus).values_list("user_id", "role")),
        sorted(LabelChoice.objects.filter(corpus=corpus).values_list("value", "name", "order")),
        sorted(StanceTarget.objects.filter(corpus=corpus).values_list("name", "order")),
    )


@pytest.mark.parametrize(("name", "kind", "method"), ROUTES)
@pytest.mark.parametrize("who", ["curator", "annotator", "outsider"])
def test_everyone_but_a_manager_gets_404_and_changes_nothing(
    client: Client,
    corpus: Corpus,
    manager: AbstractUser,
    curator: AbstractUser,
    annotator: AbstractUser,
    outsider: AbstractUser,
    name: str,
    kind: str | None,
    method: str,
    who: str,
) -> None:
    visitor = {"curator": curator, "annotator": annotator, "outsider": outsider}[who]
    client.force_login(visitor)
    url = url_for(name, kind, corpus, annotator)
    before = snapshot(corpus)

    response = getattr(client, method)(url, PAYLOADS.get(name, {}))

    assert response.status_code == 404
    assert snapshot(corpus) == before


@pytest.mark.parametrize(("name", "kind", "method"), ROUTES)
def test_anonymous_visitor_is_sent_to_login(
    client: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    name: str,
    kind: str | None,
    method: str,
) -> None:
    url = url_for(name, kind, corpus, annotator)

    response = getattr(client, method)(url, PAYLOADS.get(name, {}))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "kind", "method"), ROUTES)
def test_manager_reaches_every_page_and_action(
    client: Client,
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    name: str,
    kind: str | None,
    method: str,
) -> None:
    client.force_login(manager)
    url = url_for(name, kind, corpus, annotator)

    response = getattr(client, method)(url, PAYLOADS.get(name, {}))

    # 200 a page, 302 back after a change, 400 a form shown again with its errors.
    assert response.status_code in {200, 302, 400}


def test_manager_of_another_corpus_gets_404(
    client: Client,
    corpus: Corpus,
    make_corpus: object,
    make_member: object,
) -> None:
    other = make_corpus(slug="elsewhere")
    client.force_login(make_member(corpus=other, role="manager"))

    response = client.get(reverse("annotator:corpus-schema", kwargs={"slug": corpus.slug}))

    assert response.status_code == 404


def test_object_of_another_corpus_is_404_through_this_corpus(
    client: Client, corpus: Corpus, manager: AbstractUser, make_corpus: object
) -> None:
    """A manager of this corpus cannot reach another corpus's choice by putting its id here."""
    other = make_corpus(slug="elsewhere")
    foreign = LabelChoice.objects.get(corpus=other, value="opinion")
    client.force_login(manager)

    response = client.post(
        reverse("annotator:corpus-choice-delete", kwargs={"slug": corpus.slug, "pk": foreign.pk})
    )

    assert response.status_code == 404
    assert LabelChoice.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize(
    ("name", "kind"), [(name, kind) for name, kind, method in ROUTES if method == "post"]
)
def test_post_without_csrf_token_is_refused(
    corpus: Corpus, manager: AbstractUser, annotator: AbstractUser, name: str, kind: str | None
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    before = snapshot(corpus)

    response = client.post(url_for(name, kind, corpus, annotator), PAYLOADS.get(name, {}))

    assert response.status_code == 403
    assert snapshot(corpus) == before


@pytest.mark.parametrize(("who", "shown"), [("manager", True), ("curator", False)])
def test_settings_link_appears_for_managers_only(
    client: Client,
    corpus: Corpus,
    manager: AbstractUser,
    curator: AbstractUser,
    who: str,
    shown: bool,
) -> None:
    client.force_login({"manager": manager, "curator": curator}[who])
    settings_link = reverse("annotator:corpus-settings", kwargs={"slug": corpus.slug})
    members_link = reverse("annotator:corpus-members", kwargs={"slug": corpus.slug})

    page = client.get(corpus.get_absolute_url()).content.decode()

    assert (f'href="{settings_link}"' in page) is shown
    assert (f'href="{members_link}"' in page) is shown
