"""Request ids, and answers for requests that cannot be served normally: a lost or busy
database, a login lockout.

Every request gets an id (RequestIdMiddleware, see annotator/logs.py) that its log records,
its error page or API error body and its X-Request-ID response header all carry.

A lost database answers 503 and heals on the next request.

A PostgreSQL restart, a failover or a killed backend raises OperationalError or InterfaceError
in whatever request holds the connection. Instead of a generic 500, that request answers
503 Service Unavailable with a Retry-After header and a page (or, for the API, a JSON error;
for htmx, one short sentence the page shows) that says to try again; the broken connection is
closed so the next request opens a fresh one. Between requests Django's CONN_HEALTH_CHECKS
already replaces a connection that died while idle, so a restart costs at most the requests
that were in flight.

A busy database answers 503 too: a request that waited longer than the web lock or statement
timeout (annotator/db_timeouts.py), say behind a table lock held by a migration, is cancelled
by PostgreSQL and told that the database is busy for a moment. Its connection is healthy and
is kept.

The 503 page is rendered without a request context: no user, no session, nothing that needs
the database.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.signals import request_finished
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template import loader
from django.views import defaults

from annotator.activity import ActivityBeacon
from annotator.logs import REQUEST_ID, REQUEST_ID_HEADER, current_request_id, request_id_from

logger = logging.getLogger(__name__)

# Long enough for a PostgreSQL restart, short enough that a person retrying by hand is not
# kept waiting.
RETRY_AFTER_SECONDS = 10
UNAVAILABLE_MESSAGE = "The database is unavailable for a moment. Nothing was lost: try again."
SERVER_ERROR_MESSAGE = (
    "Something went wrong on our side; it has been logged. Quote the request_id when reporting it."
)
# A lock or statement timeout: whatever held the data is usually done within seconds.
BUSY_RETRY_AFTER_SECONDS = 5
BUSY_MESSAGE = (
    "The database is busy for a moment (another operation holds the data this request needs), "
    "so this request was not completed. This is temporary: try again in a few seconds."
)
# SQLSTATEs of a statement PostgreSQL cancelled: lock_not_available (lock_timeout),
# query_canceled (statement_timeout).
BUSY_SQLSTATES = frozenset({"55P03", "57014"})


def is_database_unavailable(error: BaseException | None) -> bool:
    """Whether `error` means the database could not be reached, dropped the connection, or
    cancelled a statement that waited too long (see `is_database_busy`)."""
    return isinstance(error, OperationalError | InterfaceError)


def is_database_busy(error: BaseException | None) -> bool:
    """Whether `error` is a lock or statement timeout: the database is up but was busy."""
    return getattr(getattr(error, "__cause__", None), "pgcode", None) in BUSY_SQLSTATES


def close_broken_connections() -> None:
    """Close every open connection that no longer answers, so the next use reconnects.

    A healthy connection is left alone: a query-level OperationalError (a lock timeout, say)
    does not call for a new connection, and closing one inside a transaction would lose it.
    """
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        try:
            usable = connection.is_usable()
        except DatabaseError:
            usable = False
        if not usable:
            connection.close()


def database_unavailable_response(request: HttpRequest, *, busy: bool = False) -> HttpResponse:
    """503 with Retry-After: JSON in the API's error shape under /api/, one plain sentence for
    htmx (the workspace shows it as it is), the 503 page elsewhere."""
    retry_after = BUSY_RETRY_AFTER_SECONDS if busy else RETRY_AFTER_SECONDS
    message = BUSY_MESSAGE if busy else UNAVAILABLE_MESSAGE
    if request.path.startswith("/api/"):
        code = "database_busy" if busy else "database_unavailable"
        response: HttpResponse = JsonResponse(
            {
                "error": {
                    "code": code,
                    "message": message,
                    "fields": {},
                    "request_id": current_request_id(),
                }
            },
            status=503,
        )
    elif request.headers.get("HX-Request") == "true":
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    else:
        # Only a GET can be repeated by reloading; a failed POST must be redone by the person.
        retry_url = request.get_full_path() if request.method == "GET" else None
        body = loader.get_template("503.html").render(
            {"retry_after": retry_after, "retry_url": retry_url, "busy": busy}
        )
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(retry_after)
    # A proxy or browser must not keep the outage page once the database is back.
    response["Cache-Control"] = "no-store"
    return response


class RequestIdMiddleware:
    """First in MIDDLEWARE: the request's id for its logs, error pages and response header.

    The id stays set until the response is closed (request_finished), not only while the
    middleware runs: Django logs an error answer ("Not Found: ...") after the middleware chain
    returns, and a streamed body is produced later still.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        request_finished.connect(_forget_request_id, dispatch_uid="annotator-request-id")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        REQUEST_ID.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _forget_request_id(sender: object, **kwargs: object) -> None:
    """request_finished: the thread's next log records belong to no request until one starts."""
    REQUEST_ID.set(None)


