"""Fault matrix, connection faults: refused, resets, stalls, keep-alives only, a stale pooled
connection, a body longer than declared and a redirect, over real sockets on 127.0.0.1.

Each cell asserts the exact exception class (or success), that the call ended within its
configured deadlines, and (``no_leaks``) that no connection stayed acquired and no task was
left behind. Servers run on their own threads, so this loop holds only the client's tasks.
The table of outcomes is ``docs/fault-matrix.md``.
"""

from __future__ import annotations

import asyncio
import json

import pytest

import dosai_async as d
from dosai_async import RetryPolicy, Timeout
from dosai_async.testing import DosAIEmulator, Fault
from tests._rawserver import (
    FAULT_KEY,
    MESSAGES,
    Conn,
    RawServer,
    client,
    elapsed_under,
    expect,
    no_leaks,
    partial_content,
    pool,
    refused_port,
    response,
    settle,
    stream_final,
)

KEY = FAULT_KEY
STALL = 30.0  # longer than any test: the emulator's close() ends the stall
BODY = json.dumps(
    {
        "id": "chatcmpl-raw",
        "object": "chat.completion",
        "created": 1,
        "model": "dos-ai",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
    }
).encode()


# -- connection refused -------------------------------------------------------------------


async def test_connection_refused() -> None:
    """Nothing listening: APIConnectionError, marked as failed before a response."""
    async with client(f"http://127.0.0.1:{refused_port()}/v1") as c, no_leaks(c):
        with elapsed_under(2.0):
            error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert error.response_started is False


async def test_connection_refused_stream() -> None:
    """Nothing listening, on a stream: the same APIConnectionError."""
    async with client(f"http://127.0.0.1:{refused_port()}/v1") as c, no_leaks(c):
        with elapsed_under(2.0):
            await expect(d.APIConnectionError, stream_final(c))


# -- resets -------------------------------------------------------------------------------


async def test_reset_before_headers(thread_emu: DosAIEmulator) -> None:
    """RST before any byte on every attempt: retried, then APIConnectionError."""
    thread_emu.enqueue(Fault.reset_before_headers(), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert error.response_started is False
    assert len(thread_emu.requests) == 3


async def test_reset_before_headers_once_is_transparent(thread_emu: DosAIEmulator) -> None:
    """One RST before the headers is retried and the call succeeds."""
    thread_emu.enqueue(Fault.reset_before_headers())
    async with client(thread_emu.base_url) as c, no_leaks(c):
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].finish_reason == "stop"
    assert len(thread_emu.requests) == 2


