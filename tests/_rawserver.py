"""Raw asyncio socket servers for faults the emulator cannot produce, and leak accounting.

``RawServer`` runs on its own event loop in a daemon thread, like the emulator's threaded
mode, so the test's loop holds only the client's tasks: ``asyncio.all_tasks()`` before and
after a call then tells whether the client left anything behind. Each accepted connection
runs ``handler(conn)``; ``conn`` reads whole HTTP requests and writes raw bytes, so a handler
can send exactly the bytes a broken server would (a lying Content-Length, invalid UTF-8, a
redirect, a 10 MB line) and close the socket when it likes.

``pool(client)`` and ``no_leaks(client)`` are the one place that looks inside the client: the
aiohttp connector behind ``client._transport``, to count connections in use and idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest
import trustme

from dosai_async import AsyncDosAI, ChatCompletion, RetryPolicy

MESSAGES = [{"role": "user", "content": "hi"}]
E = TypeVar("E", bound=BaseException)


class Conn:
    """One accepted connection, as a handler sees it."""

    def __init__(
        self, server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer

    async def request(self) -> bytes | None:
        """Read one whole request (head and Content-Length body); None at EOF."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        raw = head + await self.reader.readexactly(length)
        self.server.requests.append(raw)
        return raw

    async def send(self, data: bytes) -> None:
        """Write bytes and wait until the kernel took them, all of them.

        ``drain()`` alone returns once asyncio's buffer is under its low-water mark (16 KiB
        by default), and ``_serve`` aborts the transport when the handler returns: the bytes
        still buffered would be dropped and a whole body would arrive cut short. A write
        buffer limit of zero makes ``drain()`` wait until the buffer is empty.
        """
        self.writer.transport.set_write_buffer_limits(high=0)
        self.writer.write(data)
        await self.writer.drain()


Handler = Callable[[Conn], Awaitable[None]]


class RawServer:
    """A TCP (or TLS) server on 127.0.0.1, served from a background thread.

    ``requests`` holds every request received (raw bytes); ``accepted`` counts connections
    and ``open`` those not closed yet.
    """

    def __init__(self, handler: Handler, *, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.requests: list[bytes] = []
        self.accepted = 0
        self.open = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The API base URL, ending in ``/v1``."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> RawServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(ready),), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()  # handlers still sleeping: the test is over

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        try:
            await self.handler(Conn(self, reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away or refused us: that is what these tests provoke
        except asyncio.CancelledError:
            pass  # the server is closing; ending quietly keeps asyncio from logging it
        finally:
            self.open -= 1
            writer.transport.abort()


def response(
    status: int = 200,
    body: bytes = b"",
    *,
    content_type: str = "application/json",
    length: int | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of an HTTP/1.1 response; ``length`` overrides the declared Content-Length."""
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}"]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def stream_head(content_type: str = "text/event-stream") -> bytes:
    """Response headers for a body that is read until the connection closes."""
    return f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n".encode()


def refused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def throwaway_ca_tls() -> tuple[trustme.CA, ssl.SSLContext]:
    """A throwaway certificate authority and a server context with a cert for 127.0.0.1."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return authority, context


# -- leak accounting --------------------------------------------------------------------------


class Pool(NamedTuple):
    """Connections of a client's pool: in use by a request, and idle for reuse."""

    acquired: int
    idle: int


def pool(client: AsyncDosAI) -> Pool:
    """Count the client's connections (no session yet: an empty pool)."""
    session = client._transport._session
    connector: Any = None if session is None else session.connector
    if connector is None:
        return Pool(0, 0)
    idle = sum(1 for conns in connector._conns.values() for proto, _ in conns if proto.transport)
    return Pool(len(connector._acquired), idle)


def client_sockets(port: int) -> int:
    """Established TCP connections of this process to ``port`` (the client's side)."""
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status == psutil.CONN_ESTABLISHED
    )


async def settle(check: Callable[[], bool], seconds: float = 2.0) -> bool:
    """Let the loop run until ``check()`` holds, for at most ``seconds``; its last value."""
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.005)
    return True


def _others() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


@contextlib.asynccontextmanager
async def no_leaks(client: AsyncDosAI) -> AsyncIterator[None]:
    """Assert on leaving: no connection still acquired and no task left on this loop."""
    before = _others()
    yield
    await settle(lambda: pool(client).acquired == 0 and not _others() - before)
    assert pool(client).acquired == 0, f"connections left acquired: {pool(client)}"
    assert not _others() - before, f"tasks left behind: {_others() - before}"


@contextlib.contextmanager
def elapsed_under(seconds: float) -> Iterator[None]:
    """Assert the block finished within ``seconds`` (it was bounded by its deadlines)."""
    started = time.monotonic()
    yield
    took = time.monotonic() - started
    assert took < seconds, f"took {took:.2f}s, bound {seconds}s"


async def expect(cls: type[E], call: Awaitable[object]) -> E:
    """Await ``call`` and assert it raised exactly ``cls`` (not a subclass); the error."""
    with pytest.raises(cls) as info:
        await call
    error = info.value
    assert type(error) is cls, f"expected {cls.__name__}, got {type(error).__name__}: {error}"
    return error


def partial_content(error: BaseException) -> str | None:
    """The content of choice 0 in the partial result a stream's error carries."""
    partial = getattr(error, "partial", None)
    assert isinstance(partial, ChatCompletion)
    return partial.choices[0].message.content


async def stream_final(client: AsyncDosAI, **params: Any) -> ChatCompletion:
    """Open a stream, read it to the end, and return the accumulated completion."""
    stream = await client.chat.completions.create(messages=MESSAGES, stream=True, **params)
    async with stream:
        final: ChatCompletion = await stream.final()
    return final


# -- the fault matrix's client, shared by the test_faults_* files ----------------------------------

FAULT_KEY = "dos_sk_fault_matrix_0123456789"


def client(base_url: str, **options: Any) -> AsyncDosAI:
    """A client that retries without sleeping unless told otherwise."""
    options.setdefault("retry", RetryPolicy.zero_wait())
    return AsyncDosAI(api_key=FAULT_KEY, base_url=base_url, **options)
