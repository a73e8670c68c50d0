"""Concurrent fan-out: 30 prompts through one batch, at most 10 requests in flight.

``client.chat.completions.batch(...)`` pulls the requests lazily, keeps ``concurrency``
requests in flight, and paces the whole batch as one: a 429 pauses every send for the
server's ``Retry-After`` (instead of every worker hammering the server) and concurrency
backs off and recovers. ``await batch`` gives one result per request in input order, each a
``ChatCompletion`` or the error that item ended with: one failure never sinks the rest.
(``async for item in batch`` yields them as they finish instead.)
"""

from __future__ import annotations

import asyncio
import time

from _local import dos_client

from dosai_async import ChatCompletion

TOPICS = ["asyncio", "aiohttp", "attrs", "cattrs", "SSE", "HTTP/2", "TLS", "DNS", "TCP", "UDP"]
PROMPTS = [
    f"In {style}, what is {topic}?"
    for style in ("a word", "one line", "a haiku")
    for topic in TOPICS
]
CONCURRENCY = 10


async def main() -> None:
    requests = (
        {
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": 80,
            "chat_template_kwargs": {"enable_thinking": False},  # short answers, no thinking
        }
        for prompt in PROMPTS
    )
    started = time.perf_counter()
    async with dos_client() as client:
        results = await client.chat.completions.batch(requests, concurrency=CONCURRENCY)
    for prompt, result in list(zip(PROMPTS, results, strict=True))[:3]:
        answer = result.choices[0].message.content if isinstance(result, ChatCompletion) else ""
        print(f"{prompt}\n  -> {(answer or str(result))[:70]}...")
    failed = sum(not isinstance(result, ChatCompletion) for result in results)
    elapsed = time.perf_counter() - started
    print(f"{len(results)} answers ({failed} failed) in {elapsed:.1f} s, {CONCURRENCY} at a time")


if __name__ == "__main__":
    asyncio.run(main())
