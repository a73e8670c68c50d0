"""Soak: 100,000 requests through one client, with memory that must stay flat.

One ``AsyncDosAI`` sends ``--requests`` calls (default 100,000) with ``--concurrency``
workers (default 64): half plain, half streamed, and about 5% failing on purpose through
the ``X-Emulator-Fault`` header (a 500 and a 429 that outlast the one retry, a reset before
the headers, a 400, a reset mid-stream, a broken JSON event). The server is the package's
``DosAIEmulator`` in a separate process (zero latency), so only the client's memory and CPU
are measured here.

Printed: the client process's RSS at the start, after a 1,000-request warm-up, every 10,000
requests and at the end, with requests per second for each stretch and overall, then the
outcome counts, the pool and the tasks left. Exits 1 if any call ended with an exception
outside this package's tree, a call failed that should not have, connections stayed
acquired or tasks were left behind; it stops by itself after ``--max-seconds``.

Run: ``python benchmarks/soak.py [--requests 100000] [--concurrency 64] [--max-seconds 900]``
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import multiprocessing
import os
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import psutil

from dosai_async import AsyncDosAI, DosAIError, RetryPolicy
from dosai_async.testing import DosAIEmulator

MESSAGES = [{"role": "user", "content": "Say something short."}]
WARM_UP = 1_000
REPORT_EVERY = 10_000
# Request number modulo 100 -> the fault it carries; plain and streamed calls alternate, so
# even numbers are plain and odd ones streamed. Five in a hundred fail.
FAULTS: dict[int, str] = {
    10: "status=500",  # plain: retried once, then InternalServerError
    30: "status=429; retry-after=0",  # plain: retried once, then RateLimitError
    50: "status=400",  # plain: BadRequestError, not retried
    21: "reset-before-headers",  # stream: retried once, then APIConnectionError
    41: "reset-mid-stream=3",  # stream: content arrived, so APIConnectionError, no retry
}


def serve(conn: Connection) -> None:
    """The emulator's process: serve until the parent says stop (or goes away)."""

    async def main() -> None:
        async with DosAIEmulator(reply_tokens=(8, 16), rate_limit=10**9) as emulator:
            conn.send(emulator.base_url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


def rss_mb() -> float:
    """Resident memory of this process in MiB."""
    return float(psutil.Process().memory_info().rss) / 2**20


class Soak:
    """The workers, the counters and the progress report of one run."""

    def __init__(self, client: AsyncDosAI, total: int, max_seconds: float) -> None:
        self.client = client
        self.total = total
        self.deadline = time.monotonic() + max_seconds
        self.issued = 0
        self.finished = 0
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.unexpected: list[str] = []
        self.mark = (time.monotonic(), 0)
        self.checkpoint = asyncio.Event()

    async def worker(self) -> None:
        """Take the next request number and send it, until the run is over."""
        while self.issued < self.total and time.monotonic() < self.deadline:
            number = self.issued
            self.issued += 1
            await self.one(number)
            self.finished += 1
            if self.finished == WARM_UP or self.finished % REPORT_EVERY == 0:
                self.report(f"after {self.finished:,}")

    async def one(self, number: int) -> None:
        """One call, counted by outcome: "ok" or the error's class name."""
        fault = FAULTS.get(number % 100)
        headers = {"X-Emulator-Fault": fault} if fault else None
        try:
            if number % 2:
                stream = await self.client.chat.completions.create(
                    messages=MESSAGES, stream=True, extra_headers=headers
                )
                async with stream:
                    async for _ in stream:
                        pass
            else:
                await self.client.chat.completions.create(messages=MESSAGES, extra_headers=headers)
        except DosAIError as exc:
            self.outcomes[type(exc).__name__] += 1
            if fault is None:
                self.unexpected.append(f"request {number}: {type(exc).__name__}: {exc}")
        except Exception as exc:
            self.outcomes[type(exc).__name__] += 1
            self.unexpected.append(f"request {number}: foreign {type(exc).__name__}: {exc}")
        else:
            self.outcomes["ok"] += 1
            if fault is not None:
                self.unexpected.append(f"request {number}: succeeded despite {fault!r}")

    def report(self, label: str) -> None:
        """One progress line: RSS now and the request rate since the last line."""
        now, done = time.monotonic(), self.finished
        then, before = self.mark
        rate = (done - before) / (now - then) if now > then else 0.0
        self.mark = (now, done)
        print(f"{label:>16}: RSS {rss_mb():7.1f} MiB   {rate:8.0f} req/s", flush=True)


async def run(base_url: str, args: argparse.Namespace) -> int:
    """Soak one client; the exit code."""
    gc.collect()
    start_rss = rss_mb()
    print(f"{'start':>16}: RSS {start_rss:7.1f} MiB", flush=True)
    retry = RetryPolicy.zero_wait(max_retries=1)
    async with AsyncDosAI(api_key="dos_sk_soak", base_url=base_url, retry=retry) as client:
        soak = Soak(client, args.requests, args.max_seconds)
        started = time.monotonic()
        await asyncio.gather(*(soak.worker() for _ in range(args.concurrency)))
        elapsed = time.monotonic() - started
        gc.collect()
        if soak.finished % REPORT_EVERY:
            soak.report("end")
        session = client._transport._session
        connector: Any = session.connector if session is not None else None
        acquired = len(connector._acquired) if connector is not None else 0
        tasks = len(asyncio.all_tasks()) - 1
    print(f"\n{soak.finished:,} requests in {elapsed:.1f} s: {soak.finished / elapsed:,.0f} req/s")
    print(f"RSS {start_rss:.1f} MiB at start, {rss_mb():.1f} MiB at the end")
    print("outcomes:", dict(sorted(soak.outcomes.items())))
    print(f"connections still acquired: {acquired}; tasks left: {tasks}")
    for line in soak.unexpected[:10]:
        print("UNEXPECTED", line)
    return 1 if soak.unexpected or acquired or tasks else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, start the emulator's process, soak, stop the emulator."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args(argv)
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(theirs,))
    server.start()
    try:
        base_url = ours.recv()
        print(f"emulator pid {server.pid} at {base_url}; client pid {os.getpid()}")
        return asyncio.run(run(base_url, args))
    finally:
        ours.send("stop")
        server.join(10)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    sys.exit(main())
