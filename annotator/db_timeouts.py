"""Bounded waits on PostgreSQL: statement, lock and idle-in-transaction timeouts per connection.

Without them a request queued behind a long lock (a migration, a bulk update, a forgotten
`BEGIN` in psql) waits for as long as the lock is held, and a handful of such requests stall
every gunicorn thread. Two sets of limits exist (settings.DATABASE_TIMEOUTS):

- **web**: short. A web process (started through annotator/wsgi.py) passes them as libpq
  startup options, so they cost no round trip: PostgreSQL applies them while it opens the
  connection. A request stuck behind a lock fails after `lock_timeout` and answers 503
  (annotator/middleware.py).
- **background**: long. Every other process (`manage.py db_worker`, `import_corpus`,
  `export_dataset`, `migrate`) starts its connections with these. A web process that streams an
  export does it from a thread of its own (annotator/background_stream.py), which switches its
  connection to the background limits with one `SET` when it opens it.

PostgreSQL only: SQLite has one writer at a time and nothing to configure here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.backends.signals import connection_created

if TYPE_CHECKING:
    from dj_database_url import DBConfig
    from django.db.backends.base.base import BaseDatabaseWrapper

WEB = "web"
BACKGROUND = "background"
ROLES = (WEB, BACKGROUND)


@dataclass(frozen=True)
class Timeouts:
    """Limits in milliseconds; 0 means no limit (PostgreSQL's own meaning)."""

    statement_ms: int
    lock_ms: int
    idle_in_transaction_ms: int

    def parameters(self) -> dict[str, int]:
        return {
            "statement_timeout": self.statement_ms,
            "lock_timeout": self.lock_ms,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_ms,
        }

    def startup_options(self) -> str:
        """The libpq `options` value that sets them when a connection opens."""
        return " ".join(f"-c {name}={value}" for name, value in self.parameters().items())

    def set_sql(self) -> str:
        """One statement string that sets them on an open connection (one round trip)."""
        return " ".join(f"SET {name} = {value};" for name, value in self.parameters().items())


def with_startup_options(database: DBConfig, timeouts: Timeouts) -> DBConfig:
    """`database` (a DATABASES entry) with `timeouts` in its libpq options, for PostgreSQL.

    Options already given (`?options=...` in DATABASE_URL) come after ours, so they win.
    """
    if not database.get("ENGINE", "").endswith("postgresql"):
        return database
    options = dict(database.get("OPTIONS") or {})
    options["options"] = " ".join(
        part for part in (timeouts.startup_options(), options.get("options", "")) if part
    )
    return {**database, "OPTIONS": options}


_thread = threading.local()


def use_background_timeouts() -> None:
    """From now on this thread's PostgreSQL connections use the background limits.

    For a thread of a web process that does long work (an export stream). Connections the
    thread already holds are switched at once; new ones when they open.
    """
    from django.db import connections

    _thread.background = True
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _set_background_limits(connection)


def _set_background_limits(connection: BaseDatabaseWrapper) -> None:
    from django.conf import settings

    if connection.vendor != "postgresql" or settings.DATABASE_TIMEOUTS_ROLE == BACKGROUND:
        return  # nothing to change: the connection opened with the background limits
    with connection.cursor() as cursor:
        cursor.execute(settings.DATABASE_TIMEOUTS[BACKGROUND].set_sql())


def _on_connection_created(
    sender: object, connection: BaseDatabaseWrapper, **kwargs: object
) -> None:
    if getattr(_thread, "background", False):
        _set_background_limits(connection)


connection_created.connect(_on_connection_created, dispatch_uid="annotator.db_timeouts")
