"""Every URL pattern, walked: none answers an anonymous visitor or a non-member with content.

Each named pattern is reversed with real ids and slugs of a corpus the outsider does not belong
to (every kind of id is tried, so each route meets an object that exists), then requested with
GET and POST. Anonymous requests must end at the login page, 401, 403, 404 or 405; the outsider
(signed in, member of nothing) must get 403, 404 or 405, the admin's login redirect, an empty API
list, or a 400 for an empty POST body. A new
route that is public on purpose has to be added to an allow-list below, with the reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from annotator.annotating import save_label
from annotator.models import (
    Article,
    Assignment,
    Corpus,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    Membership,
    Role,
    Sentence,
)
from annotator.tokens import create_token

# Public to anyone, on purpose.
PUBLIC = {
    "login": "the login page",
    "logout": "logging out is harmless and POST-only",
    "admin:login": "the admin's login page",
    "admin:logout": "logging out of the admin is harmless",
}
# Open to any signed-in user, showing only their own things.
SIGNED_IN = {
    "annotator:home": "lists the caller's own corpora (none for the outsider)",
    "annotator:token-list": "the caller's own API tokens",
    "api-root": "DRF's list of API entry points, no data",
    "api-schema": "the OpenAPI description of the API holds no data",
    "api-docs": "Swagger UI for that description",
}
ALLOWED_ANONYMOUS = {302, 401, 403, 404, 405, 415}
# 415: a form POST to a JSON-only endpoint is refused before anything is looked up.
ALLOWED_OUTSIDER = {401, 403, 404, 405, 415}


def named_patterns(patterns: list, namespace: str = "") -> Iterator[tuple[str, tuple[str, ...]]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            prefix = f"{namespace}{inner}:" if inner else namespace
            yield from named_patterns(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", tuple(pattern.pattern.regex.groupindex)


def all_routes() -> list[tuple[str, tuple[str, ...]]]:
    return sorted(set(named_patterns(get_resolver().url_patterns)))


@pytest.fixture
def secret(
    make_corpus: object, make_member: object, make_article: object, make_user: object
) -> dict[str, list[str]]:
    """A corpus with one of everything, and the values to put in each kind of URL parameter."""
    corpus: Corpus = make_corpus(slug="secret")
    manager = make_member(corpus=corpus, role=Role.MANAGER)
    annotator = make_member(corpus=corpus, role=Role.ANNOTATOR)
    article: Article = make_article(corpus=corpus)
    sentence = Sentence.objects.select_related("article").filter(article=article).first()
    choice = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    Assignment.objects.create(article=article, annotator=annotator)
    annotation = save_label(
        sentence=sentence, annotator=annotator, layer=Layer.CLAIM_TYPE, target=None, choice=choice
    )
    gold = GoldLabel.objects.create(
        sentence=sentence,
        layer=Layer.CLAIM_TYPE,
        choice=choice,
        method=GoldMethod.ADJUDICATED,
        decided_by=manager,
    )
    token, _ = create_token(user=annotator, name="secret")
    pks = {
        article.pk,
        sentence.pk,
        annotation.pk,
        gold.pk,
        token.pk,
        Membership.objects.get(user=annotator).pk,
        corpus.stance_targets.first().pk,
    }
    return {
        "slug": [corpus.slug],
        "pk": [str(pk) for pk in sorted(pks)],
        "id": [str(pk) for pk in sorted(pks)],
        "object_id": [str(pk) for pk in sorted(pks)],
        # The segmentation pages name a sentence of the article (views/segmentation.py).
        "sentence": [str(pk) for pk in sorted(pks)],
        "format": ["json"],
        "app_label": ["annotator"],
    }


def urls_for(name: str, params: tuple[str, ...], values: dict[str, list[str]]) -> list[str]:
    choices = [values.get(param, ["1"]) for param in params]
    urls = []
    for combination in itertools.product(*choices):
        try:
            urls.append(reverse(name, kwargs=dict(zip(params, combination, strict=True))))
        except NoReverseMatch:
            continue
    return urls


def is_empty_list(response: object) -> bool:
    """An API list answering 200 with no rows: lists show nothing the caller may not see."""
    if response.status_code != 200 or response.get("Content-Type") != "application/json":
        return False
    body = response.json()
    return isinstance(body, dict) and body.get("results") == []


def is_rejected_empty_post(method: str, response: object) -> bool:
    """An empty POST refused as invalid input before any object is looked at."""
    return (
        method == "post"
        and response.status_code == 400
        and response.json()["error"]["code"] == "invalid"
    )


def is_login_redirect(response: object) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and (
        location.startswith("/accounts/login/") or location.startswith("/admin/login/")
    )


def test_every_named_route_is_reversible_with_real_values(secret: dict) -> None:
    unreachable = [name for name, params in all_routes() if not urls_for(name, params, secret)]

    assert unreachable == []


def test_walk_covers_the_api_and_the_web_app() -> None:
    names = {name for name, _ in all_routes()}

    assert {"corpus-export", "annotation-list", "annotator:token-list"} <= names
    assert len(names) > 40


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_reach_nothing(secret: dict, method: str) -> None:
    client = Client()
    leaks = []
    for name, params in all_routes():
        if name in PUBLIC:
            continue
        for url in urls_for(name, params, secret):
            response = getattr(client, method)(url)
            if response.status_code not in ALLOWED_ANONYMOUS or (
                response.status_code == 302 and not is_login_redirect(response)
            ):
                leaks.append((method, url, response.status_code))

    assert leaks == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsiders_reach_nothing_of_a_corpus(
    secret: dict, outsider: AbstractUser, method: str
) -> None:
    client = Client()
    client.force_login(outsider)
    leaks = []
    for name, params in all_routes():
        if name in PUBLIC or name in SIGNED_IN:
            continue
        for url in urls_for(name, params, secret):
            response = getattr(client, method)(url)
            if not (
                response.status_code in ALLOWED_OUTSIDER
                or is_login_redirect(response)
                or is_empty_list(response)
                or is_rejected_empty_post(method, response)
            ):
                leaks.append((method, url, response.status_code))

    assert leaks == []


def test_outsider_token_reaches_nothing_of_a_corpus(secret: dict, outsider: AbstractUser) -> None:
    _, raw = create_token(user=outsider, name="probe")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    leaks = []
    for name, params in all_routes():
        if name in PUBLIC or name in SIGNED_IN or not name.split(":")[-1][0].islower():
            continue
        for url in urls_for(name, params, secret):
            if not url.startswith("/api/"):
                continue
            response = client.get(url)
            if not (response.status_code in ALLOWED_OUTSIDER or is_empty_list(response)):
                leaks.append((url, response.status_code))

    assert leaks == []
