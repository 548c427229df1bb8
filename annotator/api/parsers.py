"""The API's JSON body parser: DRF's, with deep nesting answered as bad input.

`json.loads` of a body such as 100,000 opening brackets raises RecursionError, which DRF's
parser does not catch (it catches ValueError), so the request would end in a 500. Here it is a
400 `parse_error` that says why, as the JSONL readers of imports already do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
