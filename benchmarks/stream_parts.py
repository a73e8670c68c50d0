"""Where a streamed chunk's CPU goes, in memory: no sockets, no server, no aiohttp.

S2's bytes (20,000 chat chunks, 64 events per read, as the benchmark server writes them)
go through the SDK's stream pieces one stage at a time, then through a whole
``AsyncStream`` fed by an async iterator of those reads, and the same stream once more
with structuring replaced by handing back one prebuilt chunk (what everything but the
typed objects costs). Each figure is process CPU per chunk, the median of the repetitions.

Run: ``python benchmarks/stream_parts.py [--repeat 7]``. It measures the checkout it lives
in; compare two checkouts by running each one's copy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stream_cpu import _event  # the same chunk payload as S2's narrower tool

from dosai_async._core._config import Timeout
from dosai_async._core._deadline import Deadline
from dosai_async._models import _converter
from dosai_async._models._types import ChatCompletionChunk, ResponseMeta
from dosai_async._streaming import _stream
from dosai_async._streaming._accumulate import ChunkAccumulator
from dosai_async._streaming._sse import SSEDecoder

CHUNKS, PER_READ = 20_000, 64


def _reads() -> list[bytes]:
    events = [_event(i) for i in range(CHUNKS)]
    reads = [b"".join(events[i : i + PER_READ]) for i in range(0, CHUNKS, PER_READ)]
    last = {"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    return [*reads, b"data: " + orjson.dumps(last) + b"\n\ndata: [DONE]\n\n"]


def _stages(reads: list[bytes], stage: int) -> float:
    """CPU µs per chunk of the first ``stage`` + 1 of: SSE, loads, structure, accumulate."""
    decoder, accumulator = SSEDecoder(), ChunkAccumulator()
    structure = _converter.raw_structurer(ChatCompletionChunk)
    count, started = 0, time.process_time()
    for data in reads[:-1]:
        for event in decoder.feed(data):
            count += 1
            if stage >= 1:
                payload = _converter.loads(event.data)
                if stage >= 2:
                    chunk = structure(payload)
                    if stage >= 3:
                        accumulator.add(chunk)
    return (time.process_time() - started) / count * 1e6


async def _stream_cpu(reads: list[bytes]) -> float:
    async def body() -> AsyncIterator[bytes]:
        for data in reads:
            yield data

    meta = ResponseMeta(200, {})
    stream: _stream.AsyncStream[Any] = _stream.AsyncStream(
        body(), lambda: None, meta=meta, timeout=Timeout(), deadline=Deadline(None),
        sent_at=time.monotonic(),
    )  # fmt: skip
    count, started = 0, time.process_time()
    async for _ in stream:
        count += 1
    return (time.process_time() - started) / count * 1e6


def _without_structuring(run: Callable[[], float]) -> float:
    real = _stream._structure_chunk
    one = real({"id": "x", "choices": [{"index": 0, "delta": {"content": "a"}}]})
    _stream._structure_chunk = lambda _: one
    try:
        return run()
    finally:
        _stream._structure_chunk = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    reads = _reads()
    stages = ["SSE decoder", "+ orjson.loads", "+ structuring", "+ accumulator"]
    rows: list[tuple[str, Callable[[], float]]] = [
        (name, lambda stage=stage: _stages(reads, stage)) for stage, name in enumerate(stages)
    ]
    whole = ("AsyncStream, in memory", lambda: asyncio.run(_stream_cpu(reads)))
    bare = ("AsyncStream, no structuring", lambda: _without_structuring(whole[1]))
    print(f"CPU µs per chunk, {CHUNKS:,} chunks in reads of {PER_READ}, median of {repeat}\n")
    print("| stage | µs per chunk (min-max) |\n|---|---|")
    for name, run in [*rows, whole, bare]:
        figures = [run() for _ in range(repeat)]
        median = statistics.median(figures)
        print(f"| {name} | {median:.2f} ({min(figures):.2f}-{max(figures):.2f}) |")


if __name__ == "__main__":
    main()
