"""Personal API tokens: create (the raw token is returned once), look up by hash, revoke.

Only a token's SHA-256 is stored, so a leaked database does not leak working tokens; the
first characters are kept as `prefix` so people can tell their tokens apart.

A token works only while its user is active and has the password the token was made under.
Each token stores `password_fingerprint(user)`, a digest of the password hash at creation, and
`find_active_token` compares it with the user row it already joins: no extra query, and no
path that changes the password (a form, `set_password`, `changepassword`, a queryset
`update()`, raw SQL) can leave a token working. Deactivation is checked the same way, so
reactivating an account brings its unrevoked tokens back, as it brings back Django's sessions;
revoke them, or change the password, to end them for good. A hash *upgrade* (Django re-hashing
the same password at sign-in after its hasher gets stronger) is not a password change: the
signal handlers below move that user's current tokens to the new hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from annotator.models import ApiToken, max_length_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, User

# Recognisable in logs and by secret scanners ("csa" = claim & stance annotator).
TOKEN_PREFIX = "csa_"
PREFIX_LENGTH = 12
# Recording every use would turn each API read into a write; once per interval is enough.
LAST_USED_INTERVAL = timedelta(minutes=5)
MAX_NAME_LENGTH = max_length_of(ApiToken, "name")


class TokenLimitReached(Exception):
    """Too many tokens created in the last hour (API_TOKEN_CREATE_PER_HOUR)."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def password_fingerprint(user: AbstractBaseUser) -> str:
    """What a token remembers of its user's password: a digest of the stored password hash.

    Setting a password (or an unusable one) makes a new salted hash, hence a new fingerprint.
    Not keyed with SECRET_KEY, so rotating the key does not cut off every script; a digest of
    a salted, stretched hash tells nothing that the user table does not.
    """
    return _fingerprint_of_hash(user.password)


def _fingerprint_of_hash(password_hash: str) -> str:
    return hashlib.sha256(f"annotator.api-token:{password_hash}".encode()).hexdigest()


def create_token(*, user: User, name: str) -> tuple[ApiToken, str]:
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
            user=user,
            name=name,
            prefix=raw[:PREFIX_LENGTH],
            key_hash=hash_token(raw),
            password_fingerprint=password_fingerprint(user),
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
    """The unrevoked token whose hash matches `raw`, with its user, or None.

    None too when the user is inactive or has changed password since the token was made.
    """
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if not hmac.compare_digest(token.password_fingerprint, password_fingerprint(token.user)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _remember_hash_before_upgrade(
    sender: type[AbstractBaseUser],
    instance: AbstractBaseUser,
    update_fields: frozenset[str] | None = None,
    **kwargs: object,
) -> None:
    """pre_save of the user model: note the stored hash when Django is about to upgrade it.

    Django's hash upgrade (AbstractBaseUser.check_password's setter) saves only the password,
    with `_password` cleared, because it is the same password under a stronger hash. A real
    change through `set_password` keeps `_password`; an unusable password is a change too.
    """
    if (
        update_fields is not None
        and set(update_fields) == {"password"}
        and getattr(instance, "_password", None) is None
        and instance.pk is not None
        and instance.has_usable_password()
    ):
        previous = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True)
        instance._password_before_upgrade = previous.first()  # type: ignore[attr-defined]


def _carry_tokens_through_upgrade(
    sender: type, instance: AbstractBaseUser, **kwargs: object
) -> None:
    """post_save of the user model: tokens of the upgraded hash follow it to the new one.

    Only tokens made under the password the user still has: one made under an older password
    stays refused.
    """
    previous = instance.__dict__.pop("_password_before_upgrade", None)
    if previous is None or previous == instance.password:
        return
    ApiToken.objects.filter(
        user_id=instance.pk, password_fingerprint=_fingerprint_of_hash(previous)
    ).update(password_fingerprint=password_fingerprint(instance))


def connect_signals() -> None:
    """Called from AnnotatorConfig.ready: follow hash upgrades of the user model."""
    user_model = get_user_model()
    pre_save.connect(
        _remember_hash_before_upgrade, sender=user_model, dispatch_uid="token-hash-upgrade-pre"
    )
    post_save.connect(
        _carry_tokens_through_upgrade, sender=user_model, dispatch_uid="token-hash-upgrade-post"
    )
