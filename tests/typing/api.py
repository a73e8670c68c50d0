"""Checked by mypy --strict, never executed: the public API as users write it."""

from __future__ import annotations

from typing import assert_type

from dosai_async import (
    AsyncDosAI,
    AsyncStream,
    BatchItem,
    ChatCompletion,
    ChatCompletionChunk,
    DosAIError,
    Hooks,
    Model,
    ModelList,
    RateLimitError,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RetryPolicy,
    StreamStats,
    Timeout,
    UserMessage,
)


async def plain(client: AsyncDosAI) -> None:
    done = await client.chat.completions.create(
        messages=[{"role": "user", "content": "hi"}, UserMessage("again")],
        temperature=0.2,
        max_tokens=10,
        timeout=5,
        extra_body={"top_k": 20},
    )
    assert_type(done, ChatCompletion)
    assert_type(done.choices[0].message.content, str | None)
    assert_type(done.request_id, str | None)


async def streamed(client: AsyncDosAI) -> None:
    stream = await client.chat.completions.create(messages=[], stream=True)
    assert_type(stream, AsyncStream[ChatCompletionChunk])
    async with stream:
        async for chunk in stream:
            assert_type(chunk, ChatCompletionChunk)
    async with client.chat.completions.stream(messages=[]) as managed:
        async for text in managed.text():
            assert_type(text, str)
        assert_type(await managed.final(), ChatCompletion)
        assert_type(managed.stats, StreamStats)


async def models(client: AsyncDosAI) -> None:
    listing = await client.models.list()
    assert_type(listing, ModelList)
    for model in listing:
        assert_type(model, Model)
    assert_type(await client.models.retrieve("dos-ai"), Model)


async def config() -> None:
    client = AsyncDosAI(
        api_key="dos_sk_x",
        timeout=Timeout(total=30, idle=10),
        retry=RetryPolicy(max_retries=5),
    )
    try:
        await client.models.list()
    except RateLimitError as exc:
        assert_type(exc.retry_after, float | None)
    except DosAIError as exc:
        assert_type(exc.message, str)
    await client.close()


async def fan_out(client: AsyncDosAI) -> None:
    requests = [{"messages": [{"role": "user", "content": "hi"}]}]
    results = await client.chat.completions.batch(requests, concurrency=8)
    assert_type(results, list[ChatCompletion | DosAIError])
    async for item in client.chat.completions.batch(requests):
        assert_type(item, BatchItem)
        assert_type(item.ok, bool)


def observability() -> None:
    def on_response(event: ResponseEvent) -> None:
        assert_type(event.status_code, int | None)
        assert_type(event.elapsed, float)

    def on_retry(event: RetryEvent) -> None:
        assert_type(event.delay, float)
        assert_type(event.error, BaseException)

    def on_request(event: RequestEvent) -> None:
        assert_type(event.attempt, int)

    hooks = Hooks(on_request=on_request, on_response=on_response, on_retry=on_retry)
    AsyncDosAI(api_key="x", hooks=hooks, trust_env=False, proxy="http://p:3128", tracing=False)
