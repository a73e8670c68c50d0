"""Typed, self-closing streams: SSE bytes -> ``ChatCompletionChunk`` -> accumulated result.

This module never sees aiohttp: it gets an async iterator of body bytes and a close
callback. Per read ``SSEDecoder.feed`` (bytes, no re-scan); per chunk, as the consumer asks,
one ``orjson.loads`` -> one generated hook -> ``ChunkAccumulator.add``. No awaits besides the
socket read, no logging, no copies of growing buffers.

Rules (DESIGN.md, "Streaming"):

- ``data: [DONE]`` ends the stream; comments and empty events are skipped.
- ``event: error`` or a payload with a top-level ``error`` raises ``APIStreamError`` (typed
  by the status it names) with the partial result attached.
- EOF without ``[DONE]`` is complete only if every choice has a ``finish_reason``;
  otherwise ``APIConnectionError`` says the stream was cut off (partial attached).
- A body that never produced an event (a JSON error or an HTML page with status 200)
  raises instead of yielding nothing.
- Deadlines: ``first_token`` until the first content, then ``idle`` between data events
  (keep-alive comments never reset it), and ``total`` throughout.
- A stream dropped without ``close()`` (a ``break``, then the object forgotten) closes its
  connection when it is collected: nothing long-lived (the deadline timer included) holds
  the stream strongly, and its ``__del__`` closes the connection (a ``weakref.finalize``
  did, at about 800 bytes and 2 µs a stream). ``async with`` remains the way: it closes at
  a known moment.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Generic, NoReturn, TypeVar

from dosai_async._core._config import Timeout
from dosai_async._core._deadline import Deadline
from dosai_async._core._error_bodies import ResponseErrors
from dosai_async._core._exceptions import (
    APIConnectionError,
    APIStreamError,
    DosAIError,
)
from dosai_async._models import _converter
from dosai_async._models._types import ChatCompletion, ChatCompletionChunk, ResponseMeta

from ._accumulate import ChunkAccumulator
from ._failures import ended_early, not_an_event_stream, too_large
from ._sse import DEFAULT_MAX_EVENT_SIZE, EventTooLarge, ServerSentEvent, SSEDecoder
from ._stats import StreamStats, stream_stats
from ._text import TextDeltas
from ._watchdog import Limit, ReadWatchdog, release_connection, sooner_of, take_over

T = TypeVar("T")

# How much of a body that produced no SSE event is kept to explain what it was instead.
_NON_SSE_PREFIX = 64 * 1024

_NO_EVENTS: list[ServerSentEvent] = []  # never mutated: only ever replaced by a read's events
# The generated hook itself: _on_event catches its failures (one frame less per chunk).
_structure_chunk = _converter.raw_structurer(ChatCompletionChunk)

#: Told what a released stream accumulated, and the error that ended it if one did.
OnRelease = Callable[[ChatCompletion, DosAIError | None], None]


class AsyncStream(Generic[T]):
    """An async iterator of ``ChatCompletionChunk`` over one open HTTP response.

    Closes its connection when exhausted, on ``await stream.close()``, on leaving
    ``async with``, and when the consuming task is cancelled. ``text()`` yields the content
    deltas of choice 0; ``final()`` drains the stream and returns the accumulated
    ``ChatCompletion``; ``stats`` has time to first token, gaps and tokens per second.

    Use ``async with``: a stream dropped unclosed (a ``break``, then forgotten) is closed
    too, but only when the garbage collector frees it.
    """

    # Slots, no __dict__: S3 holds a thousand open streams at once.
    __slots__ = (
        "__weakref__",
        "_acc",
        "_body",
        "_close",
        "_closed",
        "_deadline",
        "_decoder",
        "_done",
        "_error",
        "_events",
        "_first_content_at",
        "_last_event_at",
        "_loop",
        "_max_gap",
        "_on_release",
        "_pending",
        "_prefix",
        "_read_at",
        "_read_events",
        "_read_index",
        "_secret",
        "_sent_at",
        "_timeout",
        "_watchdog",
        "response",
    )

    def __init__(
        self,
        body: AsyncIterator[bytes],
        close: Callable[[], None],
        *,
        meta: ResponseMeta,
        timeout: Timeout,
        deadline: Deadline,
        sent_at: float,
        secret: str = "",
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        watchdog: ReadWatchdog | None = None,
    ) -> None:
        self._closed = False  # first: __del__ reads it even if __init__ fails
        self.response = meta
        self._secret = secret  # the API key, masked in any error this stream raises
        self._body = body
        self._timeout = timeout
        self._deadline = deadline
        self._decoder = SSEDecoder(max_event_size)
        self._acc = ChunkAccumulator()
        # The latest read's events, structured one at a time as the consumer asks: a read of
        # 1,000 events makes no 1,000 live chunks for the GC to promote. An index, no pop(0).
        self._read_events: list[ServerSentEvent] = []
        self._read_index = 0
        self._read_at = sent_at  # when the latest read arrived (its events share the time)
        # Chunks structured ahead of the consumer: only priming makes them (a few at most).
        self._pending: list[ChatCompletionChunk] = []
        self._sent_at = sent_at
        self._first_content_at: float | None = None
        self._last_event_at = sent_at
        self._max_gap = 0.0
        self._events = 0
        self._prefix = b""
        self._done = False  # [DONE] seen or the body ended cleanly
        self._error: DosAIError | None = None
        self._on_release: OnRelease | None = None  # see on_release()
        # Woken no later than ``idle`` from now: the deadline that replaces first_token at
        # the first content is never sooner, so that moment re-arms no timer.
        self._watchdog = take_over(watchdog, _weak_limit(self), soonest=timeout.idle)
        # Closes the connection once: from _release, or from __del__ if dropped unclosed.
        self._loop = asyncio.get_running_loop()
        self._close = close

    # -- public surface --------------------------------------------------------------

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id`` for this stream."""
        return self.response.request_id

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        if self._pending:
            return self._pending.pop(0)  # type: ignore[return-value]
        while True:
            chunk = self._next_chunk()
            if chunk is not None:
                return chunk  # type: ignore[return-value]
            if self._error is not None:
                raise self._error
            if self._done or self._closed:
                self._release()
                raise StopAsyncIteration
            await self._read_more()

    async def close(self) -> None:
        """Close the connection now; safe to call more than once."""
        self._release()

    aclose = close

    def text(self) -> AsyncIterator[str]:
        """The content deltas of choice 0, as strings, as they arrive."""
        return TextDeltas(self)  # type: ignore[arg-type]

    async def final(self) -> ChatCompletion:
        """Read the rest of the stream and return the accumulated ``ChatCompletion``."""
        async for _ in self:
            pass
        if not self._done:
            raise DosAIError(
                "The stream was closed before it finished; "
                "stream.snapshot() holds what arrived until then."
            )
        return self.snapshot()

    def snapshot(self) -> ChatCompletion:
        """Everything accumulated so far, as a ``ChatCompletion`` (cheap, any time)."""
        return self._acc.snapshot(self.response)

    @property
    def stats(self) -> StreamStats:
        """Time to first token, chunk count, gaps between chunks and tokens per second."""
        return stream_stats(
            self._acc,
            sent=self._sent_at,
            first=self._first_content_at,
            last=self._last_event_at,
            max_gap=self._max_gap,
        )

    # -- reading ---------------------------------------------------------------------

    async def _prime(self) -> None:
        """Read until the first content (or the end) so retries can happen before it."""
        # A failure raises: nothing reached the caller yet, so the retry policy decides.
        try:
            while self._first_content_at is None and not self._done:
                chunk = self._next_chunk()
                if chunk is not None:
                    self._pending.append(chunk)
                elif not self._done:
                    await self._read_more()
        except BaseException:
            self._release()
            raise

    def _next_chunk(self) -> ChatCompletionChunk | None:
        """Structure the latest read's events up to its next chunk; None when none is left."""
        events, index = self._read_events, self._read_index
        try:
            while index < len(events) and not self._done:
                chunk = self._on_event(events[index])
                index += 1
                if chunk is not None:
                    return chunk
        except DosAIError as exc:
            index += 1  # the event that failed is consumed: it raises once
            self._fail(exc)
        finally:
            self._read_index = index
        # The read is used up: hold none of its events while waiting for the next one.
        self._read_events = _NO_EVENTS
        return None

    async def _read_more(self) -> None:
        try:
            data = await self._read()
            if data is None:
                self._on_end()
            else:
                self._on_bytes(data)
        except DosAIError as exc:
            self._fail(exc)
        except BaseException:
            self._release()  # cancelled: drop the connection so the server stops
            raise

    def _fail(self, exc: DosAIError) -> NoReturn:
        """Close, attach the partial result, and raise (again on every later ``__anext__``)."""
        self._read_events = []  # what followed the failure in its read is never yielded
        self._error = self._with_partial(exc)  # before _release: on_release reports it
        self._release()
        raise self._error from exc.__cause__

    async def _read(self) -> bytes | None:
        return await self._watchdog.read(self._body)

    def _read_limit(self) -> tuple[float | None, str]:
        timeout, now = self._timeout, time.monotonic()
        if self._first_content_at is None:
            own, name = timeout.first_token, "first_token"
            left = None if own is None else self._sent_at + own - now
        else:
            own, name = timeout.idle, "idle"
            left = None if own is None else self._last_event_at + own - now
        return sooner_of(left, name, self._deadline)

    def _on_bytes(self, data: bytes) -> None:
        if not self._events:  # kept to describe a body that is no event stream, if it is not
            if len(self._prefix) < _NON_SSE_PREFIX:
                self._prefix += data[:_NON_SSE_PREFIX]
        elif self._prefix:
            self._prefix = b""  # it is one: no stream holds its first read to the end
        try:
            self._read_events, self._read_index = self._decoder.feed(data), 0
        except EventTooLarge as exc:
            raise too_large(exc) from exc
        self._read_at = time.monotonic()  # events of one read arrived together: one clock read

    def _on_event(self, event: ServerSentEvent) -> ChatCompletionChunk | None:
        self._events += 1
        kind, data = event.event, event.data
        if kind != "message":
            if kind == "error":
                raise self._errors().in_band(data)
            return None
        if not data:
            return None
        if data == "[DONE]":
            self._done = True
            return None
        try:
            payload = _converter.loads(data)
        except _converter.JSONDecodeError:
            raise self._errors().invalid(
                "a stream event is not valid JSON", data, quote=200
            ) from None
        if type(payload) is dict and "error" in payload and payload["error"] is not None:
            raise self._errors().in_band(data)
        try:  # free until it raises (3.11 zero-cost try)
            chunk = _structure_chunk(payload)
        except Exception as exc:  # rebuilt from the event's text: masked
            error = _converter.validation_error(payload, ChatCompletionChunk, exc)
            raise self._errors().invalid(error.message, data, errors=error.errors) from None
        # The chunk's bookkeeping, inline: this runs once per event.
        now = self._read_at
        gap = now - self._last_event_at
        if gap > self._max_gap and self._first_content_at is not None:
            self._max_gap = gap
        self._last_event_at = now
        if self._acc.add(chunk) and self._first_content_at is None:
            self._first_content_at = now  # idle replaces first_token (see the watchdog)
        return chunk

    def _on_end(self) -> None:
        self._decoder.flush()  # an unterminated last event is discarded (WHATWG)
        if self._acc.all_finished():
            self._done = True
            return
        if not self._events and self._decoder.data_seen:
            raise not_an_event_stream(self._prefix, self._errors())
        raise ended_early(self._events, started=self._first_content_at is not None)

    def _errors(self) -> ResponseErrors:
        """Where this stream's bytes become errors (built only when one is raised)."""
        meta = self.response
        return ResponseErrors(meta.status_code, meta.headers, meta.request_id, self._secret)

    def _with_partial(self, exc: DosAIError) -> DosAIError:
        partial = self.snapshot()
        exc.partial = partial  # type: ignore[attr-defined]
        if isinstance(exc, (APIConnectionError, APIStreamError)):
            # Before any content a failure is safe to retry: nothing reached the caller.
            exc.response_started = self._first_content_at is not None
        return exc

    def __del__(self) -> None:
        # Dropped unclosed (a break, then forgotten): close the connection, on its loop.
        if not self._closed and hasattr(self, "_close"):
            self._closed = True
            release_connection(self._loop, self._watchdog, self._close)

    def _release(self) -> None:
        if not self._closed:
            self._closed = True
            release_connection(self._loop, self._watchdog, self._close)
            if self._on_release is not None:
                self._on_release(self.snapshot(), self._error)


def _weak_limit(stream: AsyncStream[Any]) -> Limit:
    """``stream._read_limit`` through a weak reference: the watchdog's timer outlives reads,
    and must not keep a stream that its consumer dropped alive (and its connection open)."""
    method = weakref.WeakMethod(stream._read_limit)

    def limit() -> tuple[float | None, str]:
        read_limit = method()
        return (None, "total") if read_limit is None else read_limit()

    return limit


def on_release(stream: AsyncStream[Any], callback: OnRelease) -> None:
    """Call ``callback(snapshot, error)`` once the stream is released (now, if it was).

    The requester ends a call's span there: a stream's call lasts until its stream ends.
    """
    if stream._closed:
        callback(stream.snapshot(), stream._error)
    else:
        stream._on_release = callback


def prime(stream: AsyncStream[Any]) -> Coroutine[Any, Any, None]:
    """Read ``stream`` up to its first content, inside the requester's retry loop (await it).

    A function, not a public method: priming is the requester's business, not the user's.
    A failure closes the stream and is raised for the retry policy to judge. It hands back the
    stream's own coroutine: no frame of its own on the way to the first token.
    """
    return stream._prime()
