"""The Stance targets page: add, rename, reorder and delete targets (deleting refused while any
label, gold label or history entry refers to it); every change bumps the schema version."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.annotating import save_label
from annotator.models import (
    Article,
    Assignment,
    Corpus,
    LabelChoice,
    Layer,
    StanceTarget,
)


def targets_url(corpus: Corpus) -> str:
    return reverse("annotator:corpus-targets", kwargs={"slug": corpus.slug})


def target_url(name: str, target: StanceTarget) -> str:
    return reverse(
        f"annotator:corpus-target-{name}", kwargs={"slug": target.corpus.slug, "pk": target.pk}
    )


def version(corpus: Corpus) -> int:
    corpus.refresh_from_db()
    return corpus.schema_version


def names(corpus: Corpus) -> list[str]:
    return list(corpus.stance_targets.order_by("order", "pk").values_list("name", flat=True))


def messages_of(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def signed_in(client: Client, manager: AbstractUser) -> Client:
    client.force_login(manager)
    return client


def test_targets_page_lists_targets_with_usage(signed_in: Client, corpus: Corpus) -> None:
    response = signed_in.get(targets_url(corpus))

    assert response.status_code == 200
    assert [t.name for t in response.context["targets"]] == ["China–North Korea alliance"]
    assert "0 annotations" in response.content.decode()


def test_manager_adds_renames_and_reorders_targets(signed_in: Client, corpus: Corpus) -> None:
    before = version(corpus)

    added = signed_in.post(
        reverse("annotator:corpus-target-add", kwargs={"slug": corpus.slug}),
        {"name": "  US sanctions ", "description": "Sanctions on North Korea"},
    )
    sanctions = StanceTarget.objects.get(corpus=corpus, name="US sanctions")
    signed_in.post(target_url("edit", sanctions), {"name": "UN sanctions", "description": ""})
    signed_in.post(target_url("move", sanctions), {"direction": "up"})

    assert added.status_code == 302
    assert names(corpus) == ["UN sanctions", "China–North Korea alliance"]
    assert version(corpus) == before + 3


def test_duplicate_target_name_is_a_form_error(signed_in: Client, corpus: Corpus) -> None:
    before = version(corpus)

    response = signed_in.post(
        reverse("annotator:corpus-target-add", kwargs={"slug": corpus.slug}),
        {"name": "china–north korea alliance"},
    )

    assert response.status_code == 400
    assert "A stance target named “china–north korea alliance” already exists." in (
        response.content.decode()
    )
    assert names(corpus) == ["China–North Korea alliance"]
    assert version(corpus) == before


def test_deleting_a_used_target_is_refused_with_the_counts(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> None:
    article = make_article(corpus=corpus, text="One here. Two here.")
    target = corpus.stance_targets.get()
    favor = LabelChoice.objects.get(corpus=corpus, value="favor")
    Assignment.objects.create(article=article, annotator=annotator)
    for sentence in article.sentences.all():
        save_label(
            sentence=sentence, annotator=annotator, layer=Layer.STANCE, target=target, choice=favor
        )
    before = version(corpus)

    response = signed_in.post(target_url("delete", target), follow=True)

    assert messages_of(response) == [
        "“China–North Korea alliance” is used by 2 annotations and 2 history entries; it cannot "
        "be deleted. Rename it instead."
    ]
    assert StanceTarget.objects.filter(pk=target.pk).exists()
    assert version(corpus) == before


def test_deleting_an_unused_target_works_and_bumps_the_version(
    signed_in: Client, corpus: Corpus
) -> None:
    before = version(corpus)

    signed_in.post(target_url("delete", corpus.stance_targets.get()))

    assert names(corpus) == []
    assert version(corpus) == before + 1
    assert "No stance targets yet" in signed_in.get(targets_url(corpus)).content.decode()


def test_script_in_a_target_name_is_escaped_on_targets_and_article_pages(
    signed_in: Client,
    corpus: Corpus,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
) -> None:
    evil = "<script>alert('t')</script>"
    signed_in.post(
        reverse("annotator:corpus-target-add", kwargs={"slug": corpus.slug}), {"name": evil}
    )
    article = make_article(corpus=corpus)
    Assignment.objects.create(article=article, annotator=annotator)
    annotator_client = Client()
    annotator_client.force_login(annotator)

    for page in (
        signed_in.get(targets_url(corpus)).content.decode(),
        annotator_client.get(article.get_absolute_url()).content.decode(),
    ):
        assert evil not in page
        assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in page
