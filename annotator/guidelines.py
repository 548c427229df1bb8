"""Corpus guidelines: Markdown to HTML that is safe to put in a page.

markdown-it-py renders CommonMark (plus GitHub-style tables) in time linear in the text, even on
hostile input: Python-Markdown, used before, took 4.2 s on 2,000 `[` and never finished on
100,000. nh3 (the Rust `ammonia` sanitiser) then keeps only an allow-list of tags and
attributes, so a `<script>`, an `onerror=` or an `hx-get` written into guidelines is dropped
rather than run. Sanitising after rendering covers the raw HTML that Markdown passes through.

Guidelines are at most `MAX_GUIDELINES_CHARS` long: the model refuses longer text with a clear
error, and the renderer cuts anything longer that reaches it anyway (a row written before the
limit, or by SQL). Rendered HTML is cached per text, since every article page shows it.
Pure: no Django.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# About 12 printed pages. The slowest input we found (`![` repeated) renders 30,000 characters
# in about 0.45 s of CPU on the project's machine; bench/bench_guidelines.py measures.
MAX_GUIDELINES_CHARS = 30_000

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
TRUNCATED_NOTE = (
    f"<p><em>The guidelines are longer than {MAX_GUIDELINES_CHARS:,} characters; "
    "the rest is not shown.</em></p>"
)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Imported on first use: management commands and most requests never render guidelines.
    from markdown_it import MarkdownIt

    # Raw HTML is read inline only: an HTML *block* would swallow the Markdown after a tag on
    # its line (`<script>…</script> [x](url)` stays raw text), so nh3 would get less to judge.
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table").disable("html_block")
    # nh3 decides which link schemes survive (http, https, mailto); markdown-it's own check
    # would print a refused link as its raw Markdown source instead of as plain link text.
    renderer.validateLink = lambda url: True  # type: ignore[method-assign]
    return renderer


@lru_cache(maxsize=32)
def render_guidelines(text: str) -> str:
    """Sanitised HTML for the guidelines side panel; empty text gives an empty string.

    Text over `MAX_GUIDELINES_CHARS` is cut there, with a note saying so.
    """
    if not text.strip():
        return ""
    truncated = len(text) > MAX_GUIDELINES_CHARS
    html = _markdown().render(text[:MAX_GUIDELINES_CHARS] if truncated else text)
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return html + TRUNCATED_NOTE if truncated else html
