"""Cursor pagination for every list: stable under inserts, no COUNT(*), no deep OFFSET scans."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int | None:
        """The requested page size (capped at max_page_size); a malformed one is a 400."""
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise ValidationError({self.page_size_query_param: ["Must be one integer >= 1."]})
        return min(int(values[0]), self.max_page_size)
