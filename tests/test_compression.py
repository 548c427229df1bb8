"""Pages on the wire: HTML answers to GET are compressed (brotli, else gzip) when the browser
accepts it; streams (the dataset export) and answers to POST are not."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import brotli
import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

from annotator.compression import accepted_encoding
from annotator.models import Article, Assignment, Corpus
from annotator.tokens import create_token

TEXT = " ".join(
    f"Officials said on day {n} that the talks about sanctions would go on." for n in range(25)
)


@pytest.fixture
def page(
    corpus: Corpus, annotator: AbstractUser, make_article: Callable[..., Article], client: Client
) -> str:
    article = make_article(corpus=corpus, text=TEXT)
    Assignment.objects.create(article=article, annotator=annotator)
    client.force_login(annotator)
    return article.get_absolute_url()


def test_article_page_is_gzipped_when_the_browser_accepts_it(client: Client, page: str) -> None:
    plain = client.get(page)
    zipped = client.get(page, HTTP_ACCEPT_ENCODING="gzip, deflate")

    assert not plain.has_header("Content-Encoding")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert len(zipped.content) < len(plain.content) / 4
    assert int(zipped["Content-Length"]) == len(zipped.content)
    html = gzip.decompress(zipped.content).decode()
    assert html.count("sentence-row") == plain.content.decode().count("sentence-row") == 25
    assert "day 24 that the talks" in html


def test_brotli_is_preferred_and_smaller_still(client: Client, page: str) -> None:
    zipped = client.get(page, HTTP_ACCEPT_ENCODING="gzip")
    squeezed = client.get(page, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert squeezed["Content-Encoding"] == "br"
    assert len(squeezed.content) < len(zipped.content)
    assert "day 24 that the talks" in brotli.decompress(squeezed.content).decode()


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("identity", None),
        ("", None),
        ("x-brotli", None),
    ],
)
def test_accept_encoding_is_read_with_its_refusals(header: str, chosen: str | None) -> None:
    assert accepted_encoding(header) == chosen


def test_label_saves_are_not_compressed(client: Client, page: str, corpus: Corpus) -> None:
    """Answers to POST are left alone: the pages that show a secret answer a POST."""
    from django.urls import reverse

    from annotator.models import Sentence

    sentence = Sentence.objects.filter(article__corpus=corpus).first()
    response = client.post(
        reverse("annotator:sentence-label", kwargs={"pk": sentence.pk}),
        {"label": str(corpus.choices.get(value="opinion").pk)},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_ENCODING="gzip, br",
    )
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")


def test_streaming_export_is_not_compressed(
    corpus: Corpus, manager: AbstractUser, page: str
) -> None:
    _, raw = create_token(user=manager, name="export")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get(
        f"/api/v1/corpora/{corpus.slug}/export/?format=jsonl", HTTP_ACCEPT_ENCODING="gzip, br"
    )
    assert response.status_code == 200
    assert response.streaming
    assert not response.has_header("Content-Encoding")
    assert b"day 24" in b"".join(response.streaming_content)
