"""Live token display: the answer as it is generated, the model's thinking apart, then stats.

Qwen thinks before it answers: the thinking arrives in ``delta.reasoning`` (older servers:
``delta.reasoning_content``), the answer in ``delta.content``. Print each delta the moment
it arrives (``flush=True``) and read time to first token and tokens/s from ``stream.stats``.
For the answer alone, ``async for text in stream.text()`` is shorter.

    python examples/live_tokens.py ["your question"]
"""

from __future__ import annotations

import asyncio
import sys

from _local import dos_client

# Dim the thinking on a terminal (ANSI codes), plain text when piped.
DIM, PLAIN = ("\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "")


async def main() -> None:
    question = " ".join(sys.argv[1:]) or "What is the capital of France?"
    async with (
        dos_client(reasoning=True) as client,
        client.chat.completions.stream(
            messages=[{"role": "user", "content": question}],
            stream_options={"include_usage": True},  # token counts arrive on the last chunk
        ) as stream,
    ):
        thinking = False
        async for chunk in stream:
            for choice in chunk.choices:
                thought = choice.delta.reasoning or choice.delta.reasoning_content
                if thought:
                    print(DIM + thought + PLAIN, end="", flush=True)
                    thinking = True
                if choice.delta.content:
                    if thinking:  # the thinking is over: the answer starts on a new paragraph
                        print("\n")
                        thinking = False
                    print(choice.delta.content, end="", flush=True)
        stats = stream.stats
    ttft = f"{stats.time_to_first_token or 0:.2f} s"
    rate = f"{stats.tokens_per_second or 0:.1f} tokens/s"
    print(f"\n\nTTFT {ttft} · {stats.completion_tokens} tokens · {rate}")


if __name__ == "__main__":
    asyncio.run(main())
