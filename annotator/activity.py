"""Whether people are using the site right now, shared by every web host through the database.

Background work (an export stream, an import) should give way to annotators while they are
working, and run at full speed when nobody is. The web processes record each request from a
person (a page or htmx request; API clients are scripts, including the export's own); background
work, on any host, asks whether there was one within the window. The record is one row in
PostgreSQL (`SiteActivity`), because web hosts and workers may be different machines that share
nothing but the database.

Recording costs a request nothing: `touch()` only notes the beat in memory, and a daemon thread
of the process writes it, at most once per `write_interval_seconds`, through a connection of its
own (Django's connections are per thread) that it closes after each write, so it holds no
connection between beats. A failed write (the database down, the connection limit reached) is
dropped: the next beat writes again. Times are the database's clock on both sides, so hosts
whose clocks disagree still agree on "recently", and a write never moves the time backwards.

Reading is one query on the caller's own connection (it is the background work's, so it fails
as that work's queries would), answered from the database clock and reused for
`read_cache_seconds`: a duty cycle asks up to 50 times a second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Value
from django.db.models.functions import Greatest, Now

from annotator.models import SiteActivity

logger = logging.getLogger(__name__)


class ActivityBeacon:
    """`touch()` on interactive requests; `recently_active()` in background work.

    One per process (annotator.middleware.site_activity); several in one process behave as
    several hosts would, sharing only the database.
    """

    def __init__(
        self,
        *,
        window_seconds: float,
        write_interval_seconds: float = 1.0,
        read_cache_seconds: float = 0.5,
        using: str = DEFAULT_DB_ALIAS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_seconds = window_seconds
        self.write_interval_seconds = write_interval_seconds
        self.read_cache_seconds = read_cache_seconds
        self.using = using
        self._clock = clock
        # When this process last saw a person's request (its own clock; None: never).
        self.touched_at: float | None = None
        # Successful writes by this beacon's writer thread.
        self.writes = 0
        self._beat = threading.Event()
        self._stopping = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._failing = False
        self._answer: tuple[float, bool] | None = None

    # Writing: requests note a beat, the writer thread records it.

    def touch(self) -> None:
        """Record activity now: in memory only, so a request makes no query for it and never
        fails over it. The writer thread (started on first use) writes it soon after."""
        self.touched_at = self._clock()
        self._beat.set()
        writer = self._writer
        if writer is None or not writer.is_alive():
            self._start_writer()

    def _start_writer(self) -> None:
        with self._writer_lock:
            # A thread copied by fork() is not alive in the child: each process starts its own.
            if self._writer is not None and self._writer.is_alive():
                return
            self._stopping.clear()
            writer = threading.Thread(
                target=self._write_beats, name="site-activity-writer", daemon=True
            )
            try:
                writer.start()
            except RuntimeError:  # no thread to be had: this beat is dropped, the next retries
                return
            self._writer = writer

    def _write_beats(self) -> None:
        while not self._stopping.is_set():
            self._beat.wait()
            if self._stopping.is_set():
                return
            self._beat.clear()
            self.write()
            with contextlib.suppress(Exception):
                connections[self.using].close()  # hold no connection between beats
            # At most one write per interval; beats meanwhile are written together after it.
            self._stopping.wait(self.write_interval_seconds)

    def write(self) -> bool:
        """Set `last_seen` to the database's now (never backwards); whether it was written.

        Runs on the calling thread's connection (the writer thread's own, which it closes
        after each write). Never raises: the beat is dropped instead.
        """
        try:
            rows = SiteActivity.objects.using(self.using)
            updated = rows.filter(pk=SiteActivity.SINGLETON_ID).update(
                last_seen=Greatest(F("last_seen"), Now())
            )
            if not updated:
                # First beat of this database (or the row was deleted): insert it; a host that
                # raced us to it has just written the same "now".
                rows.bulk_create(
                    [SiteActivity(id=SiteActivity.SINGLETON_ID, last_seen=Now())],
                    ignore_conflicts=True,
                )
        except Exception:  # noqa: BLE001 - bookkeeping must never break what it records
            if not self._failing:
                logger.warning("Could not record site activity; dropping beats", exc_info=True)
            self._failing = True
            return False
        if self._failing:
            logger.info("Recording site activity again")
        self._failing = False
        self.writes += 1
        return True

    def stop(self) -> None:
        """Stop the writer thread; a beat not yet written is dropped. Touching starts it again."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
            self._stopping.set()
            self._beat.set()
        if writer is not None:
            writer.join(timeout=30)
        self._beat.clear()

    # Reading: background work asks, on its own connection.

    def last_seen(self) -> datetime | None:
        """When a person last used the site, on any host (None: never recorded)."""
        return (
            SiteActivity.objects.using(self.using)
            .filter(pk=SiteActivity.SINGLETON_ID)
            .values_list("last_seen", flat=True)
            .first()
        )

    def recently_active(self) -> bool:
        """Whether a person used the site within the window, by the database's clock; asks the
        database at most once per `read_cache_seconds`."""
        now = self._clock()
        answer = self._answer
        if answer is not None and now - answer[0] < self.read_cache_seconds:
            return answer[1]
        window = Value(timedelta(seconds=self.window_seconds))
        active = (
            SiteActivity.objects.using(self.using)
            .filter(pk=SiteActivity.SINGLETON_ID, last_seen__gte=Now() - window)
            .exists()
        )
        self._answer = (now, active)
        return active
