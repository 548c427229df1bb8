"""Database faults for the load test (`run.py --faults`), made from outside the app.

From a superuser connection to the `postgres` database, on a schedule:

- every `kill_every` seconds, `pg_terminate_backend` on every client backend of the scratch
  database (gunicorn's connections, whatever they are doing);
- every `lock_every` seconds (first after 30 s), ACCESS EXCLUSIVE on the annotation table for
  the next of `lock_seconds` in turn, from a connection to the scratch database;
- every `lock_every` seconds (first after 90 s), the app's role held to 2 connections for 10 s,
  its backends terminated so that they must reconnect against the limit.

The app connects as a role of its own (`create_app_role`): PostgreSQL exempts superusers from
connection limits. Every event is recorded with its time for the summary.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import psycopg2

LIMIT_CONNECTIONS, LIMIT_SECONDS = 2, 10.0
FIRST_LOCK_AT, FIRST_LIMIT_AT = 30.0, 90.0


def _connect(url: str) -> psycopg2.extensions.connection:
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def app_role_name(database: str) -> str:
    return f"{database}_app"[:63]


def create_app_role(admin_url: str, database_url: str) -> str:
    """A login role named after the database, with read and write on its tables."""
    role = app_role_name(urlsplit(database_url).path.strip("/"))
    admin = _connect(admin_url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if not cursor.fetchone():
            cursor.execute(f'CREATE ROLE "{role}" LOGIN')
        cursor.execute(f'ALTER ROLE "{role}" CONNECTION LIMIT -1')
    admin.close()
    owner = _connect(database_url)
    with owner.cursor() as cursor:
        cursor.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"; '
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'
        )
    owner.close()
    return role


def drop_app_role(admin_url: str, database_url: str, role: str) -> None:
    owner = _connect(database_url)
    with owner.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
    owner.close()
    admin = _connect(admin_url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
    admin.close()


class FaultInjector:
    """Runs the schedule of the module docstring in a thread until `stop` is set."""

    def __init__(
        self,
        *,
        admin_url: str,
        database: str,
        role: str,
        kill_every: float,
        lock_seconds: list[float],
        lock_every: float,
    ) -> None:
        self.admin_url = admin_url
        self.database_url = admin_url.rsplit("/", 1)[0] + f"/{database}"
        self.database = database
        self.role = role
        self.kill_every = kill_every
        self.lock_seconds = lock_seconds
        self.lock_every = lock_every
        self.stop = threading.Event()
        self.events: list[tuple[float, str]] = []
        self.killed = 0
        self._started = 0.0
        self._admin = _connect(admin_url)
        self._holder: psycopg2.extensions.connection | None = None

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="faults", daemon=True)
        self._started = time.monotonic()
        thread.start()
        return thread

    def _note(self, event: str) -> None:
        self.events.append((round(time.monotonic() - self._started, 1), event))

    def _sql(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._admin.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall() if cursor.description else []

    def _kill_all(self) -> int:
        spared = self._holder.get_backend_pid() if self._holder is not None else 0
        rows = self._sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
            "AND backend_type = 'client backend' AND pid NOT IN (pg_backend_pid(), %s)",
            (self.database, spared),
        )
        self.killed += len(rows)
        return len(rows)

    def _run(self) -> None:
        next_kill = self.kill_every
        next_lock, lock_number = FIRST_LOCK_AT, 0
        lock_until = None
        next_limit, limit_until = FIRST_LIMIT_AT, None
        while not self.stop.wait(0.2):
            now = time.monotonic() - self._started
            if now >= next_kill:
                self._note(f"terminated {self._kill_all()} backends")
                next_kill += self.kill_every
            if lock_until is None and now >= next_lock:
                seconds = self.lock_seconds[lock_number % len(self.lock_seconds)]
                self._holder = _connect(self.database_url)
                self._holder.autocommit = False
                with self._holder.cursor() as cursor:
                    cursor.execute("LOCK TABLE annotator_annotation IN ACCESS EXCLUSIVE MODE")
                self._note(f"ACCESS EXCLUSIVE lock on annotator_annotation for {seconds:.0f} s")
                lock_until, lock_number = now + seconds, lock_number + 1
                next_lock += self.lock_every
            if lock_until is not None and now >= lock_until:
                self._release_lock()
                self._note("lock released")
                lock_until = None
            if limit_until is None and now >= next_limit:
                self._sql(f'ALTER ROLE "{self.role}" CONNECTION LIMIT {LIMIT_CONNECTIONS}')
                self._note(
                    f"role limited to {LIMIT_CONNECTIONS} connections; "
                    f"terminated {self._kill_all()} backends"
                )
                limit_until = now + LIMIT_SECONDS
                next_limit += self.lock_every
            if limit_until is not None and now >= limit_until:
                self._sql(f'ALTER ROLE "{self.role}" CONNECTION LIMIT -1')
                self._note("connection limit lifted")
                limit_until = None
        self.release()

    def _release_lock(self) -> None:
        if self._holder is not None:
            self._holder.rollback()
            self._holder.close()
            self._holder = None

    def release(self) -> None:
        """Undo whatever is in force (the run may end in the middle of a fault)."""
        self._release_lock()
        if not self._admin.closed:
            self._sql(f'ALTER ROLE "{self.role}" CONNECTION LIMIT -1')

    def summary(self) -> dict[str, object]:
        from django.conf import settings

        return {
            "kill_every_s": self.kill_every,
            "lock_seconds": self.lock_seconds,
            "lock_every_s": self.lock_every,
            "backends_terminated": self.killed,
            "web_statement_timeout_ms": settings.DATABASE_TIMEOUTS["web"].statement_ms,
            "web_lock_timeout_ms": settings.DATABASE_TIMEOUTS["web"].lock_ms,
            "events": self.events,
        }

    def close(self) -> None:
        self.release()
        self._admin.close()
