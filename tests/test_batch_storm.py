"""429 storms: the batch pauses as one, finishes every item, and wastes few requests.

Counts are taken at the server. Two kinds of storm:

- the emulator's random faults (30% of requests get ``429`` + ``Retry-After``): a coin
  that ignores the client, so every client pays about 0.43 rejected requests per item;
  what the batch must show is that it obeys every ``Retry-After`` as one (no request
  leaves during a pause) and still finishes every item;
- a DOS-like limiter (a fixed number of requests per window, ``X-RateLimit-Remaining`` on
  every answer, ``Retry-After`` when over): here a client's behaviour decides how many 429s
  it causes, and the batch is compared with ``gather`` over per-request retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dosai_async import AsyncDosAI, ChatCompletion
from dosai_async.testing import DosAIEmulator, Fault

from .conftest import COMPLETION

Serve = Callable[[Callable[[web.Request], Awaitable[web.StreamResponse]]], Awaitable[str]]


def ask(i: int) -> dict[str, Any]:
    """A small request."""
    return {"messages": [{"role": "user", "content": f"question {i}"}]}


async def test_random_429_storm_pauses_the_batch_and_every_item_succeeds() -> None:
    """30% of requests rejected with a 0.5 s Retry-After: all items succeed, none sent in a pause.

    (``Retry-After: 1`` behaves the same, twice as slowly: see benchmarks/bench_batch.py.)
    Every 429 counts against an item's retries, so the policy allows enough of them.
    """
    items = 100
    async with DosAIEmulator(rate_limit=1_000_000_000) as emulator:
        emulator.set_random_faults(Fault.status(429, retry_after=0.5), rate=0.3, seed=7)
        async with AsyncDosAI(
            api_key="dos_sk_test", base_url=emulator.base_url, max_retries=8
        ) as client:
            batch = client.chat.completions.batch((ask(i) for i in range(items)), concurrency=100)
            results = await batch
        log = emulator.requests
    rejected = emulator.stats.statuses.get(429, 0)
    assert all(isinstance(result, ChatCompletion) for result in results)
    assert batch.stats.throttled == rejected > 0
    assert len(log) == items + rejected  # each 429 cost exactly one re-send, nothing else
    assert rejected <= 0.8 * items  # the coin's own rate is 0.43 per item
    throttled_at = [entry.time for entry in log if entry.fault is not None]
    for at in throttled_at:  # the answers to requests sent before the 429 came back may follow
        assert not [e for e in log if at + 0.15 < e.time < at + 0.45], "sent during a pause"


class WindowLimiter:
    """A DOS-like limiter: ``capacity`` requests per ``window`` seconds, then 429s."""

    def __init__(self, capacity: int, window: float) -> None:
        self.capacity = capacity
        self.window = window
        self.start = time.monotonic()
        self.slot = 0
        self.used = 0
        self.rejected = 0

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        slot = int((time.monotonic() - self.start) / self.window)
        if slot != self.slot:
            self.slot, self.used = slot, 0
        if self.used >= self.capacity:
            self.rejected += 1
            body = {"error": {"message": "Rate limit exceeded", "type": "rate_limit_error"}}
            headers = {"Retry-After": "1", "X-RateLimit-Remaining": "0"}
            return web.json_response(body, status=429, headers=headers)
        self.used += 1
        remaining = str(self.capacity - self.used)
        return web.json_response(COMPLETION, headers={"X-RateLimit-Remaining": remaining})


async def test_rate_limited_server_sees_far_fewer_429s_than_per_request_retries(
    serve: Serve,
) -> None:
    """Against a 40-per-second limiter, the batch causes a fraction of gather's 429s."""
    items, concurrency = 120, 16
    ours, theirs = WindowLimiter(40, 1.0), WindowLimiter(40, 1.0)
    async with AsyncDosAI(api_key="dos_sk_test", base_url=await serve(ours)) as client:
        results = await client.chat.completions.batch(
            (ask(i) for i in range(items)), concurrency=concurrency
        )
    assert all(isinstance(result, ChatCompletion) for result in results)
    async with AsyncDosAI(
        api_key="dos_sk_test", base_url=await serve(theirs), max_retries=20
    ) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> ChatCompletion:
            async with gate:
                return await client.chat.completions.create(**ask(i))

        await asyncio.gather(*(one(i) for i in range(items)))
    assert theirs.rejected >= 20  # the comparison means something
    assert ours.rejected * 4 <= theirs.rejected, (ours.rejected, theirs.rejected)
