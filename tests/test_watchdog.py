"""The stream read deadline: one lazily re-armed timer instead of one per read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

import dosai_async as d
from dosai_async._streaming._watchdog import ReadWatchdog


class Deadline:
    """A moving deadline: ``seconds`` after the last ``touch()``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()

    def __call__(self) -> tuple[float | None, str]:
        return max(self.last + self.seconds - time.monotonic(), 0.0), "idle"


async def paced(gap: float, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        await asyncio.sleep(gap)
        yield b"x"


async def test_reads_that_keep_coming_never_time_out() -> None:
    """Data every 50 ms under a 150 ms moving deadline: all of it arrives."""
    deadline = Deadline(0.15)
    watchdog = ReadWatchdog(deadline)
    body = paced(0.05, 12)
    received = 0
    while await watchdog.read(body) is not None:
        deadline.touch()
        received += 1
    watchdog.cancel()
    assert received == 12


async def test_a_stalled_read_times_out_with_the_deadline_name() -> None:
    """A read that waits past the deadline raises APITimeoutError naming it."""
    watchdog = ReadWatchdog(Deadline(0.1))
    started = time.monotonic()
    with pytest.raises(d.APITimeoutError) as info:
        await watchdog.read(paced(5, 1))
    assert info.value.deadline == "idle"
    assert time.monotonic() - started < 3  # not the 5 s stall


async def test_deadline_passed_while_busy_fails_only_a_read_that_waits() -> None:
    """After the deadline passed with nobody reading, buffered data still comes; a wait fails."""
    deadline = Deadline(0.05)
    watchdog = ReadWatchdog(deadline)

    async def buffered_then_stalled() -> AsyncIterator[bytes]:
        yield b"ready"  # no await before it: like data already in the socket buffer
        await asyncio.sleep(5)
        yield b"late"

    body = buffered_then_stalled()
    await asyncio.sleep(0.1)  # the consumer is busy; the deadline passes meanwhile
    assert await watchdog.read(body) == b"ready"
    with pytest.raises(d.APITimeoutError):
        await watchdog.read(body)
    await body.aclose()


async def test_an_outside_cancel_is_not_turned_into_a_timeout() -> None:
    """Cancelling the reading task raises CancelledError, not APITimeoutError."""
    watchdog = ReadWatchdog(Deadline(10))
    task = asyncio.create_task(watchdog.read(paced(5, 1)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    watchdog.cancel()


async def test_no_deadline_arms_no_timer() -> None:
    """With no deadline at all, reads are plain and nothing is scheduled."""
    watchdog = ReadWatchdog(lambda: (None, "total"))
    assert watchdog._timer is None
    assert await watchdog.read(paced(0, 1)) == b"x"
