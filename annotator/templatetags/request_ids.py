"""`{% request_id %}`: the id of the request being answered, for error pages.

Read from the request-id context (annotator/logs.py) rather than the template context, because
the 500, 503, 413 and 429 pages render without a request.
"""

from __future__ import annotations

from django import template

from annotator.logs import current_request_id

register = template.Library()


@register.simple_tag
def request_id() -> str:
    return current_request_id() or ""
