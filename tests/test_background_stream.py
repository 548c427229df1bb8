"""Exports stream from a niced thread of their own, with the same bytes as inline streaming."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from annotator.background_stream import at_low_priority


def slow_pieces(count: int) -> Iterator[bytes]:
    for number in range(count):
        time.sleep(0.03)  # stands in for reading and encoding a chunk
        yield f"{number}\n".encode()


def own_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_pieces_come_from_another_thread_with_a_higher_nice_value() -> None:
    seen: list[tuple[int, int]] = []

    def pieces() -> Iterator[bytes]:
        for number in range(3):
            seen.append((threading.get_native_id(), own_priority()))
            yield f"{number}\n".encode()

    body = b"".join(at_low_priority(pieces(), niceness=5))

    assert body == b"0\n1\n2\n"
    producer_ids = {thread_id for thread_id, _ in seen}
    assert producer_ids and threading.get_native_id() not in producer_ids
    assert {priority for _, priority in seen} == {min(own_priority() + 5, 19)}
    # The request thread itself keeps its priority.
    assert own_priority() < min(own_priority() + 5, 19)


def test_niceness_zero_and_full_duty_cycle_stream_inline() -> None:
    threads: set[int] = set()

    def pieces() -> Iterator[bytes]:
        threads.add(threading.get_native_id())
        yield b"x"

    assert b"".join(at_low_priority(pieces(), niceness=0, duty_cycle=1.0)) == b"x"
    assert threads == {threading.get_native_id()}


def test_an_error_while_producing_reaches_the_reader() -> None:
    def pieces() -> Iterator[bytes]:
        yield b"first"
        raise RuntimeError("export broke")

    stream = at_low_priority(pieces(), niceness=3)
    assert next(stream) == b"first"
    with pytest.raises(RuntimeError, match="export broke"):
        next(stream)


def test_a_reader_that_goes_away_stops_the_producer() -> None:
    produced: list[int] = []

    def endless() -> Iterator[bytes]:
        number = 0
        while True:
            produced.append(number)
            number += 1
            yield b"."

    stream = at_low_priority(endless(), niceness=3)
    next(stream)
    stream.close()  # what StreamingHttpResponse does when the client disconnects
    time.sleep(1.5)
    count = len(produced)
    time.sleep(0.5)
    assert len(produced) == count
    assert not [t for t in threading.enumerate() if t.name == "low-priority-stream"]


def test_duty_cycle_rests_after_each_piece_in_proportion_to_its_work(monkeypatch) -> None:
    from annotator import background_stream
    from annotator.throttling import DutyCycle

    rests: list[float] = []
    monkeypatch.setattr(
        background_stream,
        "DutyCycle",
        lambda fraction, busy: DutyCycle(fraction, sleep=rests.append, busy=busy),
    )

    body = b"".join(at_low_priority(slow_pieces(4), niceness=0, duty_cycle=0.25))

    assert body == b"0\n1\n2\n3\n"
    # Each piece took at least 30 ms of work; at 25 % the producer rests three times as long.
    assert len(rests) == 4
    assert all(rest >= 0.09 for rest in rests)


def test_a_paced_stream_is_produced_in_its_own_thread_even_without_niceness() -> None:
    # Resting in the request thread would hold the response back; the producer rests instead.
    threads: set[int] = set()

    def pieces() -> Iterator[bytes]:
        threads.add(threading.get_native_id())
        yield b"x"

    assert b"".join(at_low_priority(pieces(), niceness=0, duty_cycle=0.5)) == b"x"
    assert threads and threading.get_native_id() not in threads


def test_with_nobody_using_the_site_the_export_does_not_rest(monkeypatch) -> None:
    from annotator import background_stream
    from annotator.throttling import DutyCycle

    rests: list[float] = []
    monkeypatch.setattr(
        background_stream,
        "DutyCycle",
        lambda fraction, busy: DutyCycle(fraction, sleep=rests.append, busy=busy),
    )

    body = b"".join(
        at_low_priority(slow_pieces(3), niceness=0, duty_cycle=0.25, busy=lambda: False)
    )
    assert body == b"0\n1\n2\n"
    assert rests == []
