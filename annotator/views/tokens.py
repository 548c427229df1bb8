"""Personal API tokens in the web UI: list, create (the token is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from annotator.models import ApiToken
from annotator.request_types import AuthenticatedRequest
from annotator.tokens import TokenLimitReached, create_token, revoke_token


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: AuthenticatedRequest) -> HttpResponse:
    created_raw: str | None = None
    error: str | None = None
    status = 200
    if request.method == "POST":
        try:
            _, created_raw = create_token(user=request.user, name=request.POST.get("name", ""))
        except TokenLimitReached as limit:
            error, status = str(limit), 429
        except ValueError as invalid:
            error, status = str(invalid), 400
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    # The new token is rendered into this response only (not a redirect, not the session):
    # it is never stored anywhere it could be shown again.
    return render(
        request,
        "annotator/tokens.html",
        {"tokens": tokens, "created_raw": created_raw, "error": error},
        status=status,
    )


@login_required
@require_http_methods(["POST"])
def token_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    if revoke_token(token=token):
        messages.success(request, f"Token “{token.name}” revoked; scripts using it now get 401.")
    return redirect("annotator:token-list")
