"""Open redirects through `next=` and cross-site request forgery.

- Signing in (site and admin), signing out and curation's `next` never send the browser to
  another site, whatever trick the address uses.
- Every route of the web app, POSTed without a CSRF token by a signed-in superuser who manages
  the corpus (so nothing else would stop the request), answers 403 and changes no row; so does a
  POST with a valid token from a foreign Origin. The API refuses session writes without the
  token, and token-authenticated API calls need none.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.models import Annotation, Article, Assignment, Corpus, LabelChoice, Membership, Role
from annotator.tokens import create_token
from tests.security.snapshot import snapshot
from tests.test_url_access import all_routes, urls_for

EVIL_NEXTS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "http://evil.example@127.0.0.1/",
    "/%2F%2Fevil.example/",
    " //evil.example/",
    "javascript:alert(1)",
    "\t//evil.example/",
]


def stays_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith(("//", "/\\"))
    )


@pytest.mark.parametrize("target", EVIL_NEXTS)
@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_sign_in_never_redirects_off_site(
    client: Client, make_user: Callable[..., AbstractUser], target: str, login_url: str
) -> None:
    make_user(username="someone", is_staff=True)

    response = client.post(
        f"{login_url}?next={target}",
        {"username": "someone", "password": "pw", "next": target},
    )

    assert response.status_code == 302
    assert stays_on_site(response["Location"]), response["Location"]


def test_the_sign_in_page_does_not_carry_an_off_site_next(client: Client, db: None) -> None:
    response = client.get("/accounts/login/?next=https://evil.example/")

    assert response.status_code == 200
    # The form may echo it, but the redirect after signing in is checked (above); it must
    # never appear as a link.
    assert 'href="https://evil.example' not in response.content.decode()


@pytest.mark.parametrize("target", EVIL_NEXTS[:4])
def test_sign_out_never_redirects_off_site(
    client: Client, make_user: Callable[..., AbstractUser], target: str
) -> None:
    client.force_login(make_user())

    response = client.post("/accounts/logout/", {"next": target})

    assert response.status_code == 302
    assert stays_on_site(response["Location"])


@pytest.mark.parametrize("target", EVIL_NEXTS[:4])
def test_curation_next_never_redirects_off_site(
    client: Client,
    corpus: Corpus,
    curator: AbstractUser,
    make_article: Callable[..., Article],
    target: str,
) -> None:
    sentence = make_article(corpus=corpus).sentences.first()
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    client.force_login(curator)

    response = client.post(
        reverse("annotator:curation-settle", kwargs={"slug": corpus.slug, "pk": sentence.pk}),
        {"choice": opinion.pk, "layer": "claim_type", "next": target},
    )

    assert response.status_code == 302
    assert stays_on_site(response["Location"])
    assert response["Location"].startswith(f"/corpora/{corpus.slug}/curation/")


@pytest.fixture
def world(
    make_corpus: Callable[..., Corpus],
    make_user: Callable[..., AbstractUser],
    make_article: Callable[..., Article],
) -> tuple[AbstractUser, dict[str, list[str]]]:
    """A superuser managing a corpus with one of everything, and the URL values to reach it."""
    from annotator.annotating import save_label
    from annotator.models import GoldLabel, GoldMethod, Layer

    corpus = make_corpus(slug="csrf")
    boss = make_user(username="boss", is_staff=True, is_superuser=True)
    Membership.objects.create(user=boss, corpus=corpus, role=Role.MANAGER)
    article = make_article(corpus=corpus)
    Assignment.objects.create(article=article, annotator=boss)
    sentence = article.sentences.select_related("article").first()
    choice = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    annotation = save_label(
        sentence=sentence, annotator=boss, layer=Layer.CLAIM_TYPE, target=None, choice=choice
    )
    gold = GoldLabel.objects.create(
        sentence=sentence,
        layer=Layer.CLAIM_TYPE,
        choice=choice,
        method=GoldMethod.MAJORITY,
        confirmed=False,
        decided_by=boss,
    )
    token, _ = create_token(user=boss, name="csrf")
    pks = {
        article.pk,
        sentence.pk,
        annotation.pk,
        gold.pk,
        token.pk,
        choice.pk,
        Membership.objects.get(user=boss).pk,
        corpus.stance_targets.first().pk,
    }
    values = {
        "slug": [corpus.slug],
        "pk": [str(pk) for pk in sorted(pks)],
        "id": [str(pk) for pk in sorted(pks)],
        "object_id": [str(pk) for pk in sorted(pks)],
        "app_label": ["annotator"],
    }
    return boss, values


def test_every_web_post_without_a_csrf_token_is_refused_and_changes_nothing(
    world: tuple[AbstractUser, dict[str, list[str]]],
) -> None:
    boss, values = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    before = snapshot()
    accepted = []
    tried = 0
    for name, params in all_routes():
        for url in urls_for(name, params, values):
            if url.startswith("/api/"):
                continue
            tried += 1
            response = client.post(url, {"label": "1", "name": "x", "reason": "x", "note": "x"})
            if response.status_code != 403:
                accepted.append((url, response.status_code))

    assert accepted == []
    assert tried > 40
    assert snapshot() == before


def test_a_valid_token_from_a_foreign_origin_is_refused(
    world: tuple[AbstractUser, dict[str, list[str]]],
) -> None:
    boss, _ = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    before = snapshot()

    response = client.post(
        reverse("annotator:token-list"),
        {"name": "forged"},
        headers={"X-CSRFToken": token, "Origin": "https://evil.example"},
    )
    same_site = client.post(
        reverse("annotator:token-list"),
        {"name": "genuine"},
        headers={"X-CSRFToken": token, "Origin": "http://testserver"},
    )

    assert response.status_code == 403
    assert same_site.status_code == 200  # the same request from our own origin works
    after = snapshot()
    assert [t["name"] for t in after["ApiToken"]] == [t["name"] for t in before["ApiToken"]] + [
        "genuine"
    ]


def test_api_session_writes_need_the_csrf_token_but_token_auth_does_not(
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    assign: Callable[..., Assignment],
) -> None:
    sentence = make_article(corpus=corpus).sentences.first()
    assign(article=sentence.article, annotator=annotator)
    body = {"sentence": sentence.pk, "layer": "claim_type", "label": "opinion"}
    session = Client(enforce_csrf_checks=True)
    session.force_login(annotator)

    refused = session.post("/api/v1/annotations/", body, content_type="application/json")
    create_refused = session.post(
        "/api/v1/corpora/", {"slug": "new", "name": "New"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    assert create_refused.status_code == 403
    assert not Annotation.objects.exists()

    _, raw = create_token(user=annotator, name="script")
    scripted = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    accepted = scripted.post("/api/v1/annotations/", body, content_type="application/json")

    assert accepted.status_code == 201
    assert Annotation.objects.get().annotator == annotator