async def test_reset_before_headers_stream(thread_emu: DosAIEmulator) -> None:
    """RST before the headers of a stream: retried, then APIConnectionError."""
    thread_emu.enqueue(Fault.reset_before_headers(), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        await expect(d.APIConnectionError, stream_final(c))
    assert len(thread_emu.requests) == 3


async def test_reset_mid_body(thread_emu: DosAIEmulator) -> None:
    """Headers, half the JSON body, RST: APIConnectionError, response started, not retried."""
    thread_emu.enqueue(Fault.reset_mid_body(), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert error.response_started is True
    assert len(thread_emu.requests) == 1


async def test_reset_mid_stream(thread_emu: DosAIEmulator) -> None:
    """RST after content: APIConnectionError with the partial output, never retried."""
    thread_emu.enqueue(Fault.reset_mid_stream(3), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.APIConnectionError, stream_final(c))
    assert partial_content(error)
    assert error.response_started is True
    assert len(thread_emu.requests) == 1
    # Said in words, not as aiohttp's parser internals ("TransferEncodingError: 400, ...").
    assert "cut off" in str(error)
    assert "400" not in str(error)


async def test_reset_mid_stream_before_content_is_retried(thread_emu: DosAIEmulator) -> None:
    """RST after only the role chunk (no content yet) is retried and the stream succeeds."""
    thread_emu.enqueue(Fault.reset_mid_stream(1))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        final = await stream_final(c)
    assert final.choices[0].finish_reason == "stop"
    assert len(thread_emu.requests) == 2


# -- stalls -------------------------------------------------------------------------------


async def test_stall_before_headers(thread_emu: DosAIEmulator) -> None:
    """No headers: APITimeoutError(total) when the call's total deadline elapses."""
    thread_emu.enqueue(Fault.stall_before_headers(STALL), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.3 + 0.4):
            error = await expect(
                d.APITimeoutError, c.chat.completions.create(messages=MESSAGES, timeout=0.3)
            )
    assert error.deadline == "total"


async def test_stall_before_headers_retries_stay_within_total(thread_emu: DosAIEmulator) -> None:
    """A read timeout is retried, but all attempts together end at the total deadline."""
    thread_emu.enqueue(Fault.stall_before_headers(STALL), times=5)
    timeout = Timeout(read=0.2, total=0.5)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.5 + 0.4):
            error = await expect(
                d.APITimeoutError, c.chat.completions.create(messages=MESSAGES, timeout=timeout)
            )
    assert error.deadline == "total"
    assert len(thread_emu.requests) == 3  # read timeouts at 0.2 and 0.4, then total at 0.5


async def test_stall_before_headers_stream(thread_emu: DosAIEmulator) -> None:
    """A stream whose headers never come: APITimeoutError(first_token)."""
    thread_emu.enqueue(Fault.stall_before_headers(STALL))
    async with client(thread_emu.base_url, max_retries=0) as c, no_leaks(c):
        with elapsed_under(0.3 + 0.4):
            error = await expect(
                d.APITimeoutError, stream_final(c, timeout=Timeout(first_token=0.3))
            )
    assert error.deadline == "first_token"


async def test_stall_mid_stream(thread_emu: DosAIEmulator) -> None:
    """A stream that stops after content: APITimeoutError(idle) with the partial output."""
    thread_emu.enqueue(Fault.stall_mid_stream(3, STALL))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.3 + 0.4):
            error = await expect(d.APITimeoutError, stream_final(c, timeout=Timeout(idle=0.3)))
    assert error.deadline == "idle"
    assert partial_content(error)
    assert len(thread_emu.requests) == 1


# -- keep-alive comments only ---------------------------------------------------------------


async def test_keepalive_only_hits_first_token(thread_emu: DosAIEmulator) -> None:
    """Only `: keep-alive` comments: they are no token, so first_token elapses."""
    thread_emu.enqueue(Fault.keepalive_only(0.02, STALL))
    async with client(thread_emu.base_url, max_retries=0) as c, no_leaks(c):
        with elapsed_under(0.3 + 0.4):
            error = await expect(
                d.APITimeoutError, stream_final(c, timeout=Timeout(first_token=0.3))
            )
    assert error.deadline == "first_token"


async def test_keepalive_only_hits_total(thread_emu: DosAIEmulator) -> None:
    """Only keep-alives and no first_token deadline: the total deadline still ends it."""
    thread_emu.enqueue(Fault.keepalive_only(0.02, STALL))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        with elapsed_under(0.3 + 0.4):
            error = await expect(d.APITimeoutError, stream_final(c, timeout=0.3))
    assert error.deadline == "total"


async def test_keepalive_only_then_end(thread_emu: DosAIEmulator) -> None:
    """Keep-alives then the end of the body: a dropped stream, APIConnectionError."""
    thread_emu.enqueue(Fault.keepalive_only(0.01, 0.03), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.APIConnectionError, stream_final(c))
    assert error.response_started is False
    assert len(thread_emu.requests) == 3  # nothing reached the caller: retried


async def test_keepalive_only_then_end_once_is_transparent(thread_emu: DosAIEmulator) -> None:
    """One keep-alive-only body is retried and the stream succeeds."""
    thread_emu.enqueue(Fault.keepalive_only(0.01, 0.03))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        final = await stream_final(c)
    assert final.choices[0].finish_reason == "stop"


# -- a server that closes idle pooled connections ----------------------------------------------


