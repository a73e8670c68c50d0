"""What ``completions.with_raw_response`` and ``.with_streaming_response`` return, for mypy.

The behaviour is ``_raw``'s, for every method; these classes only declare the result type
of ``create`` per ``stream`` value, which a generic wrapper cannot carry through overloads.
Other methods (``parse``...) work too, typed as ``RawResponse[Any]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload

from dosai_async._models._params import CompletionParams
from dosai_async._models._types import ChatCompletion, ChatCompletionChunk, MessageParam
from dosai_async._streaming._stream import AsyncStream

from ._raw import RawResponse, RawResponseManager, RawResponses, StreamingResponses

Streamed = AsyncStream[ChatCompletionChunk]


class CompletionsWithRawResponse(RawResponses):
    """``client.chat.completions.with_raw_response``."""

    if TYPE_CHECKING:

        @overload
        async def create(
            self,
            *,
            messages: Iterable[MessageParam],
            model: str = ...,
            stream: Literal[False] = ...,
            **params: Unpack[CompletionParams],
        ) -> RawResponse[ChatCompletion]: ...

        @overload
        async def create(
            self,
            *,
            messages: Iterable[MessageParam],
            model: str = ...,
            stream: Literal[True],
            **params: Unpack[CompletionParams],
        ) -> RawResponse[Streamed]: ...

        @overload
        async def create(
            self,
            *,
            messages: Iterable[MessageParam],
            model: str = ...,
            stream: bool,
            **params: Unpack[CompletionParams],
        ) -> RawResponse[ChatCompletion | Streamed]: ...

        async def create(self, **params: Any) -> RawResponse[Any]: ...


class CompletionsWithStreamingResponse(StreamingResponses):
    """``client.chat.completions.with_streaming_response``."""

    if TYPE_CHECKING:

        @overload
        def create(
            self,
            *,
            messages: Iterable[MessageParam],
            model: str = ...,
            stream: Literal[False] = ...,
            **params: Unpack[CompletionParams],
        ) -> RawResponseManager[ChatCompletion]: ...

        @overload
        def create(
            self,
            *,
            messages: Iterable[MessageParam],
            model: str = ...,
            stream: Literal[True],
            **params: Unpack[CompletionParams],
        ) -> RawResponseManager[Streamed]: ...

        @overload
        def create(
            self,
            *,
            messages: Iterable[MessageParam],
            model: str = ...,
            stream: bool,
            **params: Unpack[CompletionParams],
        ) -> RawResponseManager[ChatCompletion | Streamed]: ...

        def create(self, **params: Any) -> RawResponseManager[Any]: ...
