"""Log records as JSON lines: one line per record whatever the message holds, and request ids."""

from __future__ import annotations

import contextvars
import json
import logging
import sys

import pytest

from annotator.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, request_id_from

HOSTILE = 'first line\nforged {"level": "INFO"}\r\x1b[31mred\x00nul\x7f\u2028sep – é'


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord(
        "annotator.test", logging.WARNING, __file__, 1, message, args, exc_info
    )


def formatted(entry: logging.LogRecord) -> str:
    RequestIdFilter().filter(entry)
    return JsonFormatter().format(entry)


def test_a_message_with_newlines_and_control_characters_stays_one_line() -> None:
    line = formatted(record("user wrote %s", HOSTILE))

    assert "\n" not in line and "\r" not in line
    assert all(32 <= ord(character) < 127 for character in line)
    data = json.loads(line)
    assert data["message"] == f"user wrote {HOSTILE}"
    assert data["level"] == "WARNING" and data["logger"] == "annotator.test"
    assert data["time"].endswith("+00:00")


def test_a_traceback_is_escaped_into_the_same_record() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        line = formatted(record("failed", exc_info=sys.exc_info()))

    assert "\n" not in line
    data = json.loads(line)
    assert "Traceback (most recent call last)" in data["exc_info"]
    assert "ValueError: bad\nvalue" in data["exc_info"]


def test_records_carry_the_current_request_id_and_none_outside_requests() -> None:
    # Outside any request: a fresh context, whatever an earlier test's unclosed streaming
    # response left in this thread's.
    outside = json.loads(contextvars.Context().run(lambda: formatted(record("idle"))))
    token = REQUEST_ID.set("abc123")
    try:
        inside = json.loads(formatted(record("busy")))
    finally:
        REQUEST_ID.reset(token)

    assert outside["request_id"] is None
    assert inside["request_id"] == "abc123"


@pytest.mark.parametrize(
    "incoming", ["3f2b9c1e-8d4a-4f6b-9c2d-1a2b3c4d5e6f", "req.42", "1-67891233-abc:7"]
)
def test_a_safe_incoming_request_id_is_kept(incoming: str) -> None:
    assert request_id_from(incoming) == incoming


@pytest.mark.parametrize(
    "incoming",
    [None, "", "a b", "x" * 65, "id\nforged", "<script>", "-leading-dash", "é", "id;drop"],
)
def test_an_unsafe_or_missing_request_id_is_replaced_by_a_new_one(incoming: str | None) -> None:
    generated = request_id_from(incoming)

    assert generated != incoming
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert request_id_from(incoming) != generated
