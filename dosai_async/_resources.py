"""API namespaces: ``client.chat.completions`` and ``client.models``.

Every request parameter is declared once, in ``CompletionParams`` (a ``TypedDict`` used with
``Unpack``), and shared by ``create``, ``stream`` and the helpers built on them: one
signature instead of a forty-parameter one repeated per method. Parameters the caller leaves
out are not sent; ``None`` also means "not sent".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack, overload
from urllib.parse import quote

import attrs

from ._config import RetryPolicy, Timeout
from ._requester import CallOptions, StreamFactory
from ._retry import Deadline
from ._streaming import AsyncStream, AsyncStreamManager
from ._transport import StreamingResponse
from ._types import (
    ChatCompletion,
    ChatCompletionChunk,
    FunctionTool,
    MessageParam,
    Model,
    ModelList,
    ResponseMeta,
)

if TYPE_CHECKING:
    from ._client import AsyncDosAI

DEFAULT_MODEL = "dos-ai"


class RequestOptions(TypedDict, total=False):
    """Per-call transport options (not sent in the body)."""

    timeout: float | Timeout
    max_retries: int
    retry: RetryPolicy
    extra_headers: Mapping[str, str]
    extra_body: Mapping[str, Any]


class CompletionParams(RequestOptions, total=False):
    """Every chat-completion parameter of the DOS docs and the vLLM server behind them."""

    temperature: float
    max_tokens: int
    max_completion_tokens: int
    top_p: float
    frequency_penalty: float
    presence_penalty: float
    stop: str | Sequence[str]
    n: int
    seed: int
    response_format: Mapping[str, Any]
    tools: Sequence[FunctionTool | Mapping[str, Any]]
    tool_choice: str | Mapping[str, Any]
    parallel_tool_calls: bool
    logprobs: bool
    top_logprobs: int
    user: str
    stream_options: Mapping[str, Any]
    # vLLM sampling extras that DOS passes through.
    top_k: int
    min_p: float
    repetition_penalty: float
    chat_template_kwargs: Mapping[str, Any]


_OPTION_KEYS = frozenset(RequestOptions.__annotations__)
_PARAM_KEYS = frozenset(CompletionParams.__annotations__)


class Completions:
    """``client.chat.completions``."""

    def __init__(self, client: AsyncDosAI) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str = ...,
        stream: Literal[False] = ...,
        **params: Unpack[CompletionParams],
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str = ...,
        stream: Literal[True],
        **params: Unpack[CompletionParams],
    ) -> AsyncStream[ChatCompletionChunk]: ...

    @overload
    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str = ...,
        stream: bool,
        **params: Unpack[CompletionParams],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]: ...

    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str = DEFAULT_MODEL,
        stream: bool = False,
        **params: Unpack[CompletionParams],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """Create a chat completion; with ``stream=True``, an ``AsyncStream`` of chunks.

        ``messages`` are plain dicts or this package's message classes. Options:
        ``timeout`` (seconds for the whole call, or a ``Timeout``), ``max_retries`` or
        ``retry`` (a ``RetryPolicy``), ``extra_headers`` and ``extra_body`` (merged into the
        JSON body as is).
        """
        body, options = self._prepare(model, messages, stream, params)
        requester = self._client._requester()
        if not stream:
            return await requester.request_json(
                "POST", "/chat/completions", ChatCompletion, options, body
            )
        return await requester.request_stream(
            "/chat/completions", body, options, _stream_factory(options.timeout)
        )

    def stream(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str = DEFAULT_MODEL,
        **params: Unpack[CompletionParams],
    ) -> AsyncStreamManager[ChatCompletionChunk]:
        """``async with completions.stream(...) as stream``: a stream closed on exit."""

        async def open_stream() -> AsyncStream[ChatCompletionChunk]:
            stream: AsyncStream[ChatCompletionChunk] = await self.create(
                messages=messages, model=model, stream=True, **params
            )
            return stream

        return AsyncStreamManager(open_stream)

    def _prepare(
        self,
        model: str,
        messages: Iterable[MessageParam],
        stream: bool,
        params: Mapping[str, Any],
    ) -> tuple[dict[str, Any], CallOptions]:
        _check_params(params)
        body: dict[str, Any] = {"model": model, "messages": _check_messages(messages)}
        for key, value in params.items():
            if value is not None and key not in _OPTION_KEYS:
                body[key] = value
        if stream:
            body["stream"] = True
        extra = params.get("extra_body")
        if extra:
            body.update(extra)
        return body, self._client._call_options(params)


def _check_params(params: Mapping[str, Any]) -> None:
    if not _PARAM_KEYS.issuperset(params):
        unknown = ", ".join(sorted(set(params) - _PARAM_KEYS))
        raise TypeError(
            f"unexpected keyword argument(s): {unknown}; pass server-specific fields "
            "with extra_body={...}"
        )


def _check_messages(messages: Iterable[MessageParam]) -> list[MessageParam]:
    if isinstance(messages, (str, bytes, Mapping)):
        raise TypeError("messages must be a list of messages, not a single message or string")
    checked = list(messages)
    if not checked:
        raise ValueError("messages must contain at least one message")
    for position, message in enumerate(checked):
        if not isinstance(message, Mapping) and not attrs.has(type(message)):
            raise TypeError(
                f"messages[{position}] must be a dict or a message class such as "
                f"UserMessage, not {type(message).__name__}"
            )
    return checked


def _stream_factory(timeout: Timeout) -> StreamFactory:
    def make(
        response: StreamingResponse, meta: ResponseMeta, deadline: Deadline, sent_at: float
    ) -> AsyncStream[ChatCompletionChunk]:
        return AsyncStream(
            response.body(),
            response.close,
            meta=meta,
            timeout=timeout,
            deadline=deadline,
            sent_at=sent_at,
        )

    return make


class Chat:
    """``client.chat``."""

    def __init__(self, client: AsyncDosAI) -> None:
        self.completions = Completions(client)


class Models:
    """``client.models``: the models the API serves."""

    def __init__(self, client: AsyncDosAI) -> None:
        self._client = client

    async def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        """``GET /models``; the result iterates over ``Model`` objects."""
        call = self._client._call_options(options)
        return await self._client._requester().request_json("GET", "/models", ModelList, call)

    async def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        """``GET /models/{model}``."""
        if not model:
            raise ValueError("model must be a non-empty model id, e.g. 'dos-ai'")
        call = self._client._call_options(options)
        path = "/models/" + quote(model, safe="")
        return await self._client._requester().request_json("GET", path, Model, call)
