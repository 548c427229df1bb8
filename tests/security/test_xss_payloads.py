"""Script, event-handler and htmx-attribute payloads in every text a user can write: article
text and title, corpus name and description, stance target and choice names, guidelines
(Markdown), notes and token names. Every page that shows them must show them escaped.

The same corpus is opened in Chromium in tests/browser/test_xss_payloads.py, which checks that
nothing runs (no dialog, no request to /x, no injected element).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.annotating import save_label, save_note
from annotator.models import (
    Article,
    Assignment,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Role,
    Sentence,
    StanceTarget,
)
from annotator.tokens import create_token
from tests.factories import create_article

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HTMX = '<div hx-get="/x" hx-trigger="load">htmx</div>'
SVG = '"><svg onload=alert(1)>'
PAYLOAD = f"{SCRIPT}{IMG}{HTMX}{SVG}"
# What must never reach a page unescaped: the start of each payload's markup.
RAW_MARKERS = ("<script>alert", "<img src=x", "<div hx-get", "<svg onload", "onerror=alert(1)>")
ESCAPED_MARKER = "&lt;script&gt;alert(1)&lt;/script&gt;"


@dataclass
class HostileCorpus:
    corpus: Corpus
    article: Article
    sentence: Sentence
    annotator: AbstractUser
    other: AbstractUser
    curator: AbstractUser
    admin: AbstractUser


def build_hostile_corpus(make_user: Callable[..., AbstractUser]) -> HostileCorpus:
    """A corpus whose every user-written text carries the payloads; two annotators disagree on
    the first sentence so curation and statistics have something to show."""
    corpus = Corpus.objects.create(
        name=f"News {PAYLOAD}"[:200],
        slug="hostile",
        description=f"About {PAYLOAD}",
        guidelines=(
            f"# Rules {SCRIPT}\n\nLabel {IMG} and {HTMX} and [link](javascript:alert(1)) {SVG}"
        ),
    )
    corpus.ensure_default_schema()
    LabelChoice.objects.filter(corpus=corpus, value="opinion").update(name=f"Op {IMG}{SVG}")
    LabelChoice.objects.filter(corpus=corpus, value="factual_claim").update(name=f"Fa {SCRIPT}")
    LabelChoice.objects.filter(corpus=corpus, value="favor").update(name=f"Fv {HTMX}"[:100])
    target = StanceTarget.objects.create(corpus=corpus, name=f"Target {PAYLOAD}"[:200])
    text = f"The article says {PAYLOAD} today. {SVG} was quoted.\n\nA reader wrote {IMG}."
    article = create_article(
        corpus=corpus,
        text=text,
        external_id=f"{SCRIPT}.txt",
        title=f"Title {PAYLOAD}"[:500],
    )
    users = {}
    for name, role in (
        ("annotator", Role.ANNOTATOR),
        ("other", Role.ANNOTATOR),
        ("curator", Role.CURATOR),
    ):
        users[name] = make_user(username=f"x-{name}")
        Membership.objects.create(user=users[name], corpus=corpus, role=role)
    admin = make_user(username="x-admin", is_staff=True, is_superuser=True)
    sentence = Sentence.objects.select_related("article").filter(article=article).first()
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    factual = LabelChoice.objects.get(corpus=corpus, value="factual_claim")
    favor = LabelChoice.objects.get(corpus=corpus, value="favor")
    for user, choice in ((users["annotator"], opinion), (users["other"], factual)):
        Assignment.objects.create(article=article, annotator=user)
        save_label(
            sentence=sentence, annotator=user, layer=Layer.CLAIM_TYPE, target=None, choice=choice
        )
        save_label(
            sentence=sentence, annotator=user, layer=Layer.STANCE, target=target, choice=favor
        )
        save_note(sentence=sentence, annotator=user, unsure=True, note=f"Note {PAYLOAD}")
    create_token(user=users["annotator"], name=f"T {IMG}{SVG}"[:100])
    create_token(user=admin, name=f"T {SCRIPT}"[:100])
    return HostileCorpus(
        corpus, article, sentence, users["annotator"], users["other"], users["curator"], admin
    )


@pytest.fixture
def hostile(make_user: Callable[..., AbstractUser]) -> HostileCorpus:
    return build_hostile_corpus(make_user)


def unescaped(content: bytes) -> list[str]:
    text = content.decode()
    return [marker for marker in RAW_MARKERS if marker in text]


def pages_for(h: HostileCorpus) -> dict[str, list[str]]:
    slug, sentence = h.corpus.slug, h.sentence.pk
    curation = reverse("annotator:curation-queue", kwargs={"slug": slug})
    articles = reverse("annotator:corpus-articles", kwargs={"slug": slug})
    return {
        "annotator": [
            "/",
            h.corpus.get_absolute_url(),
            h.article.get_absolute_url(),
            f"{h.article.get_absolute_url()}?missing=1",
            reverse("annotator:token-list"),
        ],
        "curator": [
            "/",
            h.corpus.get_absolute_url(),
            h.article.get_absolute_url(),
            curation,
            f"{curation}?status=all",
            f"{curation}?layer=stance&target={h.corpus.stance_targets.get().pk}&status=all",
            reverse("annotator:curation-sentence", kwargs={"slug": slug, "pk": sentence}),
            reverse("annotator:corpus-statistics", kwargs={"slug": slug}),
            articles,
            f"{articles}?{urlencode({'q': PAYLOAD, 'sort': '-labels'})}",
            reverse("annotator:corpus-export", kwargs={"slug": slug}),
        ],
        "admin": [
            reverse(f"admin:annotator_{model}_changelist")
            for model in (
                "corpus",
                "article",
                "sentence",
                "annotation",
                "annotationhistory",
                "sentencenote",
                "labelchoice",
                "stancetarget",
                "membership",
                "assignment",
                "apitoken",
                "importjob",
            )
        ]
        + [
            reverse("admin:annotator_corpus_change", args=[h.corpus.pk]),
            reverse("admin:annotator_article_change", args=[h.article.pk]),
            reverse("annotator:token-list"),
        ],
    }


def test_every_page_shows_the_payloads_escaped(hostile: HostileCorpus) -> None:
    shown_escaped = []
    for who, urls in pages_for(hostile).items():
        client = Client()
        client.force_login(getattr(hostile, who))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (who, url)
            assert unescaped(response.content) == [], (who, url)
            if ESCAPED_MARKER in response.content.decode():
                shown_escaped.append(url)
    # The payloads really were on the pages, escaped, not dropped somewhere on the way.
    assert len(shown_escaped) >= 10


def test_htmx_fragments_show_the_payloads_escaped(hostile: HostileCorpus) -> None:
    client = Client(headers={"HX-Request": "true"})
    client.force_login(hostile.annotator)
    opinion = LabelChoice.objects.get(corpus=hostile.corpus, value="opinion")
    sentence = hostile.sentence.pk

    fragments = [
        client.post(
            reverse("annotator:sentence-label", kwargs={"pk": sentence}), {"label": str(opinion.pk)}
        ),
        client.post(
            reverse("annotator:sentence-note", kwargs={"pk": sentence}),
            {"note": f"again {PAYLOAD}"},
        ),
        client.post(reverse("annotator:article-undo", kwargs={"pk": hostile.article.pk})),
    ]

    for response in fragments:
        assert response.status_code == 200
        assert unescaped(response.content) == []
    assert ESCAPED_MARKER in fragments[1].content.decode()


def test_guidelines_markdown_keeps_formatting_but_no_script_handler_or_htmx(
    hostile: HostileCorpus,
) -> None:
    client = Client()
    client.force_login(hostile.annotator)

    page = client.get(hostile.article.get_absolute_url()).content.decode()
    guidelines = page.split('class="guidelines-body">', 1)[1].split("</div>", 1)[0]

    assert "<h1>" in guidelines  # Markdown still renders
    assert "<script" not in guidelines and "onerror" not in guidelines
    assert "hx-" not in guidelines and "javascript:" not in guidelines
    assert "onload" not in guidelines
