"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

`RequestIdMiddleware` (middleware.py) gives every request an id (the client's or proxy's
`X-Request-ID` when it is a short safe token, else a new one), keeps it in `REQUEST_ID` until
the response is closed, and echoes it in the `X-Request-ID` response header; error pages and API
error bodies show it too, so a person reporting a problem can quote the id that finds its log
records. `RequestIdFilter` copies it onto every log record; `JsonFormatter` (python-json-logger)
writes each record as one JSON object on one line: newlines, terminal escapes and other control
characters in messages and tracebacks come out escaped, so a logged value can neither split a
record nor forge one.

No Django here: settings.LOGGING loads these classes while Django is still starting.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# The id of the request being handled in this thread, None outside requests.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# What we accept from outside: short, and nothing that could break a header, a log line or a
# page (a proxy's UUID or a trace id fits).
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id_from(header: str | None) -> str:
    """The incoming X-Request-ID if it is a safe short token, else a new random id."""
    if header and _SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (None outside a request) to every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """`{"time", "level", "logger", "message", "request_id", ...extra, "exc_info"?}` per line.

    ASCII-only output: every control character and every non-ASCII character is a JSON escape.
    """

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=True,
        )
