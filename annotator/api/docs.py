"""The OpenAPI description (/api/schema/) and Swagger UI (/api/docs/), for signed-in people only.

Both take the API's own authentication (a token or the session). The description maps every
endpoint, parameter and error of the API, which is of use to nobody outside the installation,
so an anonymous request gets the API's 401; the docs page, which people open in a browser,
sends an anonymous visitor to the sign-in page instead and back here afterwards.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBase
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request


class _JsonErrors:
    """Errors in the API's JSON format, not in the YAML or HTML the view renders on success."""

    request: Request

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class ApiSchemaView(_JsonErrors, SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class ApiDocsView(_JsonErrors, SpectacularSwaggerSplitView):
    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        if isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
