"""Streams over real HTTP on 127.0.0.1: helpers, in-band errors, cuts, deadlines, retries,
and connections released on break, close and cancel."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import dosai_async as d
from dosai_async import AsyncDosAI, RetryPolicy, Timeout

MESSAGES = [{"role": "user", "content": "hi"}]
Script = Callable[[web.StreamResponse], Awaitable[None]]
Serve = Callable[[Any], Awaitable[str]]


def chunk(content: str | None = None, finish: str | None = None, **delta: Any) -> bytes:
    """One SSE event carrying a chunk of choice 0."""
    if content is not None:
        delta["content"] = content
    payload = {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "dos-ai",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


ROLE = chunk(role="assistant", content="")
DONE = b"data: [DONE]\n\n"


class SSEServer:
    """Answers each request with the next script; records requests and disconnects."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = list(scripts)
        self.requests = 0
        self.disconnected = asyncio.Event()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        script = self.scripts.pop(0)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        response.headers["x-request-id"] = f"req_{self.requests}"
        await response.prepare(request)
        try:
            await script(response)
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnected.set()
            raise
        return response


def writes(*parts: bytes, pause: float = 0.0) -> Script:
    """A script writing the given fragments, optionally pausing between them."""

    async def script(response: web.StreamResponse) -> None:
        for part in parts:
            await response.write(part)
            if pause:
                await asyncio.sleep(pause)

    return script


def status(code: int, body: bytes, **headers: str) -> Script:
    """A script for a plain non-stream reply (handled by a separate route below)."""

    async def script(response: web.StreamResponse) -> None:  # pragma: no cover - marker
        raise AssertionError("status scripts are served by StatusFirst")

    script.status = (code, body, headers)  # type: ignore[attr-defined]
    return script


async def start(serve: Serve, server: SSEServer) -> AsyncDosAI:
    async def handler(request: web.Request) -> web.StreamResponse:
        script = server.scripts[0]
        if hasattr(script, "status"):
            server.scripts.pop(0)
            server.requests += 1
            code, body, headers = script.status
            return web.Response(status=code, body=body, headers=headers)
        return await server(request)

    base_url = await serve(handler)
    return AsyncDosAI(api_key="k", base_url=base_url, retry=RetryPolicy.zero_wait())


async def test_text_arrives_as_the_server_sends_it(serve: Serve) -> None:
    """The first delta reaches the caller while the server still holds back the rest."""
    release = asyncio.Event()

    async def script(response: web.StreamResponse) -> None:
        await response.write(ROLE + chunk("Hel"))
        await release.wait()
        await response.write(chunk("lo", finish="stop") + DONE)

    server = SSEServer(script)
    client = await start(serve, server)
    async with client, client.chat.completions.stream(messages=MESSAGES) as stream:
        texts = stream.text()
        first = await asyncio.wait_for(anext(texts), 2)
        release.set()
        rest = [t async for t in texts]
        final = await stream.final()
    assert (first, rest) == ("Hel", ["lo"])
    assert final.choices[0].message.content == "Hello"
    assert final.choices[0].finish_reason == "stop"
    assert final.request_id == "req_1"


async def test_iterates_typed_chunks_and_closes_on_exhaustion(serve: Serve) -> None:
    """create(stream=True) yields ChatCompletionChunk objects and then closes."""
    server = SSEServer(writes(ROLE, chunk("a"), chunk("b", finish="stop"), DONE))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        chunks = [c async for c in stream]
        assert all(isinstance(c, d.ChatCompletionChunk) for c in chunks)
        assert [c.choices[0].delta.content for c in chunks] == ["", "a", "b"]
        assert stream._closed


