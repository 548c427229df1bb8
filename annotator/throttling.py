"""Pace long background work (imports, exports) so it leaves CPU for interactive requests.

Lowering a thread's nice value only helps with the CPU that thread uses itself; the PostgreSQL
backend that serves its COPY or its reads runs at normal priority and competes with the
annotators' requests for the same cores. A duty cycle bounds both: after each stretch of work
the caller rests for as long as the work took, scaled so that work takes at most `fraction` of
wall-clock time. It is the same idea as PostgreSQL's cost-based vacuum delay, in wall-clock
terms, so the time spent waiting on the database counts as work too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Rest in one go once this much work has piled up: short enough that a request arriving
# meanwhile waits at most this long behind the background work, long enough that the sleeps
# are not dominated by timer slack.
DEFAULT_SLICE_SECONDS = 0.02


def parse_fraction(raw: str) -> float:
    """A duty cycle from text (a setting, a command option): a number above 0, at most 1."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"not a number: {raw!r}") from None
    if not 0 < value <= 1:
        raise ValueError(f"must be above 0 and at most 1, got {raw}")
    return value


class DutyCycle:
    """Call `tick()` after each small unit of work; it rests so work stays within `fraction`.

    `fraction` 1 never rests. 0.25 means: for every 20 ms of work, rest 60 ms. Time between
    `tick()` calls counts as work unless the caller was waiting on something else (a slow
    client, say): then it calls `resume()` when it starts working again. With `busy`, rests
    are taken only while `busy()` says someone needs the CPU; otherwise work runs on.
    """

    def __init__(
        self,
        fraction: float,
        *,
        slice_seconds: float = DEFAULT_SLICE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        busy: Callable[[], bool] | None = None,
    ) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"duty cycle must be in (0, 1], got {fraction!r}")
        self.fraction = fraction
        self.slice_seconds = slice_seconds
        self._clock = clock
        self._sleep = sleep
        self.busy = busy
        self._since = clock()
        self._unrested = 0.0
        self.worked = 0.0
        self.rested = 0.0

    def tick(self) -> None:
        now = self._clock()
        work = now - self._since
        self._since = now
        self.worked += work
        if self.fraction >= 1:
            return
        self._unrested += work
        if self._unrested < self.slice_seconds:
            return
        if self.busy is not None and not self.busy():
            self._unrested = 0.0
            return
        rest = self._unrested * (1 - self.fraction) / self.fraction
        self._unrested = 0.0
        self._sleep(rest)
        self.rested += rest
        self._since = self._clock()

    def resume(self) -> None:
        """Start counting work again from now (what came since the last tick was waiting)."""
        self._since = self._clock()
