"""Another user's annotation, note, assignment, gold label, membership or token, reached by id.

An annotator (and the manager of another corpus) tries to read, change and delete the victim's
rows through the web pages, their htmx fragments and the API (token and session). Each request
must be refused (403, 404 or 405; a plain form POST on an article that is not yours redirects
back with an error message) and every table must be exactly as before. Walking every URL as a
non-member is tests/test_url_access.py; this file is about members of the same corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.annotating import save_label, save_note
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
from tests.security.snapshot import snapshot


@dataclass
class Victim:
    corpus: Corpus
    article: Article
    sentence: Sentence
    claim_id: int
    stance_id: int
    gold_id: int
    membership_id: int
    token_id: int
    note_id: int
    opinion: LabelChoice


@pytest.fixture
def victim(
    corpus: Corpus,
    manager: AbstractUser,
    other_annotator: AbstractUser,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> Victim:
    """`other_annotator`'s labelled article, note, gold label and token; `annotator` has an
    article of their own, so they are a working annotator of the same corpus."""
    article = make_article(corpus=corpus, text="The victim labels this. And this too.")
    Assignment.objects.create(article=article, annotator=other_annotator)
    Assignment.objects.create(article=make_article(corpus=corpus), annotator=annotator)
    sentence = Sentence.objects.select_related("article").filter(article=article).first()
    choice = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="factual_claim")
    against = LabelChoice.objects.get(corpus=corpus, layer=Layer.STANCE, value="against")
    target = corpus.stance_targets.get()
    claim = save_label(
        sentence=sentence,
        annotator=other_annotator,
        layer=Layer.CLAIM_TYPE,
        target=None,
        choice=choice,
    )
    stance = save_label(
        sentence=sentence,
        annotator=other_annotator,
        layer=Layer.STANCE,
        target=target,
        choice=against,
    )
    note = save_note(
        sentence=sentence, annotator=other_annotator, unsure=True, note="victim's note"
    )
    gold = GoldLabel.objects.create(
        sentence=sentence,
        layer=Layer.CLAIM_TYPE,
        choice=choice,
        method=GoldMethod.ADJUDICATED,
        confirmed=False,
        decided_by=manager,
    )
    token, _ = create_token(user=other_annotator, name="victim's script")
    return Victim(
        corpus=corpus,
        article=article,
        sentence=sentence,
        claim_id=claim.pk,
        stance_id=stance.pk,
        gold_id=gold.pk,
        membership_id=Membership.objects.get(user=other_annotator).pk,
        token_id=token.pk,
        note_id=note.pk,
        opinion=LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion"),
    )


def web_attacks(v: Victim) -> list[tuple[str, str, dict[str, object]]]:
    """(method, url, data) of every web request that would touch the victim's rows."""
    sentence, article, slug = v.sentence.pk, v.article.pk, v.corpus.slug
    return [
        (
            "post",
            reverse("annotator:sentence-label", kwargs={"pk": sentence}),
            {"label": str(v.opinion.pk)},
        ),
        (
            "post",
            reverse("annotator:sentence-note", kwargs={"pk": sentence}),
            {"note": "mine now", "unsure": "on"},
        ),
        ("post", reverse("annotator:article-undo", kwargs={"pk": article}), {}),
        ("post", reverse("annotator:article-finish", kwargs={"pk": article}), {}),
        ("post", reverse("annotator:article-skip", kwargs={"pk": article}), {"reason": "hostile"}),
        ("post", reverse("annotator:token-revoke", kwargs={"pk": v.token_id}), {}),
        ("get", reverse("annotator:curation-sentence", kwargs={"slug": slug, "pk": sentence}), {}),
        (
            "post",
            reverse("annotator:curation-settle", kwargs={"slug": slug, "pk": sentence}),
            {"choice": str(v.opinion.pk), "layer": "claim_type"},
        ),
        (
            "post",
            reverse("annotator:curation-confirm", kwargs={"slug": slug, "pk": sentence}),
            {"layer": "claim_type"},
        ),
        (
            "post",
            reverse("annotator:curation-accept-unanimous", kwargs={"slug": slug}),
            {"layer": "claim_type"},
        ),
        ("get", reverse("admin:annotator_annotation_change", args=[v.claim_id]), {}),
        ("post", reverse("admin:annotator_annotation_delete", args=[v.claim_id]), {"post": "yes"}),
        (
            "post",
            reverse("admin:annotator_sentencenote_changelist"),
            {"action": "delete_selected", "_selected_action": [str(v.note_id)], "post": "yes"},
        ),
    ]