async def test_usage_on_empty_choices_chunk_and_stats(serve: Serve) -> None:
    """usage on a choices:[] chunk is kept; stats report tokens per second."""
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    tail = b"data: " + json.dumps({"id": "x", "choices": [], "usage": usage}).encode() + b"\n\n"
    server = SSEServer(writes(ROLE, chunk("a"), chunk("b", finish="stop"), tail, DONE, pause=0.01))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(
            messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        final = await stream.final()
    assert final.usage is not None
    assert final.usage.completion_tokens == 2
    stats = stream.stats
    assert stats.chunks == 4
    assert stats.completion_tokens == 2
    assert stats.time_to_first_token is not None
    assert stats.tokens_per_second is not None


@pytest.mark.parametrize(
    "error_event",
    [
        b'data: {"error": {"message": "slow down", "type": "rate_limit_error", "code": 429}}\n\n',
        b'event: error\ndata: {"error": {"message": "slow down", "code": 429}}\n\n',
    ],
)
async def test_in_band_error_is_typed_with_partial(serve: Serve, error_event: bytes) -> None:
    """An error inside a 200 stream raises APIStreamError typed by its code, partial attached."""
    server = SSEServer(writes(ROLE, chunk("partial"), error_event, DONE))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        with pytest.raises(d.APIStreamError) as info:
            await stream.final()
    error = info.value
    assert isinstance(error, d.RateLimitError)
    assert (error.status_code, error.message, error.request_id) == (429, "slow down", "req_1")
    assert isinstance(error.partial, d.ChatCompletion)
    assert error.partial.choices[0].message.content == "partial"
    assert server.requests == 1  # after content: never retried


async def test_cut_off_stream_raises_with_partial(serve: Serve) -> None:
    """EOF without [DONE] while a choice is unfinished is a cut: APIConnectionError."""
    server = SSEServer(writes(ROLE, chunk("half")))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        with pytest.raises(d.APIConnectionError, match="cut off") as info:
            await stream.final()
    assert info.value.partial.choices[0].message.content == "half"  # type: ignore[attr-defined]
    assert server.requests == 1


async def test_finished_stream_without_done_is_complete(serve: Serve) -> None:
    """EOF without [DONE] after every choice finished is a complete stream."""
    server = SSEServer(writes(ROLE, chunk("ok", finish="stop")))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        final = await stream.final()
    assert final.choices[0].message.content == "ok"


async def test_json_error_with_status_200_on_a_stream(serve: Serve) -> None:
    """A plain JSON error body with 200 raises its typed error, not an empty stream."""
    body = b'{"error": {"message": "Invalid API key", "code": "invalid_api_key"}}'
    server = SSEServer(writes(body))
    async with await start(serve, server) as client:
        with pytest.raises(d.AuthenticationError, match="Invalid API key"):
            await client.chat.completions.create(messages=MESSAGES, stream=True)


async def test_html_with_status_200_on_a_stream(serve: Serve) -> None:
    """An HTML page on a stream request raises ResponseValidationError quoting it."""
    server = SSEServer(writes(b"<html><body>Just a moment...</body></html>"))
    async with await start(serve, server) as client:
        with pytest.raises(d.ResponseValidationError, match="expected an event stream"):
            await client.chat.completions.create(messages=MESSAGES, stream=True)


async def test_error_status_on_stream_request(serve: Serve) -> None:
    """A 401 on a stream request raises AuthenticationError before any iteration."""
    server = SSEServer(status(401, b'{"error": {"message": "bad key"}}'))
    async with await start(serve, server) as client:
        with pytest.raises(d.AuthenticationError):
            await client.chat.completions.create(messages=MESSAGES, stream=True)


async def test_first_token_deadline(serve: Serve) -> None:
    """A server that sends only the role chunk and keep-alives hits first_token."""
    server = SSEServer(writes(ROLE, *[b": keep-alive\n\n"] * 50, pause=0.05))
    async with await start(serve, server) as client:
        started = time.monotonic()
        with pytest.raises(d.APITimeoutError) as info:
            await client.chat.completions.create(
                messages=MESSAGES, stream=True, timeout=Timeout(first_token=0.3), max_retries=0
            )
    assert info.value.deadline == "first_token"
    assert time.monotonic() - started < 2  # well before the keep-alives run out


async def test_idle_deadline_ignores_keep_alive_comments(serve: Serve) -> None:
    """After content, keep-alive comments do not reset the idle deadline."""
    server = SSEServer(writes(ROLE, chunk("a"), *[b": ping\n\n"] * 40, pause=0.05))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(
            messages=MESSAGES, stream=True, timeout=Timeout(idle=0.3)
        )
        started = time.monotonic()
        with pytest.raises(d.APITimeoutError) as info:
            await stream.final()
    assert info.value.deadline == "idle"
    assert time.monotonic() - started < 2  # well before the keep-alives run out
    assert info.value.partial.choices[0].message.content == "a"  # type: ignore[attr-defined]


async def test_total_deadline_covers_the_stream(serve: Serve) -> None:
    """The total deadline bounds reading the stream too."""
    server = SSEServer(writes(ROLE, *[chunk("x")] * 100, pause=0.02))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True, timeout=0.4)
        with pytest.raises(d.APITimeoutError) as info:
            await stream.final()
    assert info.value.deadline == "total"


async def test_retry_before_first_content(serve: Serve) -> None:
    """A 503 and then a cut before any content are retried; the result has no duplicates."""
    server = SSEServer(
        status(503, b'{"error": {"message": "busy"}}'),
        writes(ROLE),  # cut before content
        writes(ROLE, chunk("once"), chunk(finish="stop"), DONE),
    )
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        final = await stream.final()
    assert final.choices[0].message.content == "once"
    assert server.requests == 3


async def test_no_retry_after_content(serve: Serve) -> None:
    """A cut after content raises with the partial output and sends nothing more."""
    server = SSEServer(writes(ROLE, chunk("tok")), writes(ROLE, chunk("dup"), DONE))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        with pytest.raises(d.APIConnectionError):
            await stream.final()
    assert server.requests == 1