async def answer_once_then_close(conn: Conn) -> None:
    """Answer one request with keep-alive, then close the idle connection shortly after."""
    if await conn.request() is not None:
        await conn.send(response(200, BODY))
        await asyncio.sleep(0.05)


async def answer_once_then_drop_the_next(conn: Conn) -> None:
    """Answer one request with keep-alive; drop the connection when the next one arrives."""
    if await conn.request() is not None:
        await conn.send(response(200, BODY))
        await conn.request()


async def test_idle_pooled_connection_closed_by_server() -> None:
    """The server closed the pooled connection: the next call succeeds without a retry."""
    with RawServer(answer_once_then_close) as server:
        async with client(server.base_url, max_retries=0) as c, no_leaks(c):
            await c.chat.completions.create(messages=MESSAGES)
            assert await settle(lambda: server.open == 0)
            await asyncio.sleep(0.02)  # let the client's loop see the FIN
            done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "ok"
    assert server.accepted == 2


async def test_stale_pooled_connection_is_retried() -> None:
    """A pooled connection dropped as the request arrives is retried on a fresh one."""
    with RawServer(answer_once_then_drop_the_next) as server:
        async with client(server.base_url, retry=RetryPolicy()) as c, no_leaks(c):
            await c.chat.completions.create(messages=MESSAGES)
            done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "ok"
    assert (server.accepted, len(server.requests)) == (2, 3)


async def test_stale_pooled_connection_without_retries() -> None:
    """With retries off, the drop is an APIConnectionError marked safe to retry."""
    with RawServer(answer_once_then_drop_the_next) as server:
        async with client(server.base_url, max_retries=0) as c, no_leaks(c):
            await c.chat.completions.create(messages=MESSAGES)
            error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert error.response_started is False


# -- a body far larger than declared ----------------------------------------------------------


async def longer_than_declared(conn: Conn) -> None:
    """Declare the JSON body's length, then send 1 MB more in the same write."""
    while await conn.request() is not None:
        await conn.send(response(200, BODY + b"x" * 1_000_000, length=len(BODY)))


async def trailing_garbage_later(conn: Conn) -> None:
    """A correct response, then 1 MB of bytes nobody asked for on the idle connection."""
    while await conn.request() is not None:
        await conn.send(response(200, BODY))
        await asyncio.sleep(0.05)
        await conn.send(b"x" * 1_000_000)


async def test_body_larger_than_declared() -> None:
    """Bytes past Content-Length: APIConnectionError, and no such connection is reused."""
    with RawServer(longer_than_declared) as server:
        async with client(server.base_url) as c, no_leaks(c):
            await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
            assert pool(c).idle == 0
    assert server.accepted == len(server.requests) == 3  # a fresh connection per attempt


async def test_bytes_after_a_complete_response() -> None:
    """Garbage after a complete response: that call succeeds, the next uses a new connection."""
    with RawServer(trailing_garbage_later) as server:
        async with client(server.base_url, max_retries=0) as c, no_leaks(c):
            await c.chat.completions.create(messages=MESSAGES)
            await asyncio.sleep(0.1)
            done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "ok"
    assert server.accepted == 2


# -- a redirect to another host -----------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_to_another_host_is_not_followed(status: int) -> None:
    """A 3xx raises APIStatusError; the other host receives nothing, so no key either."""

    async def record(conn: Conn) -> None:
        await conn.request()
        await conn.send(response(200, BODY))

    with RawServer(record) as other:
        location = f"http://localhost:{other.port}/v1/chat/completions"

        async def redirect(conn: Conn) -> None:
            await conn.request()
            await conn.send(response(status, b"", headers={"Location": location}))

        with RawServer(redirect) as server:
            async with client(server.base_url) as c, no_leaks(c):
                error = await expect(d.APIStatusError, c.chat.completions.create(messages=MESSAGES))
    assert error.status_code == status
    assert (other.accepted, other.requests) == (0, [])
    assert len(server.requests) == 1  # a 3xx is not retried
