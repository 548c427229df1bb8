"""Whole numbers typed by people (form fields, query parameters) read without surprises."""

from __future__ import annotations

# An id or a text offset has at most this many digits; Python refuses to read a number of
# thousands of digits, and no row has such an id.
MAX_DIGITS = 12


def whole_number(raw: str | None, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`raw` as a whole number, or None: ASCII digits only ("²" and "٣" are digits to
    `str.isdigit` but not to `int`, or not to a person typing an id), at most `max_digits`."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= max_digits:
        return int(raw)
    return None