async def test_early_break_and_close_drops_the_connection(serve: Serve) -> None:
    """break + close() releases the connection: the server sees the client go away."""
    server = SSEServer(writes(ROLE, *[chunk("t")] * 1000, pause=0.01))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        async for _ in stream:
            break
        await stream.close()
        await asyncio.wait_for(server.disconnected.wait(), 2)


async def test_cancelled_consumer_drops_the_connection(serve: Serve) -> None:
    """Cancelling the consuming task closes the stream's connection promptly."""
    server = SSEServer(writes(ROLE, chunk("a"), *[b": ping\n\n"] * 200, pause=0.02))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        consumer = asyncio.create_task(stream.final())
        await asyncio.sleep(0.1)
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        assert stream._closed
        await asyncio.wait_for(server.disconnected.wait(), 2)


async def test_leaving_async_with_closes(serve: Serve) -> None:
    """Leaving the stream() block closes the stream even mid-way."""
    server = SSEServer(writes(ROLE, *[chunk("t")] * 500, pause=0.01))
    async with await start(serve, server) as client:
        async with client.chat.completions.stream(messages=MESSAGES) as stream:
            await anext(stream)
        assert stream._closed
        await asyncio.wait_for(server.disconnected.wait(), 2)


async def test_final_after_early_close_raises(serve: Serve) -> None:
    """final() on a stream closed early says so; snapshot() has what arrived."""
    server = SSEServer(writes(ROLE, chunk("a"), *[chunk("b")] * 100, pause=0.01))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        await anext(stream)
        await stream.close()
        with pytest.raises(d.DosAIError, match="closed before it finished"):
            await stream.final()
        assert stream.snapshot().choices[0].message.role == "assistant"


async def test_pooled_connection_is_reused_after_a_full_stream(serve: Serve) -> None:
    """A stream read to the end returns its connection to the pool for the next call."""
    ports: list[int] = []

    async def script(response: web.StreamResponse) -> None:
        await response.write(ROLE + chunk("x", finish="stop") + DONE)

    server = SSEServer(script, script)
    original = server.__call__

    async def recording(request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        ports.append(peer[1] if peer else -1)
        return await original(request)

    server.__call__ = recording  # type: ignore[method-assign]
    base_url = await serve(lambda r: recording(r))
    async with AsyncDosAI(api_key="k", base_url=base_url) as client:
        for _ in range(2):
            stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
            await stream.final()
            await asyncio.sleep(0)
    assert len(ports) == 2
    assert ports[0] == ports[1]


async def test_in_band_error_before_content_is_retried(serve: Serve) -> None:
    """An in-band 503 before any content is retried like a 503 status."""
    error = b'data: {"error": {"message": "overloaded", "code": 503}}\n\n'
    server = SSEServer(writes(ROLE, error, DONE), writes(ROLE, chunk("ok", finish="stop"), DONE))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        final = await stream.final()
    assert final.choices[0].message.content == "ok"
    assert server.requests == 2


async def test_chunks_before_an_error_are_delivered_first(serve: Serve) -> None:
    """Chunks that arrived before an in-band error are yielded before it is raised."""
    error = b'data: {"error": {"message": "boom", "code": 500}}\n\n'
    server = SSEServer(writes(ROLE + chunk("a") + chunk("b") + error + DONE))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        seen = [(await anext(stream)).choices[0].delta.content for _ in range(3)]
        with pytest.raises(d.InternalServerError):
            await anext(stream)
    assert seen == ["", "a", "b"]


async def test_tokens_per_second_when_everything_arrives_at_once(serve: Serve) -> None:
    """A whole answer in one read still gets a rate (over the time since the request)."""
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    tail = b"data: " + json.dumps({"id": "x", "choices": [], "usage": usage}).encode() + b"\n\n"
    server = SSEServer(writes(ROLE + chunk("a") + chunk("b", finish="stop") + tail + DONE))
    async with await start(serve, server) as client:
        stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
        await stream.final()
    assert stream.stats.tokens_per_second is not None
    assert stream.stats.tokens_per_second > 0


@pytest.mark.parametrize("count", [1, 3, 4, 5, 37, 1000])
def test_accumulated_text_is_every_delta_in_order(count: int) -> None:
    """The text a stream keeps for ``final()`` (folded into blocks of doubling size as it
    grows) is every delta, in order, for content and reasoning alike."""
    from dosai_async._streaming._accumulate import ChunkAccumulator

    accumulator = ChunkAccumulator()
    deltas = [f"<{i}>" + "é" * (i % 3) for i in range(count)]
    for text in deltas:
        delta = d.ChoiceDelta(content=text, reasoning=text[::-1])
        accumulator.add(d.ChatCompletionChunk(id="c", choices=[d.ChunkChoice(delta=delta)]))
        if count == 37 and text == deltas[20]:  # a snapshot mid-way is what arrived so far
            assert accumulator.snapshot().choices[0].message.content == "".join(deltas[:21])
    message = accumulator.snapshot().choices[0].message
    assert message.content == "".join(deltas)
    assert message.reasoning == "".join(t[::-1] for t in deltas)
