"""Every page loads its scripts, styles and images from our own static files, never another site.

Pages are found by walking the URL configuration, so a page added later is checked too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import AbstractUser
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from annotator.models import ApiToken, Article, Assignment, Corpus, Layer

# Tag → attributes that load something into the page.
ASSET_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
}


class AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ASSET_ATTRIBUTES.get(tag, ()):
                self.assets.append((tag, value))


def walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        else:
            yield route, pattern


@pytest.fixture
def site(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., object],
) -> dict[str, object]:
    """A corpus with articles, labels and an API token, so every page has something to show."""
    articles = [
        make_article(corpus=corpus, title=f"Article {n}", text=f"Story {n} begins. It ends here.")
        for n in range(2)
    ]
    for article in articles:
        for person in (manager, annotator):
            Assignment.objects.create(article=article, annotator=person)
        sentence = article.sentences.first()
        make_annotation(sentence=sentence, annotator=annotator, value="opinion")
        make_annotation(sentence=sentence, annotator=manager, value="factual_claim")
        make_annotation(sentence=sentence, annotator=annotator, value="favor", layer=Layer.STANCE)
    token = ApiToken.objects.create(user=manager, name="script", prefix="abc", key_hash="0" * 64)
    sentence = articles[0].sentences.first()
    return {
        "slug": corpus.slug,
        # The first path segment names the model a <pk> belongs to.
        "pk": {"articles": articles[0].pk, "sentences": sentence.pk, "account": token.pk},
        "curation": sentence.pk,
    }


def page_urls(site: dict[str, object]) -> list[str]:
    urls = []
    for route, _pattern in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/v1/")) or "(?P<" in route:
            continue  # Django's admin and the JSON API are not our pages.
        path = "/" + route.replace("<slug:slug>", str(site["slug"]))
        if "<int:pk>" in path:
            if "/curation/" in path:
                pk = site["curation"]
            else:
                pk = site["pk"].get(path.strip("/").split("/")[0])  # type: ignore[union-attr]
            if pk is None:
                continue
            path = path.replace("<int:pk>", str(pk))
        if "<" not in path:
            urls.append(path)
    return urls


def test_every_page_uses_only_vendored_static_assets(
    client: Client, site: dict[str, object], manager: AbstractUser
) -> None:
    client.force_login(manager)
    checked: list[str] = []
    problems: list[str] = []

    for url in page_urls(site):
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        checked.append(url)
        collector = AssetCollector()
        collector.feed(response.content.decode())
        for tag, value in collector.assets:
            for candidate in value.split(","):
                asset = candidate.strip().split(" ")[0]
                parts = urlsplit(asset)
                if parts.scheme == "data":
                    continue
                if parts.scheme or parts.netloc or asset.startswith("//"):
                    problems.append(f"{url}: <{tag}> loads {asset} from another site")
                elif parts.path.startswith("/static/") and not finders.find(
                    parts.path.removeprefix("/static/")
                ):
                    problems.append(f"{url}: <{tag}> loads {asset}, which is not vendored")

    # The walk must have reached the real pages, or this test proves nothing.
    assert {"/", "/corpora/korea/", f"/articles/{site['pk']['articles']}/"} <= set(checked)  # type: ignore[index]
    assert problems == []


def test_sign_in_page_uses_only_vendored_static_assets(client: Client, db: None) -> None:
    response = client.get("/accounts/login/")
    collector = AssetCollector()
    collector.feed(response.content.decode())

    assert collector.assets  # the stylesheet and htmx at least
    for _tag, value in collector.assets:
        assert value.startswith("/static/"), value
