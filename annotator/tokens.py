"""Personal API tokens: create (the raw token is returned once), look up by hash, revoke.

Only a token's SHA-256 is stored, so a leaked database does not leak working tokens; the
first characters are kept as `prefix` so people can tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from annotator.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Recognisable in logs and by secret scanners ("csa" = claim & stance annotator).
TOKEN_PREFIX = "csa_"
PREFIX_LENGTH = 12
# Recording every use would turn each API read into a write; once per interval is enough.
LAST_USED_INTERVAL = timedelta(minutes=5)
MAX_NAME_LENGTH = ApiToken._meta.get_field("name").max_length


class TokenLimitReached(Exception):
    """Too many tokens created in the last hour (API_TOKEN_CREATE_PER_HOUR)."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; the raw token is returned here and never stored.

    Raises ValueError for a bad name and TokenLimitReached past the hourly limit.
    """
    name = name.strip()
    if not name:
        raise ValueError("A token needs a name, e.g. the script or machine that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A token name has at most {MAX_NAME_LENGTH} characters.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        # The user row lock makes "count, then create" one step for parallel requests.
        get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        recent = ApiToken.objects.filter(
            user=user, created_at__gte=timezone.now() - timedelta(hours=1)
        ).count()
        if recent >= settings.API_TOKEN_CREATE_PER_HOUR:
            raise TokenLimitReached(
                f"At most {settings.API_TOKEN_CREATE_PER_HOUR} tokens can be created per hour; "
                "try again later."
            )
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[:PREFIX_LENGTH], key_hash=hash_token(raw)
        )
    return token, raw


def revoke_token(*, token: ApiToken) -> bool:
    """Revoke `token`; False when it was already revoked (revoking twice changes nothing)."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    token.refresh_from_db(fields=["revoked_at"])
    return bool(updated)


def find_active_token(raw: str) -> ApiToken | None:
    """The unrevoked token whose hash matches `raw`, with its user, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
