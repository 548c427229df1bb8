"""Corpora, schema, members, articles, sentences, annotations, gold labels and agreement:
what each role may read and write, and what non-members never see."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from annotator.api.serializers import AnnotationSerializer
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    Membership,
    Role,
)

pytestmark = pytest.mark.django_db
Clients = Callable[[AbstractUser], APIClient]


# --- Corpora -----------------------------------------------------------------------------------


def test_corpus_list_shows_only_member_corpora_with_role(
    corpus: Corpus,
    annotator: AbstractUser,
    make_corpus: Callable[..., Corpus],
    token_client: Clients,
) -> None:
    make_corpus(slug="secret")

    body = token_client(annotator).get("/api/v1/corpora/").json()

    assert [(c["slug"], c["role"]) for c in body["results"]] == [("korea", "annotator")]


def test_non_member_gets_404_for_a_corpus(
    corpus: Corpus, outsider: AbstractUser, token_client: Clients
) -> None:
    response = token_client(outsider).get("/api/v1/corpora/korea/")

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "Not found.",
            "request_id": response["X-Request-ID"],
        }
    }


def test_manager_updates_corpus_and_annotator_may_not(
    corpus: Corpus, manager: AbstractUser, annotator: AbstractUser, token_client: Clients
) -> None:
    ok = token_client(manager).patch(
        "/api/v1/corpora/korea/", {"annotators_per_article": 3}, format="json"
    )
    denied = token_client(annotator).patch(
        "/api/v1/corpora/korea/", {"name": "Mine now"}, format="json"
    )

    assert ok.status_code == 200 and ok.json()["annotators_per_article"] == 3
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    corpus.refresh_from_db()
    assert corpus.name == "Korea coverage"


def test_managers_create_corpora_with_the_default_schema(
    corpus: Corpus, manager: AbstractUser, annotator: AbstractUser, token_client: Clients
) -> None:
    created = token_client(manager).post(
        "/api/v1/corpora/", {"slug": "iran", "name": "Iran"}, format="json"
    )
    denied = token_client(annotator).post(
        "/api/v1/corpora/", {"slug": "mine", "name": "Mine"}, format="json"
    )
    duplicate = token_client(manager).post(
        "/api/v1/corpora/", {"slug": "iran", "name": "Again"}, format="json"
    )

    assert created.status_code == 201 and created.json()["role"] == "manager"
    iran = Corpus.objects.get(slug="iran")
    assert iran.choices.filter(layer=Layer.CLAIM_TYPE).count() == 4
    assert iran.role_of(manager) == Role.MANAGER
    assert denied.status_code == 403 and not Corpus.objects.filter(slug="mine").exists()
    assert duplicate.status_code == 400 and "slug" in duplicate.json()["error"]["fields"]


def test_schema_lists_choices_and_targets(
    corpus: Corpus, annotator: AbstractUser, token_client: Clients
) -> None:
    body = token_client(annotator).get("/api/v1/corpora/korea/schema/").json()

    assert [c["value"] for c in body["choices"] if c["layer"] == "stance"] == [
        "favor",
        "against",
        "neutral",
    ]
    assert [t["name"] for t in body["stance_targets"]] == ["China–North Korea alliance"]


# --- Members -----------------------------------------------------------------------------------


def test_members_are_for_managers(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    make_user: Callable[..., AbstractUser],
    token_client: Clients,
) -> None:
    newcomer = make_user(username="newcomer")

    listed = token_client(manager).get("/api/v1/memberships/?corpus=korea").json()["results"]
    as_annotator = token_client(annotator).get("/api/v1/memberships/").json()["results"]
    added = token_client(manager).post(
        "/api/v1/memberships/",
        {"corpus": "korea", "username": "newcomer", "role": "curator"},
        format="json",
    )
    by_annotator = token_client(annotator).post(
        "/api/v1/memberships/", {"corpus": "korea", "username": "newcomer"}, format="json"
    )

    assert {m["username"] for m in listed} == {"manager", "annotator"}
    assert as_annotator == []
    assert added.status_code == 201 and corpus.role_of(newcomer) == Role.CURATOR
    assert by_annotator.status_code == 403


def test_last_manager_cannot_leave(
    corpus: Corpus, manager: AbstractUser, token_client: Clients
) -> None:
    membership = Membership.objects.get(user=manager, corpus=corpus)

    response = token_client(manager).delete(f"/api/v1/memberships/{membership.pk}/")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "role": [
            "manager is the last manager of Korea coverage; make someone else a manager first."
        ]
    }
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_last_manager_cannot_be_demoted(
    corpus: Corpus, manager: AbstractUser, token_client: Clients
) -> None:
    membership = Membership.objects.get(user=manager, corpus=corpus)

    response = token_client(manager).patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": "curator"}, format="json"
    )

    assert response.status_code == 400
    assert "is the last manager" in response.json()["error"]["fields"]["role"][0]
    assert corpus.role_of(manager) == Role.MANAGER


def test_removing_a_member_gives_their_open_articles_back(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    token_client: Clients,
) -> None:
    started = Assignment.objects.create(article=make_article(corpus=corpus), annotator=annotator)
    membership = Membership.objects.get(user=annotator, corpus=corpus)

    response = token_client(manager).delete(f"/api/v1/memberships/{membership.pk}/")

    started.refresh_from_db()
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert started.status == AssignmentStatus.SKIPPED


def test_adding_a_member_twice_is_a_400_naming_the_username(
    corpus: Corpus, manager: AbstractUser, annotator: AbstractUser, token_client: Clients
) -> None:
    response = token_client(manager).post(
        "/api/v1/memberships/",
        {"corpus": "korea", "username": "annotator", "role": "curator"},
        format="json",
    )

    assert response.status_code == 400
    assert "already a member" in response.json()["error"]["fields"]["username"][0]
    assert corpus.role_of(annotator) == Role.ANNOTATOR


# --- Articles and sentences --------------------------------------------------------------------


def test_manager_imports_an_article_as_json_segmented_on_arrival(
    corpus: Corpus, manager: AbstractUser, token_client: Clients
) -> None:
    response = token_client(manager).post(
        "/api/v1/articles/",
        {
            "corpus": "korea",
            "external_id": "api-1",
            "title": "Talks",
            "text": "Talks resumed today. Both sides were cautious.",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["imported"] == 1 and body["sentences"] == 2
    article = Article.objects.get(pk=body["articles"][0])
    assert article.external_id == "api-1" and article.sentences.count() == 2
    again = token_client(manager).post(
        "/api/v1/articles/",
        {"corpus": "korea", "external_id": "api-1", "text": "Talks resumed today."},
        format="json",
    )
    assert again.status_code == 200 and again.json()["skipped"] == 1


def test_article_file_upload_and_its_validation(
    corpus: Corpus, manager: AbstractUser, token_client: Clients
) -> None:
    good = io.BytesIO(
        b'{"id": "a", "text": "One sentence here."}\n{"id": "b", "text": "Another one."}\n'
    )
    good.name = "batch.jsonl"
    bad = io.BytesIO(b'{"id": "c", "text": "Fine."}\n{"text": "no id"}\n')
    bad.name = "bad.jsonl"
    client = token_client(manager)

    ok = client.post("/api/v1/articles/", {"corpus": "korea", "file": good}, format="multipart")
    rejected = client.post(
        "/api/v1/articles/", {"corpus": "korea", "file": bad}, format="multipart"
    )

    assert ok.status_code == 201 and ok.json()["imported"] == 2
    assert rejected.status_code == 400
    problems = rejected.json()["error"]["fields"]["problems"]
    assert any(problem.startswith("bad.jsonl, line 2") for problem in problems)
    # Problems name the file as uploaded, never where the server kept it meanwhile.
    assert not any("api-import-" in problem or "/tmp" in problem for problem in problems)
    # All or nothing: the good first line of the bad file was not written either.
    assert not corpus.articles.filter(external_id="c").exists()


def test_article_create_needs_manager_and_membership(
    corpus: Corpus, annotator: AbstractUser, outsider: AbstractUser, token_client: Clients
) -> None:
    payload = {"corpus": "korea", "external_id": "x", "text": "Some text."}

    assert (
        token_client(annotator).post("/api/v1/articles/", payload, format="json").status_code == 403
    )
    assert (
        token_client(outsider).post("/api/v1/articles/", payload, format="json").status_code == 404
    )
    missing = token_client(annotator).post("/api/v1/articles/", {"corpus": "korea"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["error"]["fields"]) == {"external_id", "text"}


def test_article_list_has_progress_and_detail_has_sentences(
    corpus: Corpus, annotator: AbstractUser, labelled_article: Article, token_client: Clients
) -> None:
    client = token_client(annotator)

    listed = client.get("/api/v1/articles/?corpus=korea").json()["results"]
    detail = client.get(f"/api/v1/articles/{labelled_article.pk}/").json()

    assert listed[0]["sentence_count"] == 3 and listed[0]["complete"] is False
    assert [s["ordinal"] for s in detail["sentences"]] == [0, 1, 2]
    first = detail["sentences"][0]
    assert detail["text"][first["start"] : first["end"]] == first["text"]


def test_outsider_sees_no_articles_or_sentences(
    labelled_article: Article, outsider: AbstractUser, token_client: Clients
) -> None:
    client = token_client(outsider)
    sentence = labelled_article.sentences.first()

    assert client.get("/api/v1/articles/").json()["results"] == []
    assert client.get("/api/v1/sentences/").json()["results"] == []
    assert client.get(f"/api/v1/articles/{labelled_article.pk}/").status_code == 404
    assert client.get(f"/api/v1/sentences/{sentence.pk}/").status_code == 404


# --- Annotations -------------------------------------------------------------------------------


def test_annotators_see_only_their_own_labels_reviewers_see_all(
    labelled_article: Article,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    curator: AbstractUser,
    token_client: Clients,
) -> None:
    mine = token_client(annotator).get("/api/v1/annotations/").json()["results"]
    everyone = token_client(curator).get("/api/v1/annotations/").json()["results"]
    theirs = Annotation.objects.filter(annotator=other_annotator).first()

    assert {a["annotator"] for a in mine} == {"annotator"} and len(mine) == 3
    assert len(everyone) == 5
    assert token_client(annotator).get(f"/api/v1/annotations/{theirs.pk}/").status_code == 404


def test_filters_narrow_annotations(
    labelled_article: Article, curator: AbstractUser, token_client: Clients
) -> None:
    client = token_client(curator)

    by_annotator = client.get("/api/v1/annotations/?annotator=other-annotator").json()["results"]
    stances = client.get("/api/v1/annotations/?layer=stance").json()["results"]
    opinions = client.get("/api/v1/annotations/?label=opinion").json()["results"]
    future = client.get("/api/v1/annotations/?updated_since=2999-01-01T00:00:00Z").json()

    assert len(by_annotator) == 2
    assert [a["label"] for a in stances] == ["against"]
    assert [a["annotator"] for a in opinions] == ["annotator"]
    assert future["results"] == []


def test_upsert_is_idempotent_and_keeps_history(
    labelled_article: Article,
    annotator: AbstractUser,
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    sentence = labelled_article.sentences.get(ordinal=2)
    assign(article=labelled_article, annotator=annotator)
    client = token_client(annotator)
    payload = {"sentence": sentence.pk, "layer": "claim_type", "label": "opinion", "seconds": 4}

    first = client.post("/api/v1/annotations/", payload, format="json")
    second = client.post("/api/v1/annotations/", payload, format="json")
    changed = client.post(
        "/api/v1/annotations/", {**payload, "label": "user_comment"}, format="json"
    )

    assert first.status_code == 201 and second.status_code == 200
    assert changed.status_code == 200 and changed.json()["label"] == "user_comment"
    assert Annotation.objects.filter(sentence=sentence, annotator=annotator).count() == 1
    # The answer is built from what the save returned; it says what is stored.
    stored = Annotation.objects.select_related("sentence", "annotator", "choice").get(
        sentence=sentence, annotator=annotator
    )
    assert changed.json() == json.loads(json.dumps(AnnotationSerializer(stored).data))
    history = AnnotationHistory.objects.filter(sentence=sentence, annotator=annotator)
    assert [(h.old_value, h.new_value) for h in history] == [
        ("", "opinion"),
        ("opinion", "user_comment"),
    ]


def test_stance_upsert_needs_a_target_of_the_corpus(
    corpus: Corpus,
    labelled_article: Article,
    annotator: AbstractUser,
    make_corpus: Callable[..., Corpus],
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    sentence = labelled_article.sentences.get(ordinal=0)
    assign(article=labelled_article, annotator=annotator)
    foreign = make_corpus(targets=("Elsewhere",)).stance_targets.get()
    client = token_client(annotator)
    payload = {"sentence": sentence.pk, "layer": "stance", "label": "favor"}

    no_target = client.post("/api/v1/annotations/", payload, format="json")
    wrong_target = client.post(
        "/api/v1/annotations/", {**payload, "target": foreign.pk}, format="json"
    )
    bad_label = client.post(
        "/api/v1/annotations/",
        {**payload, "target": corpus.stance_targets.get().pk, "label": "opinion"},
        format="json",
    )

    assert no_target.status_code == wrong_target.status_code == bad_label.status_code == 400
    assert "target" in wrong_target.json()["error"]["fields"]
    assert "label" in bad_label.json()["error"]["fields"]


def test_only_members_holding_the_article_write_labels(
    labelled_article: Article,
    curator: AbstractUser,
    outsider: AbstractUser,
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    """The workspace's rule, whatever the role: a curator who takes the article may label it."""
    sentence = labelled_article.sentences.get(ordinal=2)
    payload = {"sentence": sentence.pk, "layer": "claim_type", "label": "opinion"}

    assert (
        token_client(curator).post("/api/v1/annotations/", payload, format="json").status_code
        == 403
    )
    assert (
        token_client(outsider).post("/api/v1/annotations/", payload, format="json").status_code
        == 404
    )
    assign(article=labelled_article, annotator=curator)
    assert (
        token_client(curator).post("/api/v1/annotations/", payload, format="json").status_code
        == 201
    )


