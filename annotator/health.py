"""Load-balancer probes: `/healthz` (the process answers) and `/readyz` (it can serve).

A load balancer or orchestrator probes each web host directly: plain HTTP to the host's own
address, with no `X-Forwarded-Proto` and often the address as Host. The middleware below is
first in MIDDLEWARE and answers both paths itself, so a probe is not redirected to HTTPS, not
refused for its Host header, and touches no session; nothing else reaches it.

- `/healthz`: 200 as long as the process can answer; no database.
- `/readyz`: 200 when the database answers, every migration is applied, and (unless
  READYZ_REQUIRES_WORKER=0) a background worker has beaten within WORKER_LEASE_SECONDS;
  503 otherwise.

The bodies say `ok` or `unavailable` and nothing more (no versions, no error text); which
check failed goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from annotator.middleware import close_broken_connections
from annotator.worker import worker_status

logger = logging.getLogger(__name__)

PROBES = ("/healthz", "/readyz")
_migrations_applied = False


def _answer(ready: bool) -> HttpResponse:
    response = HttpResponse(
        "ok\n" if ready else "unavailable\n",
        status=200 if ready else 503,
        content_type="text/plain; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response


def migrations_applied() -> bool:
    """Whether the database has every migration this code knows; remembered once true, since
    a process's code (and so its migrations) does not change while it runs."""
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        _migrations_applied = not executor.migration_plan(targets)
    return _migrations_applied


def unready_reason() -> str | None:
    """What keeps this host from serving, or None when it is ready."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not migrations_applied():
            return "migrations not applied"
        if settings.READYZ_REQUIRES_WORKER and not worker_status().alive:
            return "no background worker seen within WORKER_LEASE_SECONDS"
    except DatabaseError as error:
        close_broken_connections()
        return f"database: {error}".strip()
    return None


class HealthCheckMiddleware:
    """Answers GET and HEAD on /healthz and /readyz before any other middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path not in PROBES or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if request.path == "/healthz":
            return _answer(True)
        reason = unready_reason()
        if reason is not None:
            logger.warning("/readyz: not ready: %s", reason)
        return _answer(reason is None)
