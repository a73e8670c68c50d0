"""``stream.text()``: the content deltas of choice 0, as strings (its own module: the stream
module is at its size limit)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dosai_async._models._types import ChatCompletionChunk


class TextDeltas:
    """Content strings of choice 0 (a class, so nothing to finalize)."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: AsyncIterator[ChatCompletionChunk]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> TextDeltas:
        return self

    async def __anext__(self) -> str:
        async for chunk in self._chunks:
            for choice in chunk.choices:
                if choice.index == 0 and choice.delta.content:
                    return choice.delta.content
        raise StopAsyncIteration
