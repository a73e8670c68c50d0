"""Fan-out as dosai_async users write it: 40 prompts, 8 at a time, headers from the raw response.

Prints each answer in prompt order, then what the headers said across all 40 responses.
"""

import asyncio

from dosai_async import AsyncDosAI

PROMPTS = [f"In one sentence, what is {n} times {n}?" for n in range(40)]


async def ask(client: AsyncDosAI, limit: asyncio.Semaphore, prompt: str) -> tuple[dict, str]:
    async with limit:
        raw = await client.chat.completions.with_raw_response.create(
            model="dos-ai",
            messages=[{"role": "user", "content": prompt}],
            max_tokens=40,
            seed=7,
        )
    headers = {
        "x-request-id": raw.headers.get("x-request-id"),
        "x-ratelimit-limit": raw.headers.get("x-ratelimit-limit"),
        "x-ratelimit-remaining": raw.headers.get("x-ratelimit-remaining"),
    }
    completion = raw.parse()
    choice = completion.choices[0]
    usage = completion.usage
    return headers, f"{choice.finish_reason} {usage.completion_tokens} {choice.message.content}"


async def main() -> None:
    async with AsyncDosAI() as client:  # DOS_AI_BASE_URL and DOS_AI_API_KEY
        limit = asyncio.Semaphore(8)
        results = await asyncio.gather(*(ask(client, limit, p) for p in PROMPTS))
    for n, (_, line) in enumerate(results):
        print(f"{n:2} {line}")
    ids = {h["x-request-id"] for h, _ in results if h["x-request-id"]}
    limits = {h["x-ratelimit-limit"] for h, _ in results}
    remaining = sorted(int(h["x-ratelimit-remaining"]) for h, _ in results)
    print(f"request ids: {len(ids)} distinct of {len(results)}")
    print(f"rate limit: {sorted(limits)}, remaining {remaining[0]}..{remaining[-1]}")


asyncio.run(main())
