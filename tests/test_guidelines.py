"""Guidelines Markdown: what renders, what the sanitiser removes, the size limit at every entry
point (settings page, API, database), and work that grows linearly on hostile Markdown.

The work tests count Python lines run inside markdown-it-py instead of timing it: Python-Markdown,
which this replaced, grew quadratically on `[` (2,000 took 4.2 s). bench/bench_guidelines.py
records the times.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import markdown_it
import pytest
from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotator import guidelines
from annotator.guidelines import MAX_GUIDELINES_CHARS, TRUNCATED_NOTE, render_guidelines
from annotator.models import Corpus
from annotator.tokens import create_token

# --- rendering and sanitising ---------------------------------------------------------------


def test_commonmark_and_tables_render() -> None:
    html = render_guidelines(
        "# Claims\n\nA **factual claim** can be *checked*.\n\n"
        "1. one\n2. two\n\n- [rules](https://example.org/rules)\n\n"
        "```\nverbatim <b>\n```\n\n| Label | Key |\n| --- | --- |\n| Opinion | o |\n"
    )
    assert "<h1>Claims</h1>" in html
    assert "<strong>factual claim</strong>" in html and "<em>checked</em>" in html
    assert "<ol>\n<li>one</li>" in html
    assert '<a href="https://example.org/rules" rel="noopener noreferrer nofollow">' in html
    assert "<pre><code>verbatim &lt;b&gt;\n</code></pre>" in html
    assert "<th>Label</th>" in html and "<td>Opinion</td>" in html


def test_empty_guidelines_render_nothing() -> None:
    assert render_guidelines("") == ""
    assert render_guidelines(" \n\t") == ""


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))",
        "# Rules <script>alert(1)</script>\n\n<div hx-get=/x hx-trigger=load>htmx</div>",
        '[x](javascript:alert(1) "t") and <svg onload=alert(1)> and <a href="javascript:x">y</a>',
        "<iframe src=https://evil.example></iframe> <b onclick=alert(1)>bold</b>",
    ],
)
def test_scripts_handlers_htmx_and_javascript_links_are_removed(markdown: str) -> None:
    html = render_guidelines(markdown)
    for banned in ("<script", "alert(1)", "onerror", "onload", "onclick", "hx-", "javascript:"):
        assert banned not in html
    assert "<iframe" not in html and "<svg" not in html


def test_allowed_inline_html_stays() -> None:
    assert render_guidelines("Press <kbd>o</kbd> for <b>opinion</b>.") == (
        "<p>Press <kbd>o</kbd> for <b>opinion</b>.</p>\n"
    )


def test_text_over_the_limit_is_cut_with_a_note() -> None:
    text = "a" * MAX_GUIDELINES_CHARS + "TAIL"
    html = render_guidelines(text)
    assert "TAIL" not in html
    assert html.endswith(TRUNCATED_NOTE)
    assert render_guidelines("a" * MAX_GUIDELINES_CHARS).count("a") == MAX_GUIDELINES_CHARS


def test_guidelines_module_does_not_import_django() -> None:
    tree = ast.parse(Path(guidelines.__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    assert "nh3" in imported
    assert not [name for name in imported if name.split(".")[0] == "django"]


# --- hostile Markdown: work grows linearly ---------------------------------------------------

MARKDOWN_IT = str(Path(markdown_it.__file__).parent)


def markdown_work(text: str) -> int:
    """Python lines markdown-it-py runs to render `text` (bypassing the cache)."""
    lines = 0

    def count(frame: FrameType, event: str, arg: object) -> object:
        nonlocal lines
        if event == "line":
            lines += 1
        return count

    def trace(frame: FrameType, event: str, arg: object) -> object:
        return count if frame.f_code.co_filename.startswith(MARKDOWN_IT) else None

    renderer = guidelines._markdown()
    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        renderer.render(text)
    finally:
        sys.settrace(previous)
    return lines


HOSTILE = {
    "brackets": lambda n: "[" * n,
    "image brackets": lambda n: "![" * (n // 2),
    "unclosed links": lambda n: "[a](" * (n // 4),
    "reference-style openers": lambda n: "[a][" * (n // 4),
    "closers": lambda n: "](" * (n // 2),
    "brackets then closers": lambda n: "[" * (n // 2) + "]" * (n // 2),
    "brackets and emphasis": lambda n: "[*" * (n // 2),
    "emphasis run": lambda n: "*" * n,
    "emphasis openers": lambda n: "*a **b " * (n // 7),
    "mixed emphasis": lambda n: "**a*" * (n // 4),
    "underscores": lambda n: "_a " * (n // 3),
    "backticks": lambda n: "`a" * (n // 2),
    "backtick runs of growing length": lambda n: "".join("`" * i + "x" for i in range(1, n))[:n],
    "nested quotes": lambda n: ">" * n + " a",
    "quote lines": lambda n: "\n".join(">" * (i % 50) + " a" for i in range(n // 30)),
    "nested lists": lambda n: "\n".join("  " * (i % 60) + "- a" for i in range(n // 60)),
    "link reference definitions": lambda n: (
        "".join(f"[r{i}]: /u{i}\n" for i in range(n // 24))
        + " ".join(f"[r{i}]" for i in range(n // 24))
    ),
    "table rows": lambda n: "|a|b|\n|-|-|\n" + "|x|y|\n" * (n // 6),
    "wide table": lambda n: "|" + "a|" * (n // 4) + "\n|" + "-|" * (n // 4) + "\n",
    "inline html openers": lambda n: "<a " * (n // 3),
    "entities": lambda n: "&#" * (n // 2),
    "autolink openers": lambda n: "<http://" * (n // 8),
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_markdown_work_grows_linearly_with_hostile_input(make: Callable[[int], str]) -> None:
    small, large = markdown_work(make(2_000)), markdown_work(make(4_000))
    assert large <= 2.3 * small


def test_the_preview_that_held_a_worker_renders_with_bounded_work() -> None:
    # 100,000 `[` in a settings preview held a gunicorn thread for over 20 minutes.
    html = render_guidelines("[" * 100_000)
    assert html == TRUNCATED_NOTE.join(["<p>" + "[" * MAX_GUIDELINES_CHARS + "</p>\n", ""])
    assert markdown_work("[" * 4_000) < 1_000 * 4_000  # a few hundred lines per character


# --- the limit at each entry point ------------------------------------------------------------

TOO_LONG = "x" * (MAX_GUIDELINES_CHARS + 1)
LIMIT_MESSAGE = f"at most {MAX_GUIDELINES_CHARS} characters long; these have"


def test_settings_page_refuses_guidelines_over_the_limit(
    client: Client, corpus: Corpus, manager: AbstractUser
) -> None:
    client.force_login(manager)
    url = reverse("annotator:corpus-settings", kwargs={"slug": corpus.slug})
    data = {"name": corpus.name, "description": "", "annotators_per_article": "2"}

    for action in ({}, {"preview": "1"}):
        response = client.post(url, data | {"guidelines": TOO_LONG} | action)
        assert response.status_code == 400
        assert LIMIT_MESSAGE in response.content.decode()

    corpus.refresh_from_db()
    assert corpus.guidelines == ""
    exact = "x" * MAX_GUIDELINES_CHARS
    assert client.post(url, data | {"guidelines": exact}).status_code == 302
    corpus.refresh_from_db()
    assert corpus.guidelines == exact


def test_api_refuses_guidelines_over_the_limit(corpus: Corpus, manager: AbstractUser) -> None:
    _, token = create_token(user=manager, name="tests")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.patch(f"/api/v1/corpora/{corpus.slug}/", {"guidelines": TOO_LONG}, format="json")
    assert response.status_code == 400
    assert LIMIT_MESSAGE in response.json()["error"]["fields"]["guidelines"][0]
    corpus.refresh_from_db()
    assert corpus.guidelines == ""


def test_database_refuses_guidelines_over_the_limit(corpus: Corpus) -> None:
    with (
        pytest.raises(IntegrityError, match="corpus_guidelines_within_limit"),
        transaction.atomic(),
    ):
        Corpus.objects.filter(pk=corpus.pk).update(guidelines=TOO_LONG)
