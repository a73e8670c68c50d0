"""A batch under throttling: each item's sends are bounded, a few refused items starve nobody.

The server is a raw socket server (``_rawserver``) that picks its answer from the item's
number in the request body, and counts sends per item and requests in flight, so what is
asserted is what reached the wire.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import statistics
import time

import pytest

from dosai_async import (
    AsyncDosAI,
    ChatCompletion,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    ServiceUnavailableError,
)

from ._rawserver import Conn, RawServer, response
from .conftest import COMPLETION

OK = json.dumps(COMPLETION).encode()
REFUSED = json.dumps({"error": {"message": "slow down", "type": "rate_limit_error"}}).encode()
ITEM = re.compile(rb"question (\d+)")
ERROR_TYPES = {429: RateLimitError, 503: ServiceUnavailableError, 500: InternalServerError}


def ask(i: int) -> dict[str, object]:
    """A small request whose body names its item."""
    return {"messages": [{"role": "user", "content": f"question {i}"}]}


class Refuser:
    """Answers items in ``refused`` with ``status`` (and ``headers``) every time; others 200.

    ``sends`` counts requests per item; ``levels`` records, for each successful request, how
    many requests the server was holding when it arrived (the client's effective window).
    """

    def __init__(
        self,
        refused: set[int],
        status: int = 429,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.refused = refused
        self.status = status
        self.headers = {"Retry-After": "0"} if headers is None else headers
        self.delay = delay
        self.sends: collections.Counter[int] = collections.Counter()
        self.levels: list[int] = []
        self._in_flight = 0

    async def __call__(self, conn: Conn) -> None:
        while (raw := await conn.request()) is not None:
            found = ITEM.search(raw)
            assert found is not None, raw
            await self._answer(conn, int(found.group(1)))

    async def _answer(self, conn: Conn, item: int) -> None:
        self.sends[item] += 1
        if item in self.refused:
            await conn.send(response(self.status, REFUSED, headers=self.headers))
            return
        self._in_flight += 1
        self.levels.append(self._in_flight)
        try:
            await asyncio.sleep(self.delay)  # a reply takes time; a refusal comes at once
            await conn.send(response(200, OK))
        finally:
            self._in_flight -= 1


async def run_batch(
    server: RawServer, items: int, policy: RetryPolicy
) -> tuple[list[ChatCompletion | object], list[int], float]:
    """Results, attempts per item (input order), and seconds taken."""
    attempts = [0] * items
    results: list[ChatCompletion | object] = [None] * items
    started = time.monotonic()
    async with AsyncDosAI(api_key="dos_sk_test", base_url=server.base_url, retry=policy) as client:
        async with asyncio.timeout(120):  # before the fix, the collapse ran for minutes
            async for item in client.chat.completions.batch(ask(i) for i in range(items)):
                attempts[item.index] = item.attempts
                results[item.index] = item.result
    return results, attempts, time.monotonic() - started


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("max_retries", [0, 2, 5])
async def test_an_always_refused_item_is_sent_max_retries_plus_one_times(
    status: int, max_retries: int
) -> None:
    """Throttles count as attempts: a refused item ends after exactly max_retries + 1 sends."""
    refused = set(range(0, 200, 10))
    handler = Refuser(refused, status)
    with RawServer(handler) as server:
        results, attempts, _ = await run_batch(server, 200, RetryPolicy(max_retries=max_retries))
    for i, result in enumerate(results):
        expected = max_retries + 1 if i in refused else 1
        assert handler.sends[i] == attempts[i] == expected, (i, handler.sends[i], attempts[i])
        assert type(result) is (ERROR_TYPES[status] if i in refused else ChatCompletion)


async def test_a_long_unhinted_throttle_streak_does_not_overflow_the_backoff() -> None:
    """1,100 throttles in a row without Retry-After: the backoff stays capped, no OverflowError."""
    handler = Refuser({0}, headers={})
    policy = RetryPolicy(max_retries=1_100, initial_backoff=1e-6, max_backoff=1e-5)
    with RawServer(handler) as server:
        [result], [attempts], _ = await run_batch(server, 1, policy)
    assert isinstance(result, RateLimitError)
    assert handler.sends[0] == attempts == 1_101


async def test_a_few_always_throttled_items_do_not_starve_the_rest() -> None:
    """1% of 5,000 items always get 429 + Retry-After: 0: the rest run as with 500s instead.

    Before the fix the window collapsed to 1-2 and the run took over 30 s against ~3 s.
    The comparison is the concurrency the server saw, not a speed; the time bound is wide
    and only proves the collapse is gone.
    """
    items, refused = 5_000, set(range(0, 5_000, 100))
    runs = {}
    for status in (429, 500):
        handler = Refuser(refused, status, delay=0.02)
        with RawServer(handler) as server:
            results, attempts, took = await run_batch(server, items, RetryPolicy())
        assert {(handler.sends[i], attempts[i]) for i in refused} == {(3, 3)}  # max_retries + 1
        assert all(type(results[i]) is ERROR_TYPES[status] for i in refused)
        assert sum(isinstance(result, ChatCompletion) for result in results) == items - 50
        runs[status] = (statistics.median(handler.levels), took)
    (throttled_level, throttled_took), (errors_level, _) = runs[429], runs[500]
    assert throttled_took < 20, runs
    assert throttled_level >= errors_level / 2, runs
