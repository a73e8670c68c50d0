"""Cancellation without leaks, and a client closed while calls are in flight.

Streams are cancelled before their headers, mid-stream, while waiting to retry, and at
random moments. Afterwards no connection may stay acquired, the process may hold no socket
to the server beyond the idle pool, no task may be left on the loop, the server must have
seen every abandoned stream go away, and collecting garbage must raise no ResourceWarning.
The emulator runs on its own thread, so this loop holds only the client's tasks.
"""

from __future__ import annotations

import asyncio
import gc
import random
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

import dosai_async as d
from dosai_async import AsyncDosAI, RetryPolicy
from dosai_async.testing import DosAIEmulator
from tests._rawserver import (
    MESSAGES,
    client_sockets,
    elapsed_under,
    no_leaks,
    pool,
    settle,
    stream_final,
)

KEY = "dos_sk_cancellation_0123456789"
FAULT = "X-Emulator-Fault"
STALL_HEADERS = {FAULT: "stall-before-headers=30"}
STALL_BODY = {FAULT: "stall-mid-stream=30; after=1"}
STALL_STREAM = {FAULT: "stall-mid-stream=30; after=3"}
RATE_LIMITED = {FAULT: "status=429; retry-after=30"}


@pytest.fixture
def emu() -> Iterator[DosAIEmulator]:
    """An emulator on its own thread, pacing tokens 2 ms apart (a stream takes ~50 ms)."""
    with DosAIEmulator(token_interval=0.002).in_thread() as emulator:
        yield emulator


def client(emu: DosAIEmulator) -> AsyncDosAI:
    """A client with the default retry policy (429 waits follow `Retry-After`)."""
    return AsyncDosAI(api_key=KEY, base_url=emu.base_url, retry=RetryPolicy(max_retries=2))


def resource_warnings() -> list[str]:
    """ResourceWarnings raised while collecting garbage now."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


async def outcome(task: asyncio.Task[Any]) -> str:
    """What a finished task ended with: "done", "cancelled" or the exception's class."""
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    except Exception as exc:
        return type(exc).__name__
    return "done"


async def read_chunks(client: AsyncDosAI, count: int, reached: asyncio.Event) -> None:
    """Stream, set ``reached`` once ``count`` chunks were read, then hold the open stream
    until cancelled. Reading on instead would race the cancel: on a busy loop the rest of a
    short stream is often already buffered and the task finishes before the cancel lands."""
    stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
    async with stream:
        seen = 0
        async for _ in stream:
            seen += 1
            if seen == count:
                reached.set()
                await asyncio.Event().wait()


# -- the bulk run -------------------------------------------------------------------------------


async def cancel_parked(
    client: AsyncDosAI, emu: DosAIEmulator, headers: dict[str, str], count: int
) -> list[str]:
    """Start ``count`` streams the server parks (stalled, or 429 then a retry wait), wait
    until every one is parked, then cancel them all."""
    seen = emu.stats.total
    tasks = [asyncio.create_task(stream_final(client, extra_headers=headers)) for _ in range(count)]
    assert await settle(lambda: emu.stats.total >= seen + count, 10.0)
    if headers is RATE_LIMITED:  # the 429s were read: every call now sleeps before a retry
        assert await settle(lambda: pool(client).acquired == 0, 10.0)
    for task in tasks:
        task.cancel()
    return [await outcome(task) for task in tasks]


async def cancel_mid_stream(client: AsyncDosAI, rng: random.Random, count: int) -> list[str]:
    """Cancel ``count`` streams, each after a random number (1-15) of chunks."""
    limit = asyncio.Semaphore(100)

    async def one() -> str:
        async with limit:
            reached = asyncio.Event()
            task = asyncio.create_task(read_chunks(client, rng.randint(1, 15), reached))
            async with asyncio.timeout(10):
                await reached.wait()
            task.cancel()
            return await outcome(task)

    return await asyncio.gather(*(one() for _ in range(count)))


async def cancel_at_random(client: AsyncDosAI, rng: random.Random, count: int) -> list[str]:
    """Cancel ``count`` streams at a random moment in their first 80 ms."""
    limit = asyncio.Semaphore(100)

    async def one() -> str:
        async with limit:
            task = asyncio.create_task(stream_final(client))
            await asyncio.sleep(rng.uniform(0, 0.08))
            task.cancel()
            return await outcome(task)

    return await asyncio.gather(*(one() for _ in range(count)))


