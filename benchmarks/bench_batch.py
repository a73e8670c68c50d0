"""Batch fan-out: ``client.chat.completions.batch`` next to hand-rolled ``asyncio.gather``.

Run: ``python benchmarks/bench_batch.py`` (about three minutes; ``--quick`` for a smoke
run). Every server runs in its own process on 127.0.0.1, so the client's CPU time is its
own. Three tables, printed as Markdown:

1. **Throughput**: 10,000 requests against the emulator at zero latency, the same
   concurrency for every contender, runs interleaved and repeated (medians): the batch,
   ``gather`` + ``Semaphore`` over the SDK's ``create``, and ``gather`` + ``Semaphore``
   over raw aiohttp (``session.post`` + ``response.json()``), the floor any SDK pays on top.
2. **Random 429 storm**: the emulator rejects 30% of requests with ``429`` and
   ``Retry-After: 1`` at random. Items that ended successful, 429s counted at the server,
   HTTP requests, and time, for the batch and for hand-rolled retry loops.
3. **Rate-limit storm**: a DOS-like limiter (N requests per 1-second window,
   ``X-RateLimit-Remaining`` on every answer unless ``--no-remaining``; ``Retry-After: 1``
   past the limit), where a client's behaviour decides how many 429s it causes.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dosai_async import AsyncDosAI, ChatCompletion, RateLimitError
from dosai_async.testing import DosAIEmulator, Fault

API_KEY = "dos_sk_bench"
Runner = Callable[[str, int, int], Awaitable["Outcome"]]


# -- servers (each in its own process) ------------------------------------------------


def _serve(conn: Connection, kind: str, options: dict[str, Any]) -> None:
    asyncio.run(_serve_async(conn, kind, options))


async def _serve_async(conn: Connection, kind: str, options: dict[str, Any]) -> None:
    if kind == "emulator":
        server: Any = DosAIEmulator(rate_limit=1_000_000_000)
        if options.get("fault_rate"):
            fault = Fault.status(429, retry_after=1)
            server.set_random_faults(fault, rate=options["fault_rate"], seed=1)
        await server.start()
        port, stats = server.port, lambda: dict(server.stats.statuses)
        clear, close = server.clear, server.close
    else:
        limiter = WindowLimiter(options["capacity"], options["remaining"])
        runner = web.AppRunner(_app(limiter), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port, stats, clear, close = (
            runner.addresses[0][1],
            limiter.stats,
            limiter.clear,
            runner.cleanup,
        )
    conn.send(port)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, conn.recv) != "stop":
        conn.send(stats())
        clear()
    await close()


class WindowLimiter:
    """``capacity`` requests per 1-second window, then 429 with ``Retry-After: 1``."""

    def __init__(self, capacity: int, remaining: bool) -> None:
        self.capacity, self.remaining = capacity, remaining
        self.start, self.slot, self.used = time.monotonic(), 0, 0
        self.statuses: dict[int, int] = {}

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        slot = int(time.monotonic() - self.start)
        if slot != self.slot:
            self.slot, self.used = slot, 0
        status = 429 if self.used >= self.capacity else 200
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.used += status == 200
        headers = (
            {"X-RateLimit-Remaining": str(self.capacity - self.used)} if self.remaining else {}
        )
        if status == 429:
            body = {"error": {"message": "Rate limit exceeded", "type": "rate_limit_error"}}
            return web.json_response(body, status=429, headers={**headers, "Retry-After": "1"})
        return web.json_response(_COMPLETION, headers=headers)

    def stats(self) -> dict[int, int]:
        return dict(self.statuses)

    def clear(self) -> None:
        self.statuses = {}


_COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "dos-ai",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}


def _app(limiter: WindowLimiter) -> web.Application:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", limiter.handle)
    return app


class Server:
    """A server process: start it, ask for its counters (which resets them), stop it."""

    def __init__(self, kind: str, **options: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, kind, options), daemon=True)
        self._process.start()
        self.base_url = f"http://127.0.0.1:{self._conn.recv()}/v1"

    def statuses(self) -> dict[int, int]:
        self._conn.send("stats")
        result: dict[int, int] = self._conn.recv()
        return result

    def close(self) -> None:
        self._conn.send("stop")
        self._process.join(10)


# -- contenders -----------------------------------------------------------------------


class Outcome:
    """What one run produced, seen from the client."""

    def __init__(self, results: list[Any]) -> None:
        self.ok = sum(isinstance(r, (ChatCompletion, dict)) for r in results)
        self.failed = len(results) - self.ok


def request(i: int) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": f"Question {i}?"}], "max_tokens": 32}


def sdk_batch(max_retries: int) -> Runner:
    async def run(base_url: str, count: int, concurrency: int) -> Outcome:
        async with AsyncDosAI(api_key=API_KEY, base_url=base_url, max_retries=max_retries) as c:
            batch = c.chat.completions.batch(
                (request(i) for i in range(count)), concurrency=concurrency
            )
            return Outcome(await batch)

    return run


def sdk_gather(max_retries: int) -> Runner:
    async def run(base_url: str, count: int, concurrency: int) -> Outcome:
        async with AsyncDosAI(api_key=API_KEY, base_url=base_url, max_retries=max_retries) as c:
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> Any:
                async with gate:
                    return await c.chat.completions.create(**request(i))

            return Outcome(await asyncio.gather(*map(one, range(count)), return_exceptions=True))

    return run


async def sdk_retry_at_once(base_url: str, count: int, concurrency: int) -> Outcome:
    """The loop users hand-roll: on a 429, send again straight away."""
    async with AsyncDosAI(api_key=API_KEY, base_url=base_url, max_retries=0) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> Any:
            async with gate:
                while True:
                    try:
                        return await client.chat.completions.create(**request(i))
                    except RateLimitError:
                        continue

        return Outcome(await asyncio.gather(*map(one, range(count))))


async def raw_aiohttp(base_url: str, count: int, concurrency: int) -> Outcome:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        gate = asyncio.Semaphore(concurrency)
        url = base_url + "/chat/completions"

        async def one(i: int) -> Any:
            async with gate, session.post(url, json={"model": "dos-ai", **request(i)}) as r:
                return await r.json()

        return Outcome(await asyncio.gather(*map(one, range(count))))


# -- measuring ------------------------------------------------------------------------


def measure(runner: Runner, server: Server, count: int, concurrency: int) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = asyncio.run(runner(server.base_url, count, concurrency))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    statuses = server.statuses()
    return {
        "wall": wall,
        "cpu": cpu,
        "ok": outcome.ok,
        "failed": outcome.failed,
        "requests": sum(statuses.values()),
        "429": statuses.get(429, 0),
    }


def throughput(count: int, concurrency: int, repeat: int) -> None:
    contenders: dict[str, Runner] = {
        "`client.chat.completions.batch`": sdk_batch(2),
        "`gather` + `Semaphore` over `create`": sdk_gather(2),
        "`gather` + `Semaphore` over raw aiohttp": raw_aiohttp,
    }
    server = Server("emulator")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    try:
        measure(raw_aiohttp, server, min(count, 1000), concurrency)  # warm the server up
        for round_ in range(repeat):
            names = list(contenders)
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                runs[name].append(measure(contenders[name], server, count, concurrency))
    finally:
        server.close()
    print(f"\n### Throughput: {count:,} requests, concurrency {concurrency}, emulator at zero")
    print(f"latency in its own process; medians of {repeat} interleaved runs\n")
    print("| contender | requests/s | client CPU µs/request | vs raw aiohttp |")
    print("|---|---:|---:|---:|")
    raw = statistics.median(r["wall"] for r in runs["`gather` + `Semaphore` over raw aiohttp"])
    for name, results in runs.items():
        assert all(r["ok"] == count for r in results), (name, results)
        wall = statistics.median(r["wall"] for r in results)
        cpu = statistics.median(r["cpu"] for r in results)
        print(
            f"| {name} | {count / wall:,.0f} | {cpu / count * 1e6:,.0f} | {wall / raw:.2f}x time |"
        )


def storm(
    title: str, server: Server, count: int, concurrency: int, contenders: dict[str, Runner]
) -> None:
    print(f"\n### {title}\n")
    print("| contender | items ok | items failed | HTTP requests | 429s at server | time |")
    print("|---|---:|---:|---:|---:|---:|")
    try:
        for name, runner in contenders.items():
            r = measure(runner, server, count, concurrency)
            print(
                f"| {name} | {r['ok']:,} | {r['failed']:,} | {r['requests']:,} | "
                f"{r['429']:,} | {r['wall']:.1f} s |"
            )
    finally:
        server.close()


STORM_CONTENDERS: dict[str, Runner] = {
    # Every 429 counts against an item's retries, in the batch as in create().
    "`client.chat.completions.batch` (default retries: 2)": sdk_batch(2),
    "`client.chat.completions.batch` (retries: 100)": sdk_batch(100),
    "`gather` + `create` (default retries: 2, each honours Retry-After)": sdk_gather(2),
    "`gather` + `create` (retries until success, each honours Retry-After)": sdk_gather(100),
    "`gather` + hand-rolled loop (retry a 429 at once)": sdk_retry_at_once,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--storm", type=int, default=1000, help="items in the storm runs")
    parser.add_argument("--capacity", type=int, default=200, help="limiter requests/second")
    parser.add_argument("--quick", action="store_true", help="small numbers, one repeat")
    parser.add_argument("--throughput-only", action="store_true", help="skip the storms")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.repeat, args.storm, args.capacity = 2000, 1, 200, 50
    throughput(args.requests, args.concurrency, args.repeat)
    if args.throughput_only:
        return
    random = Server("emulator", fault_rate=0.3)
    title = f"Random 429 storm: 30% rejected with Retry-After: 1, {args.storm:,} items"
    storm(title, random, args.storm, args.concurrency, STORM_CONTENDERS)
    for remaining in (True, False):
        limiter = Server("limiter", capacity=args.capacity, remaining=remaining)
        header = "with" if remaining else "without"
        title = (
            f"Rate-limit storm: {args.capacity} requests/s then 429 + Retry-After: 1, "
            f"{header} X-RateLimit-Remaining, {args.storm:,} items"
        )
        storm(title, limiter, args.storm, args.concurrency, STORM_CONTENDERS)


if __name__ == "__main__":
    main()
