"""Errors, retries and deadlines: catch the error classes, tune ``RetryPolicy`` and ``Timeout``.

Every error derives from ``DosAIError``. 429 and 5xx are retried (``Retry-After``
honoured up to ``max_retry_after``; each retry is logged on the ``dosai_async`` logger);
401, 402 and other client errors never are. ``Timeout(total=...)`` bounds a whole call,
retries included. Offline, the local emulator misbehaves on request through its
``X-Emulator-Fault`` header (the real API ignores it, so those calls simply succeed there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from _local import dos_client

from dosai_async import (
    APITimeoutError,
    AsyncDosAI,
    AuthenticationError,
    DosAIError,
    RateLimitError,
    RetryPolicy,
    Timeout,
)

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def fault(spec: str) -> dict[str, str]:
    return {"X-Emulator-Fault": spec}


async def attempt(label: str, call: Awaitable[object]) -> None:
    try:
        await call
    except RateLimitError as exc:  # a 429 that outlasted the retries
        print(f"{label}: RateLimitError {exc}; the server asked for {exc.retry_after} s")
    except AuthenticationError as exc:  # never retried: a wrong key stays wrong
        print(f"{label}: AuthenticationError {exc}")
    except APITimeoutError as exc:  # also a builtin TimeoutError
        print(f"{label}: APITimeoutError, the {exc.deadline} deadline elapsed")
    except DosAIError as exc:  # the base of them all: 402 InsufficientCreditsError here
        print(f"{label}: {type(exc).__name__} {exc}")
    else:
        print(f"{label}: succeeded")


async def main() -> None:
    logging.basicConfig(format="  log: %(message)s")
    logging.getLogger("dosai_async").setLevel(logging.INFO)  # one line per retry
    patient = RetryPolicy(max_retries=2, max_retry_after=0.5)  # cap the server's wait hint
    async with dos_client(ttft=0, token_interval=0) as client:
        create = client.chat.completions.create
        rate_limited = fault("status=429; retry-after=1")
        await attempt("429", create(messages=MESSAGES, extra_headers=rate_limited, retry=patient))
        await attempt("402", create(messages=MESSAGES, extra_headers=fault("status=402")))
        stalled = fault("stall-before-headers=5")
        deadline = Timeout(total=1.0)  # the whole call, every retry and wait included
        await attempt("slow", create(messages=MESSAGES, extra_headers=stalled, timeout=deadline))
        async with AsyncDosAI(api_key="dos_sk_wrong", base_url=client.base_url) as wrong:
            await attempt("401", wrong.models.list())


if __name__ == "__main__":
    asyncio.run(main())
