"""Admin for API tokens: managers (staff) see and revoke tokens; the raw token is never shown.

Registered in annotator/admin.py.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from annotator.models import ApiToken
from annotator.tokens import revoke_token


@admin.action(description="Revoke selected tokens")
def revoke_tokens(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ApiToken]
) -> None:
    revoked = sum(revoke_token(token=token) for token in queryset)
    modeladmin.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = [revoke_tokens]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token made here could never be shown to its owner; users create their own.
        return False
