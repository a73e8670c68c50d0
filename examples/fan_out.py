"""Concurrent fan-out: 30 prompts over one shared client, at most 10 requests in flight.

An ``asyncio.Semaphore`` bounds the concurrency (stay within your plan's requests and tokens
per minute); an ``asyncio.TaskGroup`` runs the tasks. API errors are caught per prompt so
one failure does not sink the rest, and results keep the order of the prompts. Rate limits
(429) are retried by the client itself, honouring ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import time

from _local import dos_client

from dosai_async import AsyncDosAI, DosAIError

TOPICS = ["asyncio", "aiohttp", "attrs", "cattrs", "SSE", "HTTP/2", "TLS", "DNS", "TCP", "UDP"]
PROMPTS = [
    f"In {style}, what is {topic}?"
    for style in ("a word", "one line", "a haiku")
    for topic in TOPICS
]
CONCURRENCY = 10


async def ask(client: AsyncDosAI, limit: asyncio.Semaphore, prompt: str) -> str:
    async with limit:  # wait here while CONCURRENCY requests are in flight
        try:
            done = await client.chat.completions.create(
                messages=[{"role": "user", "content": prompt}],
                max_tokens=80,
                chat_template_kwargs={"enable_thinking": False},  # short answers, no thinking
                timeout=60,  # for the whole call, retries included
            )
        except DosAIError as exc:
            return f"failed: {exc}"
    return done.choices[0].message.content or ""


async def main() -> None:
    limit = asyncio.Semaphore(CONCURRENCY)
    started = time.perf_counter()
    async with dos_client() as client, asyncio.TaskGroup() as group:
        tasks = [group.create_task(ask(client, limit, prompt)) for prompt in PROMPTS]
    answers = [task.result() for task in tasks]  # in the order of PROMPTS
    for prompt, answer in list(zip(PROMPTS, answers, strict=True))[:3]:
        print(f"{prompt}\n  -> {answer[:70]}...")
    failed = sum(answer.startswith("failed:") for answer in answers)
    elapsed = time.perf_counter() - started
    print(f"{len(answers)} answers ({failed} failed) in {elapsed:.1f} s, {CONCURRENCY} at a time")


if __name__ == "__main__":
    asyncio.run(main())
