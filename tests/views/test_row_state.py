"""The words on a sentence row say how its labels stand, on the page and in the fragment a save
returns: a row whose stance is optional and unset says so, and is not called "Labelled"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from annotator.models import Corpus
from tests.views.test_article_detail import label, url

BADGE = re.compile(r'id="s-(\d+)".*?class="badge (\w+) stored-state">([^<]*)<', re.S)


def states(html: str) -> dict[int, tuple[str, str]]:
    return {int(pk): (code, text) for pk, code, text in BADGE.findall(html)}


@pytest.mark.parametrize(
    ("stance_required", "claim_only"),
    [
        (False, ("optional", "Stance not set (optional)")),
        (True, ("partial", "Stance missing")),
    ],
)
def test_each_row_says_how_its_labels_stand(
    client, corpus: Corpus, annotator, assigned, sentences, stance_required, claim_only
):
    Corpus.objects.filter(pk=corpus.pk).update(stance_required=stance_required)
    target = corpus.stance_targets.get()
    label(sentences[0], annotator, "opinion")
    label(sentences[1], annotator, "opinion")
    label(sentences[1], annotator, "favor", target=target)
    label(sentences[2], annotator, "against", target=target)
    client.force_login(annotator)

    html = client.get(url(assigned.article)).content.decode()

    assert states(html) == {
        sentences[0].pk: claim_only,
        sentences[1].pk: ("done", "✓ Labelled"),
        sentences[2].pk: ("partial", "Claim type missing"),
        sentences[3].pk: ("todo", "Not labelled"),
    }
    # Only "Labelled" and the optional case count towards finishing the article.
    assert f"{1 if stance_required else 2} / 4 sentences" in html


def test_the_saved_fragment_carries_the_same_words(client, corpus, annotator, assigned, sentences):
    client.force_login(annotator)
    opinion = corpus.choices.get(value="opinion")

    response = client.post(
        reverse("annotator:sentence-label", kwargs={"pk": sentences[0].pk}),
        {"label": str(opinion.pk)},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert states(response.content.decode()) == {
        sentences[0].pk: ("optional", "Stance not set (optional)")
    }
