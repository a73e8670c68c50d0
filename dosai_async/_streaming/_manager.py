"""``async with ... as stream``: the one context manager for plain and parsed streams.

``StreamManager`` opens a stream on entry and closes it on exit, whatever the stream's type;
``AsyncStreamManager`` (``completions.stream()``) and ``ParsedStreamManager``
(``completions.stream_parse()``, in ``_structured``) only name its type parameter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from ._stream import AsyncStream

T = TypeVar("T")


class Closable(Protocol):
    """A stream: something with an async ``close()``."""

    async def close(self) -> Any: ...


S = TypeVar("S", bound=Closable)


class StreamManager(Generic[S]):
    """Opens a stream on ``async with`` and closes it on leaving the block."""

    def __init__(self, opener: Callable[[], Awaitable[S]]) -> None:
        self._opener = opener
        self._stream: S | None = None

    async def __aenter__(self) -> S:
        self._stream = await self._opener()
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            await self._stream.close()


class AsyncStreamManager(StreamManager[AsyncStream[T]]):
    """``async with client.chat.completions.stream(...) as stream``: opens, then closes."""