class DatabaseUnavailableMiddleware:
    """Turns a lost database during a view into the 503 answer (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        busy = is_database_busy(exception)
        logger.error(
            "Database %s during %s %s; answering 503",
            "busy (timeout)" if busy else "unavailable",
            request.method,
            request.path,
            exc_info=exception,
        )
        close_broken_connections()
        return database_unavailable_response(request, busy=busy)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: an upload over the size limit answers 413 and says the limit; the rest 400.

    The API answers the same case itself (api/errors.py, `too_large`); this covers the pages,
    such as the admin's import upload.
    """
    if isinstance(exception, RequestDataTooBig):
        body = loader.render_to_string("413.html", {"reason": str(exception)})
        return HttpResponse(body, status=413)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: the 503 answer when the error was a lost database, the generic 500 otherwise
    (in the API's JSON error format under /api/).

    Covers database errors raised outside a view (by middleware, say), which
    `DatabaseUnavailableMiddleware.process_exception` never sees. Django calls this handler
    while it handles the exception, so `sys.exc_info()` still holds it.
    """
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        close_broken_connections()
        return database_unavailable_response(request)
    if request.path.startswith("/api/"):
        # Scripts read the API's error format, with the id that finds the logged traceback.
        return JsonResponse(
            {
                "error": {
                    "code": "server_error",
                    "message": SERVER_ERROR_MESSAGE,
                    "request_id": current_request_id(),
                }
            },
            status=500,
        )
        return database_unavailable_response(request, busy=is_database_busy(error))
    return defaults.server_error(request, template_name=template_name)


def login_locked_out(
    request: HttpRequest, original_response: HttpResponseBase | None, credentials: dict | None
) -> HttpResponse:
    """django-axes lockout answer: the friendly 429 page, rendered without the database."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    body = loader.get_template("429.html").render(
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    )
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


_beacons: dict[int, ActivityBeacon] = {}


def site_activity() -> ActivityBeacon:
    """This process's beacon onto the site-wide record of interactive requests (one row in
    the database, shared by every host: annotator/activity.py)."""
    window = settings.ACTIVITY_WINDOW_SECONDS
    if window not in _beacons:
        _beacons[window] = ActivityBeacon(window_seconds=window)
    return _beacons[window]


def not_activity(view: Callable) -> Callable:
    """Mark a view whose requests are no sign of people at work: a page polling a background
    job's progress, a download of an export. Counting them would slow down the very work they
    watch or fetch (the import page polls every second)."""
    view.counts_as_activity = False  # type: ignore[attr-defined]
    return view


class ActivityMiddleware:
    """Records that people are using the site, so background work gives way (activity.py).
    In memory only: the request makes no query for it.

    Every request that reaches a view counts, except the REST API's (its clients are scripts,
    an export among them, and their own requests should not slow their export down) and those
    of views marked `not_activity`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> None:
        if not request.path.startswith("/api/") and getattr(view_func, "counts_as_activity", True):
            site_activity().touch()
