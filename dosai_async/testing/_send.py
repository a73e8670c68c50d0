"""Write a ``Plan`` to an aiohttp request: the emulator's only socket I/O.

Plan -> bytes: consecutive pieces without a pause go out in one ``write``, so a zero-latency
reply costs a single ``transport.write`` (a ``web.Response``, chunked for streams). Pauses go
through the ``pause`` callable the server passes in, which raises ``Closing`` when the emulator
shuts down, so a stalled handler ends at once instead of holding up ``close()``.

Resets are real: SO_LINGER 0 then ``transport.abort()`` makes the kernel send a TCP RST. On
Linux the client still reads the bytes that arrived before the RST, then ECONNRESET. A
client that went away mid-write is not an error here: aiohttp raises ConnectionError,
which is caught, so nothing is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, Iterable, Mapping

import attrs
from aiohttp import web

from ._plan import Piece, Plan

__all__ = ["Closing", "Pause", "pause", "send"]

Pause = Callable[[float], Awaitable[None]]
_LINGER_RST = struct.pack("ii", 1, 0)
_FLUSH_POLLS = 200  # x 5 ms: how long to wait for a slow reader before a mid-body reset


class Closing(Exception):
    """The emulator is shutting down; the response in progress is dropped."""


async def send(
    request: web.Request, plan: Plan, headers: Mapping[str, str], pause: Pause
) -> web.StreamResponse:
    """Send ``plan``; returns the response for aiohttp to finish (a no-op once sent)."""
    try:
        await pause(plan.head_delay)
    except Closing:
        plan = attrs.evolve(plan, abort_before_headers=True)
    if plan.abort_before_headers:
        reset(request)
        return web.Response(status=500)  # never reaches the client: the socket is gone
    if _is_whole(plan):
        return _whole(plan, headers)
    return await _paced(request, plan, headers, pause)


async def pause(closed: asyncio.Future[None], seconds: float) -> None:
    """Sleep, unless the emulator closes first (then raise ``Closing``)."""
    if seconds <= 0:
        return
    done, _ = await asyncio.wait((closed,), timeout=seconds)
    if done:
        raise Closing


def reset(request: web.Request) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0)."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    transport.abort()


def _is_whole(plan: Plan) -> bool:
    """True if the plan can leave in one write: no pauses, no cut, honest length."""
    if plan.abort_at_end or plan.stream_pieces or any(p.delay > 0 for p in plan.pieces):
        return False
    return plan.content_length is None or plan.content_length == len(plan.body)


def _whole(plan: Plan, headers: Mapping[str, str]) -> web.Response:
    """The fast path: aiohttp writes headers and body in a single call."""
    response = web.Response(status=plan.status, body=plan.body, headers=headers)
    if plan.content_length is None:
        response.enable_chunked_encoding()
    return response


async def _paced(
    request: web.Request, plan: Plan, headers: Mapping[str, str], pause: Pause
) -> web.StreamResponse:
    """Headers at once, then each batch of pieces after its pause; maybe a reset at the end."""
    response = web.StreamResponse(status=plan.status, headers=headers)
    if plan.content_length is not None:
        response.content_length = plan.content_length
    try:
        await response.prepare(request)
        writes = _writes(plan)
        for delay, data in writes:
            await pause(delay)
            await response.write(data)
        if plan.abort_at_end:
            await _flushed(request)
            reset(request)
        else:
            await response.write_eof()
    except (ConnectionError, Closing):
        reset(request)
    return response


def _writes(plan: Plan) -> list[tuple[float, bytes]]:
    """The writes of a plan: one per piece for ``stream_pieces``, else joined by ``_batches``."""
    if plan.stream_pieces:
        return [(piece.delay, piece.data) for piece in plan.pieces]
    return _batches(plan.pieces)


def _batches(pieces: Iterable[Piece]) -> list[tuple[float, bytes]]:
    """Join pieces into writes: a new write starts at every piece that has a pause."""
    groups: list[tuple[float, list[bytes]]] = []
    for piece in pieces:
        if piece.delay > 0 or not groups:
            groups.append((piece.delay, []))
        groups[-1][1].append(piece.data)
    return [(delay, b"".join(parts)) for delay, parts in groups]


async def _flushed(request: web.Request) -> None:
    """Wait until the kernel took every byte, since an abort drops what is still buffered."""
    transport = request.transport
    for _ in range(_FLUSH_POLLS):
        if transport is None or not transport.get_write_buffer_size():
            return
        await asyncio.sleep(0.005)
