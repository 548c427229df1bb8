"""Compression of pages on the wire: brotli when the browser accepts it, else gzip.

Only HTML answers to GET requests are compressed. Streams (the API's dataset export, files)
pass untouched, so an export keeps streaming at full speed, and so do answers to POSTs: the
only pages that show a secret (a new API token, a new member's password) answer a POST, beside
text the user typed.

BREACH (guessing a secret in a compressed body from its length, over many requests that
reflect attacker-chosen text) needs a secret that stays the same from response to response in
a page that also reflects the attacker's text, and requests that carry the victim's session.
Here: the CSRF token is masked afresh in every response (Django), the session id lives only in
a cookie (SameSite=Lax, so cross-site requests do not carry it), and no GET page shows any
other secret. gzip answers also get Django's random-length header padding.
"""

from __future__ import annotations

from collections.abc import Callable

import brotli
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.regex_helper import _lazy_re_compile
from django.utils.text import compress_string

# Below this, the encoding's own overhead outweighs the saving (Django's GZipMiddleware's 200).
MIN_LENGTH = 200
# Brotli 5 compresses an article page smaller than gzip 6 in about the same time; higher
# qualities cost several times more CPU on every page for a few percent.
BROTLI_QUALITY = 5

_ACCEPTS = {
    name: _lazy_re_compile(rf"\b{name}\b(?!\s*;\s*q=0(\.0*)?\s*(,|$))") for name in ("br", "gzip")
}


def accepted_encoding(accept_encoding: str) -> str | None:
    """'br' or 'gzip', whichever the Accept-Encoding header allows, brotli first; else None."""
    for name, pattern in _ACCEPTS.items():
        if pattern.search(accept_encoding):
            return name
    return None


class CompressionMiddleware:
    """Compresses HTML answers to GET requests (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            request.method != "GET"
            or not isinstance(response, HttpResponse)  # streaming: no .content to compress
            or response.has_header("Content-Encoding")
            or not response.get("Content-Type", "").startswith("text/html")
        ):
            return response
        # Whether or not this one is compressed, caches must keep answers per encoding.
        patch_vary_headers(response, ("Accept-Encoding",))
        if len(response.content) < MIN_LENGTH:
            return response
        encoding = accepted_encoding(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if encoding is None:
            return response
        if encoding == "br":
            body = brotli.compress(response.content, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY)
        else:
            body = compress_string(response.content, max_random_bytes=100)
        response.content = body
        response["Content-Length"] = str(len(body))
        response["Content-Encoding"] = encoding
        # A strong ETag names the uncompressed bytes; the compressed ones differ (RFC 9110).
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response["ETag"] = "W/" + etag
        return response
