"""Whether people are using the site right now, shared by every process on the machine.

Background work (an export stream, an import) should give way to annotators while they are
working, and run at full speed when nobody is. The web processes record each request from a
person (a page or htmx request; API clients are scripts, including the export's own) by
touching a file (its modification time is the signal: one metadata update at most
once a second per process, nothing to lock or clean up); background work reads that time.
Processes on one machine share the CPU that matters here, and they share the file too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


class ActivityBeacon:
    """`touch()` on interactive requests; `recently_active()` in background work."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        window_seconds: float,
        touch_interval_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.window_seconds = window_seconds
        self.touch_interval_seconds = touch_interval_seconds
        self._clock = clock
        self._last_touch = float("-inf")

    def touch(self) -> None:
        """Record activity now. Never raises: a request must not fail over its bookkeeping."""
        now = self._clock()
        if now - self._last_touch < self.touch_interval_seconds:
            return
        self._last_touch = now
        try:
            # No symlinks followed: the file may sit in a shared temporary directory.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                os.utime(descriptor, (now, now))
            finally:
                os.close(descriptor)
        except OSError:
            # Unwritable location: background work then simply never rests for activity.
            pass

    def last_activity(self) -> float | None:
        try:
            return self.path.stat(follow_symlinks=False).st_mtime
        except OSError:
            return None

    def recently_active(self) -> bool:
        last = self.last_activity()
        return last is not None and self._clock() - last <= self.window_seconds
