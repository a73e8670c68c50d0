"""Fault matrix, bodies: truncated or broken JSON, an HTML 502 page, invalid UTF-8, broken
SSE framing, a single 10 MB line and 100,000 tiny events, over real sockets on 127.0.0.1.

Each cell asserts the exact exception class (or success and the exact output), a time bound,
and (``no_leaks``) that no connection stayed acquired and no task was left behind.
"""

from __future__ import annotations

import json
import time

import dosai_async as d
from dosai_async._core._exceptions import stream_error_class
from dosai_async._streaming._sse import SSEDecoder
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
    response,
    stream_final,
    stream_head,
)

KEY = FAULT_KEY
ROLE = b'data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
FINISH = b'data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
DONE = b"data: [DONE]\n\n"


def content(text: bytes) -> bytes:
    """One SSE event whose content delta is ``text``, bytes spliced in verbatim."""
    return b'data: {"choices":[{"index":0,"delta":{"content":"' + text + b'"}}]}\n\n'


def sse_server(body: bytes) -> RawServer:
    """A raw server answering every request with ``body`` as an event stream, then closing."""

    async def handler(conn: Conn) -> None:
        if await conn.request() is not None:
            await conn.send(stream_head() + body)

    return RawServer(handler)


# -- truncated and broken JSON ------------------------------------------------------------------


