"""Upload handling: a request body larger than any import may be is refused before it is read.

Django spools uploads to temporary files as they arrive; without this handler a 10 GB body would
be written to disk in full before a view could say it is too big. The limit follows
IMPORT_MAX_TOTAL_BYTES, plus DATA_UPLOAD_MAX_MEMORY_SIZE of room for the form's other fields.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler

# Lines in one file uploaded through the web or the API (labels, predictions): a request's
# worth of work. The management commands read files of any length.
MAX_UPLOAD_LINES = 100_000


def upload_limit() -> int:
    return settings.IMPORT_MAX_TOTAL_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class UploadSizeLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: checks the declared Content-Length, stores nothing."""

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes | str,  # bytes from Django's MultiPartParser; the stubs say str
        encoding: str | None = None,
    ) -> None:
        if content_length > upload_limit():
            raise RequestDataTooBig(
                f"The upload is {content_length:,} bytes, over the {upload_limit():,}-byte limit; "
                "split it into smaller batches."
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # the next handler stores it

    def file_complete(self, file_size: int) -> None:
        return None