async def test_two_thousand_cancellations_leave_nothing_behind(emu: DosAIEmulator) -> None:
    """2,000 streams cancelled at every stage: no connection, socket, task or warning left."""
    rng = random.Random(2024)
    async with client(emu) as c:
        async with no_leaks(c):
            before_headers = await cancel_parked(c, emu, STALL_HEADERS, 400)
            mid_stream = await cancel_mid_stream(c, rng, 800)
            retry_wait = await cancel_parked(c, emu, RATE_LIMITED, 400)
            anywhere = await cancel_at_random(c, rng, 400)
        assert set(before_headers) == set(mid_stream) == set(retry_wait) == {"cancelled"}
        assert set(anywhere) <= {"cancelled", "done"}
        # The server saw every abandoned stream go; only the 400 stalled handlers still sleep.
        assert await settle(lambda: emu.stats.in_flight == 400)
        assert client_sockets(emu.port) == pool(c).idle
    assert await settle(lambda: client_sockets(emu.port) == 0)
    assert resource_warnings() == []


# -- one cancellation per stage -------------------------------------------------------------------


async def test_cancel_before_headers_drops_the_connection(emu: DosAIEmulator) -> None:
    """A call cancelled while waiting for headers closes its socket at once."""
    async with client(emu) as c, no_leaks(c):
        task = asyncio.create_task(stream_final(c, extra_headers=STALL_HEADERS))
        assert await settle(lambda: emu.stats.total == 1)
        with elapsed_under(0.5):
            task.cancel()
            assert await outcome(task) == "cancelled"
        assert await settle(lambda: client_sockets(emu.port) == 0)


async def test_cancel_mid_stream_stops_the_server(emu: DosAIEmulator) -> None:
    """A stream cancelled mid-way drops its connection; the server stops generating."""
    async with client(emu) as c, no_leaks(c):
        reached = asyncio.Event()
        task = asyncio.create_task(read_chunks(c, 3, reached))
        await asyncio.wait_for(reached.wait(), 5)
        task.cancel()
        assert await outcome(task) == "cancelled"
        assert await settle(lambda: emu.stats.in_flight == 0)
        assert (pool(c), client_sockets(emu.port)) == ((0, 0), 0)


async def test_cancel_during_retry_wait_is_prompt(emu: DosAIEmulator) -> None:
    """A call sleeping 30 s before a retry is cancelled at once and sends nothing more."""
    async with client(emu) as c, no_leaks(c):
        task = asyncio.create_task(stream_final(c, extra_headers=RATE_LIMITED))
        assert await settle(lambda: emu.stats.total == 1 and pool(c).acquired == 0)
        with elapsed_under(0.5):
            task.cancel()
            assert await outcome(task) == "cancelled"
    assert emu.stats.total == 1


# -- closing the client with calls in flight ---------------------------------------------

Call = Callable[[AsyncDosAI], Coroutine[Any, Any, object]]
# Each call, and how many connections it holds once the server has parked it.
IN_FLIGHT: dict[str, tuple[Call, int]] = {
    "waiting-for-headers": (
        lambda c: c.chat.completions.create(messages=MESSAGES, extra_headers=STALL_HEADERS),
        1,
    ),
    "reading-a-body": (
        lambda c: c.chat.completions.create(messages=MESSAGES, extra_headers=STALL_BODY),
        1,
    ),
    "stream-before-headers": (lambda c: stream_final(c, extra_headers=STALL_HEADERS), 1),
    "stream-mid-way": (lambda c: stream_final(c, extra_headers=STALL_STREAM), 1),
    "waiting-to-retry": (
        lambda c: c.chat.completions.create(messages=MESSAGES, extra_headers=RATE_LIMITED),
        0,
    ),
}


@pytest.mark.parametrize(("call", "holds"), IN_FLIGHT.values(), ids=IN_FLIGHT.keys())
async def test_close_fails_calls_in_flight(emu: DosAIEmulator, call: Call, holds: int) -> None:
    """close() makes an in-flight call fail at once with DosAIError, never hang or retry."""
    c = client(emu)
    async with no_leaks(c):
        task = asyncio.create_task(call(c))
        assert await settle(lambda: emu.stats.total == 1 and pool(c).acquired == holds)
        await asyncio.sleep(0.02)  # a parked body or stream has read what was sent
        with elapsed_under(0.5):
            await c.close()
            with pytest.raises(d.DosAIError, match="closed") as info:
                await task
    assert type(info.value) is d.DosAIError
    assert c._transport._session is None  # no new session was opened for a retry
    assert emu.stats.total == 1
    assert await settle(lambda: client_sockets(emu.port) == 0)
    assert resource_warnings() == []


async def test_calls_after_close_fail_at_once(emu: DosAIEmulator) -> None:
    """A call made after close() raises DosAIError without touching the network."""
    c = client(emu)
    await c.chat.completions.create(messages=MESSAGES)
    await c.close()
    with pytest.raises(d.DosAIError, match="closed"):
        await c.chat.completions.create(messages=MESSAGES)
    assert emu.stats.total == 1
