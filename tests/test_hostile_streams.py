"""Hostile and misbehaving stream servers (issue #11): unbounded lines and events, stalls
that only deadlines end, and streams their consumer dropped without closing them.

Every server here is a raw asyncio socket server (``tests/_rawserver.py``), so the client
meets bytes it did not produce: a body without a line ending, keep-alive comments and
nothing else, a chunked body broken mid-way, a generation that never ends.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref

import pytest

import dosai_async as d
from dosai_async import Timeout
from dosai_async._streaming._sse import DEFAULT_MAX_EVENT_SIZE
from tests._rawserver import (
    MESSAGES,
    Conn,
    RawServer,
    client,
    elapsed_under,
    expect,
    no_leaks,
    partial_content,
    pool,
    settle,
    stream_final,
    stream_head,
)

ROLE = b'data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
LIMIT = 256 * 1024  # a small max_event_size keeps the hostile bodies quick to send


def content(text: bytes) -> bytes:
    """One SSE event whose content delta is ``text``."""
    return b'data: {"choices":[{"index":0,"delta":{"content":"' + text + b'"}}]}\n\n'


def endless(opening: bytes, piece: bytes, pause: float = 0.0) -> RawServer:
    """A server that sends ``opening``, then ``piece`` again and again until the client goes."""

    async def handler(conn: Conn) -> None:
        if await conn.request() is None:
            return
        await conn.send(stream_head() + opening)
        while True:
            await conn.send(piece)
            await asyncio.sleep(pause)

    return RawServer(handler)


# -- item 4: bounded memory ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("piece", "what"),
    [
        pytest.param(b"x" * 4096, "line", id="no-line-ending"),
        pytest.param(b"data: xxxxxxxxxxxxxxxx\n" * 256, "event", id="no-blank-line"),
    ],
)
async def test_an_endless_line_or_event_fails_at_max_event_size(piece: bytes, what: str) -> None:
    """After content, bytes that never end a line (or data lines that never end an event):
    APIConnectionError naming the limit, with the partial output, instead of growing
    memory until the total deadline; the server sees the connection closed."""
    with endless(ROLE + content(b"hi") + b"data: ", piece) as server:
        async with client(server.base_url, max_event_size=LIMIT) as c, no_leaks(c):
            with elapsed_under(10.0):
                error = await expect(d.APIConnectionError, stream_final(c))
        assert await settle(lambda: server.open == 0, 5.0)
    assert f"{what} grew past {LIMIT:,} bytes" in str(error)
    assert "max_event_size" in str(error)
    assert error.response_started
    assert partial_content(error) == "hi"


async def test_an_endless_line_before_content_is_retried_then_fails() -> None:
    """Before any content the failure is like any broken stream: retried, then raised."""
    with endless(b"data: ", b"y" * 4096) as server:
        async with client(server.base_url, max_event_size=LIMIT) as c, no_leaks(c):
            error = await expect(d.APIConnectionError, stream_final(c, max_retries=1))
        assert await settle(lambda: server.open == 0, 5.0)
    assert "line grew past" in str(error)
    assert not error.response_started
    assert server.accepted == 2


async def test_events_up_to_the_limit_pass() -> None:
    """A line just under max_event_size, sent in small pieces, arrives whole."""
    big = b"z" * (LIMIT - 100)

    async def handler(conn: Conn) -> None:
        if await conn.request() is not None:
            body = ROLE + content(big) + b"data: [DONE]\n\n"
            await conn.send(stream_head())
            for start in range(0, len(body), 1000):
                await conn.send(body[start : start + 1000])

    with RawServer(handler) as server:
        async with client(server.base_url, max_event_size=LIMIT) as c, no_leaks(c):
            final = await stream_final(c)
    assert final.choices[0].message.content == big.decode()


def test_max_event_size_default_and_validation() -> None:
    """16 MiB by default; None turns it off; anything but a positive int is refused."""
    assert DEFAULT_MAX_EVENT_SIZE == 16 * 1024 * 1024
    assert d.AsyncDosAI(api_key="k").max_event_size == DEFAULT_MAX_EVENT_SIZE
    assert d.AsyncDosAI(api_key="k", max_event_size=None).max_event_size is None
    for bad in (0, -1, 1.5, True, "16M"):
        with pytest.raises(ValueError, match="max_event_size must be a positive"):
            d.AsyncDosAI(api_key="k", max_event_size=bad)  # type: ignore[arg-type]


# -- item 5: default deadlines that fit streams -------------------------------------------------


def test_default_deadlines() -> None:
    """The defaults bound a stalled stream in minutes, not the ten of total."""
    assert Timeout() == Timeout(connect=10, read=None, total=600, first_token=120, idle=60)
    assert d.AsyncDosAI(api_key="k").timeout == Timeout()


async def test_a_default_stream_waits_under_the_idle_deadline() -> None:
    """With the default Timeout, a stream past its first content is bounded by idle (60 s)."""
    with endless(ROLE + content(b"a"), b": ping\n\n", pause=0.05) as server:
        async with client(server.base_url) as c, no_leaks(c):
            stream = await c.chat.completions.create(messages=MESSAGES, stream=True)
            async with stream:
                left, name = stream._read_limit()
    assert name == "idle"
    assert left is not None
    assert 50 < left <= 60


@pytest.mark.parametrize(
    ("opening", "deadline"),
    [pytest.param(b"", "first_token", id="before-content"), pytest.param(ROLE, "idle", id="after")],
)
async def test_keep_alive_comments_alone_do_not_reset_the_deadline(
    opening: bytes, deadline: str
) -> None:
    """A server that sends only `: ping` comments, every 20 ms, still times out."""
    timeout = Timeout(first_token=0.5, idle=0.5)
    with endless(opening + content(b"a") if opening else b"", b": ping\n\n", 0.02) as server:
        async with client(server.base_url) as c, no_leaks(c):
            with elapsed_under(5.0):
                call = stream_final(c, timeout=timeout, max_retries=0)
                error = await expect(d.APITimeoutError, call)
    assert error.deadline == deadline


CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def chunked(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"5\n", id="size-line-ends-in-bare-LF"),
        pytest.param(b"5", id="size-line-never-ends"),
        pytest.param(b"5\r\nab", id="chunk-shorter-than-its-size"),
    ],
)
async def test_a_broken_chunked_body_ends_at_the_idle_deadline(bad: bytes) -> None:
    """A chunk-size line aiohttp's parser waits on, then silence: the idle deadline ends it
    (not the total one), with the partial output."""

    async def handler(conn: Conn) -> None:
        if await conn.request() is not None:
            await conn.send(CHUNKED_HEAD + chunked(ROLE + content(b"hi")) + bad)
            await conn.reader.read()  # silence until the client closes: EOF

    with RawServer(handler) as server:
        async with client(server.base_url) as c, no_leaks(c):
            with elapsed_under(5.0):
                error = await expect(d.APITimeoutError, stream_final(c, timeout=Timeout(idle=0.5)))
        assert await settle(lambda: server.open == 0, 5.0)
    assert error.deadline == "idle"
    assert partial_content(error) == "hi"


# -- item 7: streams dropped without close ------------------------------------------------------


@pytest.mark.parametrize("via", ["chunks", "text"])
async def test_a_dropped_stream_closes_its_connection(via: str) -> None:
    """`break`, then the stream is dropped without close(): once it is collected the
    server sees its connection closed (the generation stops), the pool is empty, and no
    unclosed-resource warning fires."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)  # aiohttp warns of an unclosed response only in debug mode
    try:
        with endless(ROLE + content(b"a"), content(b"x"), pause=0.02) as server:
            async with client(server.base_url) as c, no_leaks(c):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    collected = await _drop_after_first(c, via)
                    gc.collect()
                    assert collected() is None, "something still holds the dropped stream"
                    assert await settle(lambda: server.open == 0, 5.0)
                    assert pool(c).acquired == 0
                    gc.collect()
    finally:
        loop.set_debug(False)
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


async def test_a_dropped_stream_collected_in_another_thread_closes_on_its_loop() -> None:
    """The garbage collector may free a stream (here one in a reference cycle) from any
    thread: the connection is still closed, by the stream's own loop."""
    with endless(ROLE + content(b"a"), content(b"x"), pause=0.02) as server:
        async with client(server.base_url) as c, no_leaks(c):
            gc.disable()  # so that the collection happens in the other thread, not here
            try:
                collected = await _drop_after_first(c, "chunks", cycle=True)
                assert collected() is not None  # only the collector can free a cycle
                await asyncio.to_thread(gc.collect)
            finally:
                gc.enable()
            assert collected() is None
            assert await settle(lambda: server.open == 0, 5.0)


async def _drop_after_first(
    c: d.AsyncDosAI, via: str, *, cycle: bool = False
) -> weakref.ref[object]:
    """Read one item of a stream and leave the loop; the stream is dropped on return
    (``cycle``: it is left in a reference cycle, which only the collector frees)."""
    stream = await c.chat.completions.create(messages=MESSAGES, stream=True)
    items = stream.text() if via == "text" else stream
    async for _ in items:
        break
    if cycle:
        holder: list[object] = [stream]
        holder.append(holder)
    return weakref.ref(stream)