def api_attacks(v: Victim) -> list[tuple[str, str, dict[str, object]]]:
    annotation = f"/api/v1/annotations/{v.claim_id}/"
    stance = f"/api/v1/annotations/{v.stance_id}/"
    gold = f"/api/v1/gold-labels/{v.gold_id}/"
    membership = f"/api/v1/memberships/{v.membership_id}/"
    return [
        ("get", annotation, {}),
        ("get", stance, {}),
        ("delete", annotation, {}),
        ("delete", stance, {}),
        ("put", annotation, {"sentence": v.sentence.pk, "layer": "claim_type", "label": "opinion"}),
        ("patch", annotation, {"label": "opinion"}),
        ("get", gold, {}),
        ("patch", gold, {"label": "opinion"}),
        ("delete", gold, {}),
        ("get", membership, {}),
        ("patch", membership, {"role": "annotator"}),
        ("delete", membership, {}),
    ]


def refused(method: str, url: str, response: object, *, htmx: bool) -> bool:
    if response.status_code in (403, 404, 405):
        return True
    if url.startswith("/admin/") and method == "post" and response.status_code == 200:
        # The admin redraws the changelist when no selected row is in the user's queryset.
        return "victim" not in response.content.decode()
    location = response.get("Location", "")
    # Labels and notes on an article that is not yours: a plain form POST goes back to the
    # article with an error message; the admin sends a non-staff user to its login page, and
    # staff to its index ("doesn't exist") for a row outside their corpora.
    return response.status_code == 302 and (
        location.startswith("/admin/login/")
        or (url.startswith("/admin/") and location == "/admin/")
        or (not htmx and "/sentences/" in url and location.startswith("/articles/"))
    )


@pytest.fixture
def other_corpus_manager(make_corpus: Callable[..., Corpus], make_member: Callable) -> AbstractUser:
    return make_member(corpus=make_corpus(slug="elsewhere"), role=Role.MANAGER, is_staff=True)


@pytest.mark.parametrize("attacker_name", ["annotator", "other_corpus_manager"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_web_requests_on_another_users_rows_are_refused_and_change_nothing(
    victim: Victim, request: pytest.FixtureRequest, attacker_name: str, htmx: bool
) -> None:
    attacker = request.getfixturevalue(attacker_name)
    client = Client(headers={"HX-Request": "true"} if htmx else {})
    client.force_login(attacker)
    before = snapshot()
    answered = []
    for method, url, data in web_attacks(victim):
        response = getattr(client, method)(url, data)
        answered.append((method, url, response.status_code))
        assert refused(method, url, response, htmx=htmx), answered[-1]
        assert snapshot() == before, answered[-1]
    # The victim's rows were there all along: the refusals were not about missing rows.
    assert GoldLabel.objects.filter(pk=victim.gold_id).exists()


@pytest.mark.parametrize(
    "attacker_name", ["annotator", "curator", "manager", "other_corpus_manager"]
)
@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_requests_on_another_users_rows_are_refused_and_change_nothing(
    victim: Victim, request: pytest.FixtureRequest, attacker_name: str, auth: str
) -> None:
    attacker = request.getfixturevalue(attacker_name)
    client = Client()
    if auth == "token":
        _, raw = create_token(user=attacker, name="attack")
        client = Client(headers={"Authorization": f"Bearer {raw}"})
    else:
        client.force_login(attacker)
    readers = attacker_name in ("curator", "manager")
    before = snapshot()
    for method, url, data in api_attacks(victim):
        response = getattr(client, method)(url, data, content_type="application/json")
        where = (method, url, response.status_code)
        if method == "get" and (
            readers and "/memberships/" not in url or attacker_name == "manager"
        ):
            # Reviewers of the corpus read everyone's labels and gold; managers its members.
            assert response.status_code == 200, where
        elif method == "delete" and readers and "/annotations/" in url:
            # Visible to a reviewer, but only its annotator may remove a label.
            assert response.status_code == 403, where
            assert response.json()["error"]["code"] == "permission_denied"
        elif attacker_name == "manager" and "/memberships/" in url:
            continue  # a manager may change members: tests/api/test_resources.py covers it
        else:
            assert response.status_code in (404, 405), where
        assert snapshot() == before, where


def test_api_upsert_never_writes_into_another_users_annotation(
    victim: Victim,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    assign: Callable[..., object],
) -> None:
    """The upsert keys on the caller: posting the victim's sentence and layer (even with the
    victim's annotation id or username in the body) makes the caller's own label."""
    assign(article=victim.sentence.article, annotator=annotator)
    _, raw = create_token(user=annotator, name="attack")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    theirs = list(
        other_annotator.annotations.order_by("pk").values("pk", "choice_id", "updated_at")
    )

    response = client.post(
        "/api/v1/annotations/",
        {
            "sentence": victim.sentence.pk,
            "layer": "claim_type",
            "label": "opinion",
            "id": victim.claim_id,
            "annotator": other_annotator.get_username(),
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["annotator"] == annotator.get_username()
    assert response.json()["id"] != victim.claim_id
    assert (
        list(other_annotator.annotations.order_by("pk").values("pk", "choice_id", "updated_at"))
        == theirs
    )