def test_delete_own_label_but_not_others(
    labelled_article: Article,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    curator: AbstractUser,
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    mine = Annotation.objects.filter(annotator=annotator, layer=Layer.STANCE).get()
    theirs = Annotation.objects.filter(annotator=other_annotator).first()
    client = token_client(annotator)

    assert token_client(curator).delete(f"/api/v1/annotations/{theirs.pk}/").status_code == 403
    # Removing a label is labelling: only on an article you hold.
    refused = client.delete(f"/api/v1/annotations/{mine.pk}/")
    assert refused.status_code == 403
    assert "not assigned to you" in refused.json()["error"]["message"]
    assign(article=labelled_article, annotator=annotator)
    assert client.delete(f"/api/v1/annotations/{mine.pk}/").status_code == 204
    assert not Annotation.objects.filter(pk=mine.pk).exists()
    assert Annotation.objects.filter(pk=theirs.pk).exists()


def jsonl_file(*lines: dict | str) -> io.BytesIO:
    data = io.BytesIO(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()
    )
    data.name = "labels.jsonl"
    return data


def test_bulk_import_writes_all_lines(
    labelled_article: Article,
    annotator: AbstractUser,
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    assign(article=labelled_article, annotator=annotator)
    file = jsonl_file(
        {
            "external_id": "korea-1.txt",
            "sentence_index": 2,
            "layer": "claim_type",
            "label": "opinion",
        },
        {
            "external_id": "korea-1.txt",
            "sentence_index": 0,
            "layer": "stance",
            "target": "China–North Korea alliance",
            "label": "neutral",
        },
        {
            "external_id": "korea-1.txt",
            "sentence_index": 0,
            "layer": "claim_type",
            "label": "factual_claim",
        },
    )

    response = token_client(annotator).post(
        "/api/v1/annotations/import/", {"corpus": "korea", "file": file}, format="multipart"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"lines": 3, "created": 2, "updated": 0, "unchanged": 1}
    assert Annotation.objects.filter(annotator=annotator).count() == 5


def test_bulk_import_reports_every_bad_line_and_writes_nothing(
    labelled_article: Article,
    annotator: AbstractUser,
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    assign(article=labelled_article, annotator=annotator)
    before = Annotation.objects.count()
    file = jsonl_file(
        {
            "external_id": "korea-1.txt",
            "sentence_index": 2,
            "layer": "claim_type",
            "label": "opinion",
        },
        "{not json",
        {
            "external_id": "missing.txt",
            "sentence_index": 0,
            "layer": "claim_type",
            "label": "opinion",
        },
        {
            "external_id": "korea-1.txt",
            "sentence_index": 99,
            "layer": "claim_type",
            "label": "nope",
        },
        {
            "external_id": "korea-1.txt",
            "sentence_index": 1,
            "layer": "claim_type",
            "label": "opinion",
            "annotator": "other-annotator",
        },
    )

    response = token_client(annotator).post(
        "/api/v1/annotations/import/", {"corpus": "korea", "file": file}, format="multipart"
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"line 2", "line 3", "line 4", "line 5"}
    assert "not valid JSON" in fields["line 2"][0]
    assert any("sentence 99" in message for message in fields["line 4"])
    assert any("'nope'" in message for message in fields["line 4"])
    assert "only managers" in fields["line 5"][0]
    assert Annotation.objects.count() == before


def test_bulk_import_refuses_lines_for_articles_not_assigned(
    corpus: Corpus,
    labelled_article: Article,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    manager: AbstractUser,
    make_article: Callable[..., Article],
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    """Issue 11: the bulk import stored labels on articles never assigned to the annotator."""
    make_article(corpus=corpus, text="Another article. Never assigned.", external_id="other.txt")
    assign(article=labelled_article, annotator=annotator)
    before = Annotation.objects.count()
    line = {"sentence_index": 0, "layer": "claim_type", "label": "opinion"}
    own = jsonl_file({**line, "external_id": "korea-1.txt"}, {**line, "external_id": "other.txt"})
    for_others = jsonl_file(
        {**line, "external_id": "korea-1.txt", "annotator": "annotator"},
        {**line, "external_id": "korea-1.txt", "annotator": "other-annotator"},
    )

    mine = token_client(annotator).post(
        "/api/v1/annotations/import/", {"corpus": "korea", "file": own}, format="multipart"
    )
    theirs = token_client(manager).post(
        "/api/v1/annotations/import/", {"corpus": "korea", "file": for_others}, format="multipart"
    )

    assert mine.status_code == 400
    assert mine.json()["error"]["fields"] == {
        "line 2": ["annotator: the article is not assigned to 'annotator'"]
    }
    assert theirs.status_code == 400
    assert theirs.json()["error"]["fields"] == {
        "line 2": ["annotator: the article is not assigned to 'other-annotator'"]
    }
    assert Annotation.objects.count() == before
    assign(article=labelled_article, annotator=other_annotator)
    for_others.seek(0)
    accepted = token_client(manager).post(
        "/api/v1/annotations/import/", {"corpus": "korea", "file": for_others}, format="multipart"
    )
    assert accepted.status_code == 200, accepted.json()


# --- Gold and agreement ------------------------------------------------------------------------


def test_gold_labels_for_reviewers_only(
    corpus: Corpus,
    labelled_article: Article,
    manager: AbstractUser,
    annotator: AbstractUser,
    token_client: Clients,
) -> None:
    GoldLabel.objects.create(
        sentence=labelled_article.sentences.get(ordinal=0),
        layer=Layer.CLAIM_TYPE,
        choice=LabelChoice.objects.get(corpus=corpus, value="factual_claim"),
        method=GoldMethod.UNANIMOUS,
        decided_by=manager,
    )

    as_manager = token_client(manager).get("/api/v1/gold-labels/?method=unanimous").json()
    as_annotator = token_client(annotator).get("/api/v1/gold-labels/").json()

    assert [g["label"] for g in as_manager["results"]] == ["factual_claim"]
    assert as_annotator["results"] == []


def test_agreement_figures(
    labelled_article: Article,
    curator: AbstractUser,
    annotator: AbstractUser,
    token_client: Clients,
) -> None:
    response = token_client(curator).get("/api/v1/corpora/korea/agreement/?replicates=50")
    denied = token_client(annotator).get("/api/v1/corpora/korea/agreement/")
    bad = token_client(curator).get("/api/v1/corpora/korea/agreement/?replicates=-1")

    assert response.status_code == 200
    claim = next(layer for layer in response.json()["layers"] if layer["layer"] == "claim_type")
    # Two sentences with two labels each: one agreeing pair of two.
    assert claim["n_units"] == 2 and claim["percent_agreement"] == 0.5
    assert denied.status_code == 403
    assert bad.status_code == 400 and "replicates" in bad.json()["error"]["fields"]


def test_agreement_offers_the_ratio_level(
    labelled_article: Article, curator: AbstractUser, token_client: Clients
) -> None:
    response = token_client(curator).get("/api/v1/corpora/korea/agreement/?level=ratio")

    assert response.status_code == 200
    assert {layer["layer"] for layer in response.json()["layers"]} >= {"claim_type"}


def test_upsert_on_an_article_not_assigned_to_you_is_refused(
    labelled_article: Article,
    annotator: AbstractUser,
    token_client: Clients,
    assign: Callable[..., object],
) -> None:
    """As in the workspace: the API cannot get round annotators_per_article."""
    sentence = labelled_article.sentences.get(ordinal=2)
    client = token_client(annotator)
    payload = {"sentence": sentence.pk, "layer": "claim_type", "label": "opinion"}

    refused = client.post("/api/v1/annotations/", payload, format="json")

    assert refused.status_code == 403
    assert "not assigned to you" in refused.json()["error"]["message"]
    assert not Annotation.objects.filter(sentence=sentence).exists()
    assign(article=labelled_article, annotator=annotator)
    assert client.post("/api/v1/annotations/", payload, format="json").status_code == 201


def test_annotations_show_the_recorded_suggestion_but_not_a_hidden_one_to_its_annotator(
    labelled_article: Article,
    annotator: AbstractUser,
    manager: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    from annotator.models import ModelKind, ModelVersion

    corpus = labelled_article.corpus
    version = ModelVersion.objects.create(
        corpus=corpus, layer="claim_type", kind=ModelKind.EXTERNAL, name="bert", version="1"
    )
    opinion = LabelChoice.objects.get(corpus=corpus, layer="claim_type", value="opinion")
    shown, hidden = Annotation.objects.filter(annotator=annotator, layer="claim_type").order_by(
        "sentence__ordinal"
    )[:2]
    Annotation.objects.filter(pk=shown.pk).update(
        suggestion_visible=True, suggested_choice=opinion, suggestion_model=version
    )
    Annotation.objects.filter(pk=hidden.pk).update(
        suggestion_visible=False, suggested_choice=opinion, suggestion_model=version
    )

    def suggestions(user: AbstractUser) -> dict[int, tuple]:
        rows = token_client(user).get("/api/v1/annotations/?layer=claim_type").json()["results"]
        return {
            row["id"]: (row["suggestion_visible"], row["suggested_label"], row["suggestion_model"])
            for row in rows
        }

    mine = suggestions(annotator)
    assert mine[shown.pk] == (True, "opinion", version.pk)
    assert mine[hidden.pk] == (None, None, None)  # the control stays hidden from them
    everyone = suggestions(manager)
    assert everyone[shown.pk] == (True, "opinion", version.pk)
    assert everyone[hidden.pk] == (False, "opinion", version.pk)
    assert set(everyone.values()) >= {(None, None, None)}  # labels made without a suggestion
