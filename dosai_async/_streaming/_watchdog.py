"""A moving read deadline enforced by one lazily re-armed timer.

Why: a stream has deadlines that move (``idle`` restarts with every data event) and reads
that are many and short. One ``asyncio.timeout`` per read costs a timer handle, a heap push
and a cancellation per chunk, and with 1,000 concurrent streams those dominate the CPU.

Plan: one ``call_later`` handle. When it fires it asks ``limit()`` how much time is really
left: if the deadline moved (data arrived meanwhile), it re-arms for the rest and costs
nothing more; if the deadline has passed while a read is waiting, it cancels that read
the way ``asyncio.timeout`` does (task cancel, then ``uncancel`` to tell our cancel from
anyone else's) and the read raises ``APITimeoutError`` naming the deadline.

A deadline that passes while nobody is reading (the consumer was busy) does not fail the
stream by itself: like a per-read timeout, the next read fails only if it has to wait.
That rare read runs under a plain ``asyncio.timeout``.

One timer per stream, from the request on: the requester makes the watchdog before it sends
the request and waits for the headers under it (``wait``), bounded by ``until_first_token``
(what the stream's own limit is before its first content); the stream then takes the same
watchdog over (``follow``) instead of arming a timer of its own.

The timer holds the watchdog only through a weak reference: a stream dropped without
``close()`` must be collectable (its finalizer then closes the connection), and a pending
timer is a root the garbage collector cannot see past.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from dosai_async._core._deadline import Deadline
from dosai_async._core._exceptions import APITimeoutError

T = TypeVar("T")

#: Seconds left until the nearest deadline (``None``: no deadline), and its name.
Limit = Callable[[], tuple[float | None, str]]


class ReadWatchdog:
    """Bounds reads of one body by ``limit()``; see the module docstring."""

    __slots__ = (
        "__weakref__",
        "_expired",
        "_limit",
        "_loop",
        "_overdue",
        "_reader",
        "_self",
        "_soonest",
        "_timer",
    )

    def __init__(self, limit: Limit, soonest: float | None = None) -> None:
        self._limit = limit
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._reader: asyncio.Task[object] | None = None
        self._expired: str | None = None
        self._overdue = False
        self._self = weakref.ref(self)  # what the timer holds: made once, not per arm
        # The timer never sleeps longer than this: a caller whose deadline can move earlier
        # by no more than ``soonest`` seconds from its last wake never has to call ``arm``.
        self._soonest = soonest
        self.arm()

    def arm(self) -> None:
        """Re-read the deadline now; call it when the deadline may have moved earlier."""
        self.cancel()
        self._sleep(self._limit()[0])

    def _sleep(self, left: float | None) -> None:
        soonest = self._soonest
        if soonest is not None and (left is None or soonest < left):
            left = soonest
        if left is not None:
            self._timer = self._loop.call_later(left, _fire, self._self)

    def follow(self, limit: Limit) -> None:
        """Bound later waits by ``limit`` instead: a stream taking over the watchdog its
        request was sent under. ``limit`` must not end sooner than the one it replaces
        (else ``arm``): the timer already sleeps until that one, and re-arms no sooner."""
        self._limit = limit

    def cancel(self) -> None:
        """Stop watching (the body is closed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def read(self, body: AsyncIterator[bytes]) -> bytes | None:
        """The next piece of ``body`` (``None`` at its end), within the deadline."""
        if self._overdue:
            return await self._read_overdue(body)
        reader = self._reader = asyncio.current_task()
        try:
            return await anext(body, None)
        except asyncio.CancelledError:
            self._raise_if_ours(reader)
            raise  # somebody else cancelled this task too: theirs wins
        finally:
            self._reader = None

    async def wait(self, pending: Awaitable[T]) -> T:
        """``pending`` (a stream's request, up to its headers) within the deadline."""
        if self._overdue:  # never so for a watchdog made just before: no timer ran yet
            raise _timeout(self._limit()[1])
        reader = self._reader = asyncio.current_task()
        try:
            return await pending
        except asyncio.CancelledError:
            self._raise_if_ours(reader)
            raise  # somebody else cancelled this task too: theirs wins
        finally:
            self._reader = None

    def _raise_if_ours(self, reader: asyncio.Task[Any] | None) -> None:
        """In a cancelled read or wait: the deadline's error if only this timer cancelled it."""
        if self._expired is not None and reader is not None and reader.uncancel() == 0:
            raise _timeout(self._expired) from None

    def _on_timer(self) -> None:
        self._timer = None
        left, name = self._limit()
        if left is None or left > 0:  # the deadline moved while we slept: sleep the rest
            self._sleep(left)
        elif self._reader is not None:  # suspended in read(): the cancel lands there
            self._expired = name
            self._reader.cancel()
        else:
            self._overdue = True

    async def _read_overdue(self, body: AsyncIterator[bytes]) -> bytes | None:
        self._overdue = False
        left, name = self._limit()
        try:
            async with asyncio.timeout(left):
                data = await anext(body, None)
        except TimeoutError:
            raise _timeout(name) from None
        self.arm()
        return data


def take_over(handed: ReadWatchdog | None, limit: Limit, soonest: float | None) -> ReadWatchdog:
    """A stream's watchdog: the one its headers were awaited under (``handed``, from the
    requester: one timer for both), now following ``limit``; else a new one."""
    if handed is None:
        return ReadWatchdog(limit, soonest)
    handed.follow(limit)
    return handed


def until_first_token(first_token: float | None, deadline: Deadline, sent_at: float) -> Limit:
    """A stream's limit until its first content: ``first_token`` from ``sent_at`` (the
    attempt's start, headers included), or what is left of ``deadline`` when that is sooner;
    the same as the stream's own limit before its first content."""

    def limit() -> tuple[float | None, str]:
        left = None if first_token is None else sent_at + first_token - time.monotonic()
        return sooner_of(left, "first_token", deadline)

    return limit


def sooner_of(left: float | None, name: str, deadline: Deadline) -> tuple[float | None, str]:
    """The nearer of ``left`` seconds (the deadline called ``name``; ``None``: none) and what
    is left of the call's ``deadline`` ("total"): the one rule of every stream limit."""
    total = deadline.remaining()
    if total is not None and (left is None or total <= left):
        return total, "total"
    return (None, name) if left is None else (max(left, 0.0), name)


def _fire(ref: weakref.ref[ReadWatchdog]) -> None:
    """The timer's callback: wake the watchdog if it still exists."""
    watchdog = ref()
    if watchdog is not None:
        watchdog._on_timer()


def _timeout(name: str) -> APITimeoutError:
    return APITimeoutError(f"The stream's {name} deadline elapsed.", deadline=name)


def release_connection(
    loop: asyncio.AbstractEventLoop, watchdog: ReadWatchdog, close: Callable[[], None]
) -> None:
    """Stop the deadline timer and close the connection, on the stream's own loop.

    Runs once per stream: from ``_release`` on the loop, or as the finalizer of a stream
    collected unclosed, which the garbage collector may do in another thread (then the loop
    does it) or after the loop closed (then nothing can be closed any more).
    """
    try:
        here = asyncio.get_running_loop() is loop
    except RuntimeError:  # no loop runs in this thread
        here = False
    if here:
        watchdog.cancel()
        close()
    elif not loop.is_closed():
        loop.call_soon_threadsafe(release_connection, loop, watchdog, close)
