"""Request types for views: what the middleware and `@login_required` guarantee, told to mypy.

Django types `request.user` as `User | AnonymousUser` and knows nothing of `request.htmx`; a
view annotated with these types says which guarantees it relies on (django-stubs and
django-htmx document this pattern).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """Every request: django_htmx.middleware.HtmxMiddleware is in settings.MIDDLEWARE."""

    htmx: HtmxDetails


class AuthenticatedRequest(HtmxRequest):
    """A request to a `@login_required` view: its user is signed in, never AnonymousUser."""

    user: User