async def test_truncated_json_body(thread_emu: DosAIEmulator) -> None:
    """A complete response whose JSON stops mid-value: ResponseValidationError, not retried."""
    thread_emu.enqueue(Fault.malformed_json(1), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(
            d.ResponseValidationError, c.chat.completions.create(messages=MESSAGES)
        )
    assert "not JSON" in str(error)
    assert len(thread_emu.requests) == 1


async def test_body_shorter_than_declared() -> None:
    """Half the declared Content-Length, then a clean close: APIConnectionError."""
    body = json.dumps({"id": "x", "choices": []}).encode()

    async def handler(conn: Conn) -> None:
        if await conn.request() is not None:
            await conn.send(response(200, body[: len(body) // 2], length=len(body)))

    with RawServer(handler) as server:
        async with client(server.base_url, max_retries=0) as c, no_leaks(c):
            error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert error.response_started is True
    assert "the body was cut off" in str(error)


async def test_broken_json_event_in_a_stream(thread_emu: DosAIEmulator) -> None:
    """An event whose JSON stops mid-value: ResponseValidationError quoting it."""
    thread_emu.enqueue(Fault.malformed_json(2))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.ResponseValidationError, stream_final(c))
    assert "chatcmpl-broken" in str(error)


async def test_events_without_blank_lines(thread_emu: DosAIEmulator) -> None:
    """Events run together into one non-JSON event: ResponseValidationError."""
    thread_emu.enqueue(Fault.malformed_sse(2))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        await expect(d.ResponseValidationError, stream_final(c))


async def test_stream_truncated_after_content(thread_emu: DosAIEmulator) -> None:
    """A clean end without finish_reason or [DONE]: APIConnectionError with the partial."""
    thread_emu.enqueue(Fault.truncate_stream(3))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.APIConnectionError, stream_final(c))
    assert partial_content(error)
    assert len(thread_emu.requests) == 1


async def test_json_answer_to_a_stream_request(thread_emu: DosAIEmulator) -> None:
    """A 200 JSON completion where a stream was asked for: ResponseValidationError."""
    thread_emu.enqueue(Fault.not_sse())
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.ResponseValidationError, stream_final(c))
    assert "expected an event stream" in str(error)


async def test_in_band_error_after_content(thread_emu: DosAIEmulator) -> None:
    """`data: {"error": ...}` after content: the typed APIStreamError, not retried."""
    thread_emu.enqueue(Fault.stream_error(3, "boom"))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(stream_error_class(500), stream_final(c))
    assert isinstance(error, d.APIStreamError)
    assert isinstance(error, d.InternalServerError)
    assert len(thread_emu.requests) == 1


async def test_error_object_with_status_200(thread_emu: DosAIEmulator) -> None:
    """A 200 whose JSON body is an error object raises that error, not an empty result."""
    thread_emu.enqueue(Fault.stream_error(1, "boom"))
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(stream_error_class(500), c.chat.completions.create(messages=MESSAGES))
    assert (error.message, error.status_code) == ("boom", 500)
    assert len(thread_emu.requests) == 1


# -- an HTML 502 page -----------------------------------------------------------------------------


async def test_html_502(thread_emu: DosAIEmulator) -> None:
    """A proxy's HTML 502 on every attempt: InternalServerError titled by the page."""
    thread_emu.enqueue(Fault.html_502(), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        error = await expect(d.InternalServerError, c.chat.completions.create(messages=MESSAGES))
    assert (error.status_code, error.message) == (502, "502 Bad Gateway")
    assert len(thread_emu.requests) == 3


async def test_html_502_once_is_transparent(thread_emu: DosAIEmulator) -> None:
    """One HTML 502 is retried and the call succeeds."""
    thread_emu.enqueue(Fault.html_502())
    async with client(thread_emu.base_url) as c, no_leaks(c):
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].finish_reason == "stop"


async def test_html_502_on_a_stream(thread_emu: DosAIEmulator) -> None:
    """A stream request answered by an HTML 502: InternalServerError."""
    thread_emu.enqueue(Fault.html_502(), times=3)
    async with client(thread_emu.base_url) as c, no_leaks(c):
        await expect(d.InternalServerError, stream_final(c))


# -- invalid UTF-8 ------------------------------------------------------------------------------


async def test_invalid_utf8_inside_a_string_is_replaced() -> None:
    """Invalid UTF-8 inside a JSON string decodes to U+FFFD; the stream succeeds."""
    with sse_server(ROLE + content(b"a\xff\xfeb") + FINISH + DONE) as server:
        async with client(server.base_url) as c, no_leaks(c):
            final = await stream_final(c)
    assert final.choices[0].message.content == "a\ufffd\ufffdb"


async def test_invalid_utf8_payload() -> None:
    """Invalid UTF-8 where the JSON starts: the replaced text is not JSON, so
    ResponseValidationError, not UnicodeDecodeError."""
    with sse_server(ROLE + b"data: \xff\xfe{}\n\n" + FINISH + DONE) as server:
        async with client(server.base_url) as c, no_leaks(c):
            error = await expect(d.ResponseValidationError, stream_final(c))
    assert "\ufffd" in str(error)


# -- a single 10 MB line, and 100,000 tiny events -------------------------------------------------


async def test_ten_megabyte_line() -> None:
    """One 10 MB `data:` line arrives whole, in well under a second or two."""
    big = b"x" * 10_000_000
    with sse_server(ROLE + content(big) + FINISH + DONE) as server:
        async with client(server.base_url) as c, no_leaks(c):
            with elapsed_under(5.0):
                final = await stream_final(c)
    assert final.choices[0].message.content == big.decode()


def test_ten_megabyte_line_in_small_pieces_is_linear() -> None:
    """10 MB fed to the decoder in 1 KB pieces: linear time (a re-scan would take minutes)."""
    decoder, piece = SSEDecoder(), b"y" * 1024
    started = time.process_time()
    assert decoder.feed(b"data: ") == []
    for _ in range(10_000):
        assert decoder.feed(piece) == []
    [event] = decoder.feed(b"\n\n")
    assert len(event.data) == 10_240_000
    assert time.process_time() - started < 2.0


async def test_hundred_thousand_tiny_events() -> None:
    """100,000 one-token events are all delivered, in a few seconds at most."""
    body = ROLE + content(b"x") * 100_000 + FINISH + DONE
    with sse_server(body) as server:
        async with client(server.base_url) as c, no_leaks(c):
            with elapsed_under(10.0):
                stream = await c.chat.completions.create(messages=MESSAGES, stream=True)
                final = await stream.final()
            assert pool(c).acquired == 0
    assert final.choices[0].message.content == "x" * 100_000
    assert stream.stats.chunks == 100_002
