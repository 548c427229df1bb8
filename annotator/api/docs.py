"""The OpenAPI description (/api/schema/) and Swagger UI (/api/docs/), for signed-in people only.

Both take the API's own authentication (a token or the session). The description maps every
endpoint, parameter and error of the API, which is of use to nobody outside the installation,
so an anonymous request gets the API's 401; the docs page, which people open in a browser,
sends an anonymous visitor to the sign-in page instead and back here afterwards.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class _JsonErrors(APIView):
    """Errors in the API's JSON format, not in the YAML or HTML the view renders on success."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class ApiSchemaView(_JsonErrors, SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class ApiDocsView(_JsonErrors, SpectacularSwaggerSplitView):
    # Checked in get() instead of by a permission class, which could only answer 401: a person
    # who is not signed in is sent to the sign-in page. A wrong token still gets the 401.
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: object, **kwargs: object) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)
