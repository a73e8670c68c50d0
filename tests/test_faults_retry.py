"""Fault matrix, overload: 429 storms with `Retry-After` in seconds and as an HTTP date, and
503 bursts, against the emulator on 127.0.0.1.

Each cell asserts the exact exception class (or success), how many requests the server saw,
that waits follow the server's hint without overrunning the call's deadline, and
(``no_leaks``) that no connection stayed acquired and no task was left behind.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import dosai_async as d
from dosai_async import AsyncDosAI, RetryPolicy
from dosai_async.testing import DosAIEmulator, Fault
from tests._rawserver import (
    MESSAGES,
    Conn,
    RawServer,
    elapsed_under,
    expect,
    no_leaks,
    response,
    stream_final,
)

KEY = "dos_sk_fault_matrix_0123456789"
FAST = RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=0.02)


def client(base_url: str, retry: RetryPolicy = FAST) -> AsyncDosAI:
    """A client with short backoff, so only the server's hints make it wait long."""
    return AsyncDosAI(api_key=KEY, base_url=base_url, retry=retry)


def http_date(seconds_from_now: float) -> str:
    """An HTTP date (whole seconds, GMT) the given number of seconds away."""
    return formatdate(time.time() + seconds_from_now, usegmt=True)


# -- 429 storms ------------------------------------------------------------------------------


async def test_429_storm_retry_after_seconds_is_waited(thread_emu: DosAIEmulator) -> None:
    """Three 429s with `Retry-After: 0.1`: the client waits each out, then succeeds."""
    thread_emu.enqueue(Fault.status(429, retry_after=0.1), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        started = time.monotonic()
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].finish_reason == "stop"
    assert time.monotonic() - started >= 0.3
    assert len(thread_emu.requests) == 4


async def test_429_retry_after_seconds_beyond_the_deadline(thread_emu: DosAIEmulator) -> None:
    """`Retry-After: 5` with 0.5 s left: the wait is not started; RateLimitError at once."""
    thread_emu.enqueue(Fault.status(429, retry_after=5), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.3):
            error = await expect(
                d.RateLimitError, c.chat.completions.create(messages=MESSAGES, timeout=0.5)
            )
    assert error.retry_after == 5.0
    assert len(thread_emu.requests) == 1


async def test_429_retry_after_http_date_is_waited(thread_emu: DosAIEmulator) -> None:
    """`Retry-After` as an HTTP date: the client sleeps until then (at most 1 s here)."""
    until = float(int(time.time()) + 1)  # HTTP dates have whole seconds
    thread_emu.enqueue(Fault.status(429, retry_after=formatdate(until, usegmt=True)))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].finish_reason == "stop"
    assert time.time() >= until - 0.05
    assert len(thread_emu.requests) == 2


async def test_429_retry_after_http_date_in_the_past(thread_emu: DosAIEmulator) -> None:
    """An HTTP date already past means no wait: retried at once, then success."""
    thread_emu.enqueue(Fault.status(429, retry_after=http_date(-30)), times=2)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.5):
            await c.chat.completions.create(messages=MESSAGES)
    assert len(thread_emu.requests) == 3


async def test_429_retry_after_http_date_beyond_the_deadline(thread_emu: DosAIEmulator) -> None:
    """An HTTP date past the call's deadline: RateLimitError at once, hint attached."""
    thread_emu.enqueue(Fault.status(429, retry_after=http_date(5)), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.3):
            error = await expect(
                d.RateLimitError, c.chat.completions.create(messages=MESSAGES, timeout=0.5)
            )
    assert error.retry_after is not None
    assert 3.0 <= error.retry_after <= 5.0


async def test_429_storm_across_concurrent_calls(thread_emu: DosAIEmulator) -> None:
    """50 concurrent calls through 150 queued 429s (`Retry-After: 0.05`) all succeed."""
    thread_emu.enqueue(Fault.status(429, retry_after=0.05), times=150)
    retry = RetryPolicy(max_retries=6, initial_backoff=0.01)
    async with client(thread_emu.base_url, retry) as c, no_leaks(c):
        with elapsed_under(10.0):
            results = await asyncio.gather(
                *(c.chat.completions.create(messages=MESSAGES) for _ in range(50))
            )
    assert all(r.choices[0].finish_reason == "stop" for r in results)
    assert thread_emu.stats.statuses == {429: 150, 200: 50}


