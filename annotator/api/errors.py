"""One error format for the whole API, set as DRF's EXCEPTION_HANDLER.

Every error answer is `{"error": {"code": str, "message": str, "fields": {...}, "request_id":
str}}`; `fields` appears only for validation errors and maps a field name (or
"non_field_errors", or a query parameter) to a list of messages; `request_id` is the request's
id, also in the X-Request-ID header and on each of its log records (annotator/logs.py). `code`
is stable and machine-readable (`not_found`, `not_authenticated`, `authentication_failed`,
`permission_denied`, `invalid`, `throttled`, `method_not_allowed`, `unsupported_media_type`,
`parse_error`, `too_large`, ...).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotator.logs import current_request_id

VALIDATION_MESSAGE = "The request is not valid; see `fields` for what to change."


def _flatten_messages(detail: Any) -> Any:
    """ErrorDetail trees to plain strings, lists and dicts."""
    if isinstance(detail, dict):
        return {str(key): _flatten_messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten_messages(item) for item in detail]
    return str(detail)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    request_id = current_request_id()
    if request_id is not None:
        error["request_id"] = request_id
    return {"error": error}


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = "The request body is too large."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        # An upload refused from its size (annotator/uploads.py) before its body was read.
        exc = RequestTooLarge(str(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # Unexpected errors stay 500s and reach the logs.
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = (
            _flatten_messages(detail)
            if isinstance(detail, dict)
            else {"non_field_errors": _flatten_messages(detail)}
        )
        response.data = error_body("invalid", VALIDATION_MESSAGE, fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(code, str(exc.detail))
    return response
