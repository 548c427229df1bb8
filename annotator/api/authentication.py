"""Token authentication: `Authorization: Bearer <token>` (or `Token <token>`), hashed lookup.

The token's user must be active and still have the password the token was made under
(annotator/tokens.py). A token in the query string is refused outright: URLs end up in logs,
browser history and Referer headers, so a token sent that way must be treated as leaked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from annotator.tokens import find_active_token

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from rest_framework.request import Request

    from annotator.models import ApiToken

KEYWORDS = (b"bearer", b"token")
QUERY_STRING_TOKEN_NAMES = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "auth", "auth_token", "bearer"}
)


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        leaked = QUERY_STRING_TOKEN_NAMES.intersection(
            name.lower() for name in request.query_params
        )
        if leaked:
            raise exceptions.AuthenticationFailed(
                f"Tokens are not accepted in the query string ({', '.join(sorted(leaked))}); "
                "send them as 'Authorization: Bearer <token>' and revoke the exposed token."
            )
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header; expected 'Bearer <token>'."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "The token contains invalid characters."
            ) from None
        token = find_active_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "Invalid or revoked token. A token also stops working when its user's password "
                "changes or the account is deactivated; create a new one at /account/tokens/."
            )
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes unauthenticated requests answer 401 with a challenge instead of 403.
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token scheme in the OpenAPI schema (and Swagger UI's Authorize button)."""

    target_class = ApiTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from /account/tokens/.",
        }
