"""Cursor pagination for every list: stable under inserts, no COUNT(*), no deep OFFSET scans."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from annotator.numbers import whole_number


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int | None:
        """The requested page size (capped at max_page_size); a malformed one is a 400."""
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        size = whole_number(values[0]) if len(values) == 1 else None
        if not size:
            raise ValidationError({self.page_size_query_param: ["Must be one integer >= 1."]})
        return min(size, self.max_page_size)
