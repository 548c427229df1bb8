"""Run a long, CPU-heavy response body (a dataset export) at a lower CPU priority.

An export keeps one core busy for as long as it streams; on a small server that core is one the
annotators' label saves need. Here the body is produced in a thread of its own whose Linux nice
value is raised, so the kernel gives it only the time the interactive requests leave over; the
request thread just forwards the finished pieces. The thread is new for each response and ends
with it, so the lowered priority never leaks into later requests (raising it back would need
privileges). Niceness does not reach the PostgreSQL backend that serves the export's reads, so
the producer also keeps a duty cycle (annotator/throttling.py): it rests after each piece in
proportion to the time that piece took. A bounded queue keeps memory flat when the client reads
slowly.
"""

from __future__ import annotations

import contextlib
import enum
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from django.db import connections

from annotator.db_timeouts import use_background_timeouts
from annotator.throttling import DutyCycle

# How many finished pieces may wait for a slow client before the producer pauses.
QUEUE_PIECES = 8


class _End(enum.Enum):
    """The end-of-stream marker: an enum member, so the type checker tells it from a piece."""

    DONE = enum.auto()


_DONE: Final = _End.DONE


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _lower_own_priority(niceness: int) -> None:
    # On Linux a thread is its own schedulable task: PRIO_PROCESS with the thread id renices
    # this thread only. Elsewhere this is a no-op and the export simply runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        thread_id = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, min(current + niceness, 19))


def at_low_priority(
    pieces: Iterable[bytes],
    *,
    niceness: int,
    duty_cycle: float = 1.0,
    busy: Callable[[], bool] | None = None,
) -> Iterator[bytes]:
    """`pieces`, produced in a thread `niceness` steps nicer (at most 19); 0 produces inline.

    With `duty_cycle` below 1 the producer spends at most that share of wall-clock time
    producing (database time included) and rests the remainder; the client's reading time is
    not counted as work. With `busy`, it rests only while `busy()` is true (people are using
    the site); otherwise it runs at full speed.

    The producer opens its own database connection (Django's are per thread), so what it
    reads is what is committed, and it closes that connection when it ends. That connection
    runs with the background timeouts (annotator/db_timeouts.py).
    """
    if niceness <= 0 and duty_cycle >= 1:
        yield from pieces
        return

    handoff: queue.Queue[bytes | _Failure | _End] = queue.Queue(maxsize=QUEUE_PIECES)
    stopped = threading.Event()

    def hand_over(item: bytes | _Failure | _End) -> bool:
        while not stopped.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        _lower_own_priority(niceness)
        # Long work: the background database timeouts, not the web request's short ones.
        use_background_timeouts()
        duty = DutyCycle(duty_cycle, busy=busy)
        try:
            for piece in pieces:
                duty.tick()
                if not hand_over(piece):
                    return
                duty.resume()
        except BaseException as error:  # handed to the request thread, which re-raises it
            hand_over(_Failure(error))
            return
        finally:
            connections.close_all()
        hand_over(_DONE)

    producer = threading.Thread(target=produce, name="low-priority-stream", daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        # The client went away or the body is complete: let the producer stop and clean up.
        stopped.set()
