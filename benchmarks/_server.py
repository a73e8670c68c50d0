"""A minimal, fast OpenAI-compatible server for the benchmarks, run in its own process.

Plain ``asyncio.Protocol`` over HTTP/1.1 keep-alive rather than ``aiohttp.web``: at 256
concurrent non-streaming requests aiohttp.web costs about three times the CPU per request,
and on a 2-core machine the server shares the cores with the client under test, so every
microsecond the server spends is taken from the clients (see README, "The server").

``POST /v1/chat/completions`` with a JSON body:

- without ``"stream": true``: a fixed small ``ChatCompletion`` (precomputed bytes);
- with ``"stream": true``: ``bench_chunks`` content chunks (default 8), chunk ``k`` sent at
  ``k * bench_interval`` seconds after the request (default 0: as fast as the socket takes
  them), then a ``finish_reason`` chunk and ``data: [DONE]`` at ``bench_chunks *
  bench_interval``. Chunked transfer encoding (one HTTP chunk per event), precomputed
  bytes, one ``write`` per event when paced; unpaced, ``BURST_EVENTS`` events per write.

Anything else is a 404. The request body is parsed (orjson) so the server reacts to it the
way an API server does, but nothing in it besides those three fields matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import orjson

ROUTE = b"/v1/chat/completions"
MODEL = "dos-ai"
CREATED = 1_700_000_000
_DISTINCT_EVENTS = 97  # contents cycle through this many precomputed events
BURST_EVENTS = 64  # events per write when a stream has no interval (S2); see _burst

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": CREATED,
    "model": MODEL,
    "system_fingerprint": None,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
}


def _response(status: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> bytes:
    head = b"HTTP/1.1 " + status + b"\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return head + b"\r\n" + body


def _completion_response() -> bytes:
    body = orjson.dumps(COMPLETION)
    return _response(
        b"200 OK",
        [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", b"req-bench"),
        ],
        body,
    )


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    return _framed(b"data: " + orjson.dumps(payload) + b"\n\n")


def _framed(data: bytes) -> bytes:
    """One HTTP/1.1 chunk of the chunked transfer encoding."""
    return b"%x\r\n%b\r\n" % (len(data), data)


STREAM_HEAD = _response(
    b"200 OK",
    [
        (b"content-type", b"text/event-stream"),
        (b"cache-control", b"no-cache"),
        (b"transfer-encoding", b"chunked"),
        (b"x-request-id", b"req-bench"),
    ],
)
FIRST_EVENT = _chunk({"role": "assistant", "content": "tok0"})
EVENTS = [_chunk({"content": f" tok{i}"}) for i in range(_DISTINCT_EVENTS)]
TAIL = _chunk({}, "stop") + _framed(b"data: [DONE]\n\n") + b"0\r\n\r\n"
COMPLETION_RESPONSE = _completion_response()
NOT_FOUND = _response(b"404 Not Found", [(b"content-length", b"0")])


def event(k: int) -> bytes:
    """The bytes of content chunk ``k`` (chunk 0 also carries the assistant role)."""
    return EVENTS[k % _DISTINCT_EVENTS] if k else FIRST_EVENT


class BenchProtocol(asyncio.Protocol):
    """One keep-alive connection: parse requests, answer them, one at a time."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._busy = False  # a stream is being written; later requests wait in the buffer
        self._timer: asyncio.TimerHandle | None = None
        self._writable: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
        self.resume_writing()

    def pause_writing(self) -> None:
        self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._busy:
            self._parse()

    def _parse(self) -> None:
        while not self._busy and self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].lower()
            length = _content_length(head)
            if len(self._buffer) < end + 4 + length:
                return
            body = self._buffer[end + 4 : end + 4 + length]
            self._buffer = self._buffer[end + 4 + length :]
            self._answer(head, body)

    def _answer(self, head: bytes, body: bytes) -> None:
        transport = self._transport
        assert transport is not None
        request_line = head[: head.find(b"\r\n")]
        if not request_line.startswith(b"post ") or request_line.split(b" ")[1] != ROUTE:
            transport.write(NOT_FOUND)
            return
        params = orjson.loads(body) if body else {}
        if not params.get("stream"):
            transport.write(COMPLETION_RESPONSE)
            return
        chunks = int(params.get("bench_chunks", 8))
        interval = float(params.get("bench_interval", 0.0))
        self._busy = True
        transport.write(STREAM_HEAD)
        if interval > 0:
            self._tick(0, chunks, interval, self._loop.time())
        else:
            self._task = self._loop.create_task(self._burst(chunks))

    def _tick(self, k: int, chunks: int, interval: float, start: float) -> None:
        """Write chunk ``k`` and schedule the next one on the request's own time grid."""
        transport = self._transport
        if transport is None:
            return
        if k < chunks:
            transport.write(event(k))
            self._timer = self._loop.call_at(
                start + (k + 1) * interval, self._tick, k + 1, chunks, interval, start
            )
        else:
            self._timer = None
            self._end_stream()

    async def _burst(self, chunks: int) -> None:
        """All chunks as fast as the client reads them (waits when the socket is full).

        ``BURST_EVENTS`` events (each still its own HTTP chunk) per ``write``: with one
        ``write`` per event the server needs ~4 µs per event, slower than the floor client,
        which then reads one or two events per ``recv`` and its per-chunk CPU swings with the
        race (2.6 to 4.0 µs within one run). Coalesced, every client gets full reads.
        """
        for start in range(0, chunks, BURST_EVENTS):
            transport = self._transport
            if transport is None:
                return
            end = min(chunks, start + BURST_EVENTS)
            transport.write(b"".join(event(k) for k in range(start, end)))
            if self._writable is not None:
                await self._writable
        self._task = None
        self._end_stream()

    def _end_stream(self) -> None:
        if self._transport is None:
            return
        self._transport.write(TAIL)
        self._busy = False
        self._parse()


def _content_length(head: bytes) -> int:
    start = head.find(b"\r\ncontent-length:")
    if start < 0:
        return 0
    start += len(b"\r\ncontent-length:")
    end = head.find(b"\r\n", start)
    return int(head[start : end if end >= 0 else None])


def raise_fd_limit() -> None:
    """1,000 concurrent streams need more than the common soft limit of 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def _serve(port: int, report: Callable[[int], None]) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        BenchProtocol,
        "127.0.0.1",
        port,
        backlog=4096,
        reuse_port=True,  # a second process may share the port (``--server-procs 2``)
        family=socket.AF_INET,
    )
    report(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def serve(conn: Connection, port: int) -> None:
    """Process entry point: serve on 127.0.0.1:``port`` (0: any) and send the port back."""
    raise_fd_limit()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(port, conn.send))


def _await_port(receiver: Connection, process: multiprocessing.process.BaseProcess) -> int:
    deadline = time.monotonic() + 30
    while not receiver.poll(0.1):
        if not process.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the benchmark server did not start (exit code {process.exitcode})")
    port: int = receiver.recv()
    return port


class ServerGroup:
    """One or more server processes sharing a port (``SO_REUSEPORT``)."""

    def __init__(self, processes: int = 1) -> None:
        self._count = processes
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ServerGroup:
        context = multiprocessing.get_context("spawn")
        for _ in range(self._count):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=serve, args=(sender, self.port), daemon=True)
            process.start()
            self.processes.append(process)
            self.port = _await_port(receiver, process)
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join(5)

    def __enter__(self) -> ServerGroup:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
