"""What opening a stream arms and registers: one timer for its headers and its body (the
watchdog made before the request), and one entry in the transport's set of open responses,
gone once the stream is closed, finished or collected.

The timers are counted on the test's own loop (``call_at`` is where ``call_later`` and
``asyncio.timeout`` end up); the servers run on their own threads, so every timer counted is
the client's. The deadlines themselves are held by the fault matrix
(``test_faults_connection.py``); these tests add what one shared timer changes.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import dosai_async as d
from dosai_async import Timeout
from dosai_async.testing import DosAIEmulator, Fault
from tests._rawserver import (
    MESSAGES,
    Conn,
    RawServer,
    client,
    elapsed_under,
    expect,
    no_leaks,
    stream_final,
)

STALL = 30.0  # longer than any test: the servers' close() ends the stall


@contextmanager
def counted_timers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The delays of the timers this loop schedules inside the block."""
    loop = asyncio.get_running_loop()
    delays: list[float] = []
    call_at = loop.call_at

    def counting(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        delays.append(when - loop.time())
        return call_at(when, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(loop, "call_at", counting)
        yield delays


async def first_chunk_timers(c: d.AsyncDosAI, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The timers scheduled from ``create(stream=True)`` to its first chunk, pool warm."""
    await stream_final(c)  # the connection is pooled: no connect in the window measured
    with counted_timers(monkeypatch) as delays:
        stream = await c.chat.completions.create(messages=MESSAGES, stream=True)
        first = await anext(stream)
    await stream.close()
    assert first.choices
    return delays


async def test_a_stream_runs_on_one_timer(
    thread_emu: DosAIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default deadlines: one timer from the call to the first chunk, not one for the
    headers and another for the body; it sleeps until first_token (120 s) or idle (60 s)."""
    async with client(thread_emu.base_url) as c, no_leaks(c):
        delays = await first_chunk_timers(c, monkeypatch)
    assert len(delays) == 1, delays
    assert 59 < delays[0] <= 60  # woken at idle at the latest (see ReadWatchdog)


async def test_a_stream_without_deadlines_arms_no_timer(
    thread_emu: DosAIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No first_token, idle nor total: nothing to watch, so nothing is scheduled."""
    off = Timeout(total=None, first_token=None, idle=None)
    async with client(thread_emu.base_url, timeout=off) as c, no_leaks(c):
        delays = await first_chunk_timers(c, monkeypatch)
    assert delays == []


async def test_headers_stall_under_total_names_total(thread_emu: DosAIEmulator) -> None:
    """No headers and a total sooner than first_token: APITimeoutError(total), not retried."""
    thread_emu.enqueue(Fault.stall_before_headers(STALL), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.3 + 0.4):
            error = await expect(d.APITimeoutError, stream_final(c, timeout=0.3))
    assert error.deadline == "total"
    assert len(thread_emu.requests) == 1


async def test_headers_stall_then_a_retry_succeeds(thread_emu: DosAIEmulator) -> None:
    """An attempt whose headers never come times out at first_token and is retried; the
    retry gets a timer of its own and the stream completes."""
    thread_emu.enqueue(Fault.stall_before_headers(STALL))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.3 + 1.0):
            final = await stream_final(c, timeout=Timeout(first_token=0.3))
    assert final.choices[0].finish_reason == "stop"
    assert len(thread_emu.requests) == 2


async def test_an_error_body_that_stalls_is_bounded_too() -> None:
    """A 503 whose body never comes: the error body is read under the stream's deadline
    (it was unbounded when only the headers had a timer): APITimeoutError(first_token)."""

    async def stalled_error(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"HTTP/1.1 503 X\r\nContent-Type: application/json\r\n")
        await conn.send(b"Content-Length: 100\r\n\r\n{")
        await asyncio.sleep(STALL)

    with RawServer(stalled_error) as server:
        async with client(server.base_url, max_retries=0) as c, no_leaks(c):
            with elapsed_under(0.3 + 0.4):
                error = await expect(
                    d.APITimeoutError, stream_final(c, timeout=Timeout(first_token=0.3))
                )
    assert error.deadline == "first_token"


async def test_open_responses_are_forgotten_however_a_stream_ends(
    thread_emu: DosAIEmulator,
) -> None:
    """Read to the end, closed early, or dropped unclosed and collected: the transport
    holds no response of a stream that ended (it holds them strongly, to fail them on
    ``close()``), and the dropped stream's connection is closed, not leaked."""
    async with client(thread_emu.base_url) as c, no_leaks(c):
        live = c._transport._live
        await stream_final(c)
        assert not live
        early = await c.chat.completions.create(messages=MESSAGES, stream=True)
        assert len(live) == 1
        await early.close()
        assert not live
        dropped = await c.chat.completions.create(messages=MESSAGES, stream=True)
        assert len(live) == 1
        del dropped
        gc.collect()
        assert not live