async def test_429_storm_on_a_stream(thread_emu: DosAIEmulator) -> None:
    """A stream request through 429s is retried before any content, then streams once."""
    thread_emu.enqueue(Fault.status(429, retry_after=0.05), times=2)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        final = await stream_final(c)
    assert final.choices[0].finish_reason == "stop"
    assert len(thread_emu.requests) == 3


async def test_429_storm_outlasting_the_retries(thread_emu: DosAIEmulator) -> None:
    """A storm longer than max_retries: RateLimitError after max_retries + 1 attempts."""
    thread_emu.enqueue(Fault.status(429, retry_after=0), times=10)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        await expect(d.RateLimitError, c.chat.completions.create(messages=MESSAGES))
    assert len(thread_emu.requests) == FAST.max_retries + 1


# -- 503 bursts ------------------------------------------------------------------------------


async def test_503_burst_recovers(thread_emu: DosAIEmulator) -> None:
    """Two 503s without a hint: exponential backoff, then success."""
    thread_emu.enqueue(Fault.status(503), times=2)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].finish_reason == "stop"
    assert len(thread_emu.requests) == 3


async def test_503_burst_outlasting_the_retries(thread_emu: DosAIEmulator) -> None:
    """A burst longer than max_retries: ServiceUnavailableError with the server's message."""
    thread_emu.enqueue(Fault.status(503), times=10)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(
            d.ServiceUnavailableError, c.chat.completions.create(messages=MESSAGES)
        )
    assert "overloaded" in str(error)
    assert len(thread_emu.requests) == FAST.max_retries + 1


async def test_503_burst_on_a_stream(thread_emu: DosAIEmulator) -> None:
    """A 503 burst before a stream's headers is retried; the stream then succeeds."""
    thread_emu.enqueue(Fault.status(503), times=2)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        final = await stream_final(c)
    assert final.choices[0].finish_reason == "stop"


async def test_503_burst_bounded_by_the_deadline(thread_emu: DosAIEmulator) -> None:
    """Backoff waits never run past the total deadline: the last error comes in time."""
    thread_emu.enqueue(Fault.status(503), times=50)
    slow = RetryPolicy(max_retries=20, initial_backoff=0.2, multiplier=2.0, jitter=False)
    async with client(thread_emu.base_url, slow) as c, no_leaks(c):
        with elapsed_under(0.8):
            await expect(
                d.ServiceUnavailableError,
                c.chat.completions.create(messages=MESSAGES, timeout=0.8),
            )
    assert len(thread_emu.requests) == 3  # waits of 0.2 and 0.4; the next 0.8 would overrun


async def test_a_retried_stream_open_waits_only_for_what_is_left_of_the_call() -> None:
    """The second open of a stream gets ``min(first_token, what total has left)``, not a
    fresh ``first_token``: a 503 after 1.2 s of a 2 s call leaves the retry 0.8 s, so the
    call ends near 2 s (a fresh 1.6 s first_token would end it near 2.8 s)."""
    opened = 0

    async def handler(conn: Conn) -> None:
        nonlocal opened
        while await conn.request() is not None:
            opened += 1
            if opened == 1:
                await asyncio.sleep(1.2)
                await conn.send(response(503, b'{"error":{"message":"busy"}}'))
            else:
                await asyncio.sleep(30)  # stalls before its headers

    timeout = d.Timeout(total=2.0, first_token=1.6)
    with RawServer(handler) as server:
        async with client(server.base_url, RetryPolicy.zero_wait()) as c, no_leaks(c):
            with elapsed_under(2.5):
                error = await expect(
                    d.APITimeoutError,
                    c.chat.completions.create(messages=MESSAGES, stream=True, timeout=timeout),
                )
    assert error.deadline == "total"
    assert opened == 2
