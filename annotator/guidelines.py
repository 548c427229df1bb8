"""Corpus guidelines: Markdown to HTML that is safe to put in a page.

Python-Markdown renders; nh3 (the Rust `ammonia` sanitiser) then keeps only an allow-list of
tags and attributes, so a `<script>`, an `onerror=` or an `hx-get` written into guidelines is
dropped rather than run. Sanitising after rendering covers raw HTML that Markdown passes through.
"""

from __future__ import annotations

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


def render_guidelines(text: str) -> str:
    """Sanitised HTML for the guidelines side panel; empty text gives an empty string."""
    if not text.strip():
        return ""
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
