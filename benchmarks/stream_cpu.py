"""CPU cost per streamed chunk: the whole dosai-async client path next to raw aiohttp.

A server in a separate process streams one chat completion of N chunks over 127.0.0.1,
one ``write`` per event as a token-by-token server does. Each client reads the same
stream; we measure the client process's CPU time (``time.process_time``), so the server's
work never counts. Clients, interleaved in every repetition:

- ``raw aiohttp + orjson``: ``iter_any()``, a bytes-level split on blank lines, one
  ``orjson.loads`` per event (the floor: no models, no SSE edge cases);
- ``raw aiohttp + json``: the same with the stdlib ``json`` module;
- ``dosai-async``: ``client.chat.completions.create(stream=True)`` yielding typed
  ``ChatCompletionChunk`` objects (SSE decoder, cattrs structuring, accumulation, stats).

Run: ``python benchmarks/stream_cpu.py [--chunks 20000] [--repeat 5]``. Prints a Markdown
table with medians (min-max) and each figure as a ratio to the orjson floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import orjson
from aiohttp import web

from dosai_async import AsyncDosAI

Client = Callable[[str, int], Awaitable[int]]


def _event(i: int) -> bytes:
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "dos-ai",
        "system_fingerprint": None,
        "choices": [
            {"index": 0, "delta": {"content": f" tok{i % 97}"}, "logprobs": None,
             "finish_reason": None}
        ],
    }  # fmt: skip
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def _serve(port_queue: multiprocessing.Queue[int], chunks: int) -> None:
    events = [_event(i) for i in range(chunks)]
    last = {"index": 0, "delta": {}, "finish_reason": "stop"}
    finish = orjson.dumps({"id": "x", "choices": [last]})
    tail = b"data: " + finish + b"\n\ndata: [DONE]\n\n"

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in events:
            await response.write(event)
        await response.write(tail)
        await response.write_eof()
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


BODY = {"model": "dos-ai", "messages": [{"role": "user", "content": "go"}], "stream": True}


async def _raw(base_url: str, loads: Callable[[bytes], object]) -> int:
    count = 0
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url + "/chat/completions", json=BODY) as response,
    ):
        buffer = b""
        async for data in response.content.iter_any():
            buffer += data
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                if event.startswith(b"data: ") and event != b"data: [DONE]":
                    loads(event[6:])
                    count += 1
    return count


async def raw_orjson(base_url: str, _: int) -> int:
    return await _raw(base_url, orjson.loads)


async def raw_json(base_url: str, _: int) -> int:
    return await _raw(base_url, json.loads)


async def sdk(base_url: str, _: int) -> int:
    count = 0
    async with AsyncDosAI(api_key="bench", base_url=base_url) as client:
        stream = await client.chat.completions.create(messages=BODY["messages"], stream=True)
        async with stream:
            async for _chunk in stream:
                count += 1
    return count


CLIENTS: dict[str, Client] = {
    "raw aiohttp + orjson (floor)": raw_orjson,
    "raw aiohttp + json": raw_json,
    "dosai-async (typed chunks)": sdk,
}


def _measure(client: Client, base_url: str, chunks: int) -> float:
    started = time.process_time()
    count = asyncio.run(client(base_url, chunks))
    spent = time.process_time() - started
    assert count >= chunks, (client.__name__, count)
    return spent / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(queue, args.chunks), daemon=True)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{queue.get(timeout=30)}/v1"
        results = _run(base_url, args.chunks, args.repeat)
    finally:
        server.terminate()
        server.join(5)
    _print_table(results, args)


def _run(base_url: str, chunks: int, repeat: int) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in CLIENTS}
    for _ in range(repeat):
        # Interleaved: every repetition measures all clients back to back, and each
        # figure is also a ratio to the floor measured in the same repetition.
        floor = None
        for name, client in CLIENTS.items():
            per_chunk = _measure(client, base_url, chunks)
            floor = floor or per_chunk
            results[name].append((per_chunk, per_chunk / floor))
    return results


def _print_table(results: dict[str, list[tuple[float, float]]], args: argparse.Namespace) -> None:
    print(f"\nCPU per streamed chunk, {args.chunks} chunks, {args.repeat} repetitions\n")
    print("| client | µs CPU per chunk, median (min-max) | ratio to floor, median (min-max) |")
    print("|---|---|---|")
    for name, rows in results.items():
        cost = [r[0] for r in rows]
        ratio = [r[1] for r in rows]
        print(
            f"| {name} | {statistics.median(cost):.2f} ({min(cost):.2f}-{max(cost):.2f}) "
            f"| {statistics.median(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f}) |"
        )


if __name__ == "__main__":
    main()
