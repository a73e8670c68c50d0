"""``client.chat.completions``: create, stream, parse, tools and batch over one ``_prepare``.

Every request parameter is declared once, in ``_params`` (``TypedDict`` classes used with
``Unpack``), and shared by ``create``, ``stream`` and the helpers built on them: one
declaration instead of a forty-parameter signature repeated per method. Parameters the caller leaves
out are not sent; ``None`` also means "not sent".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, NoReturn, Unpack, overload

import attrs

from dosai_async._batch._fanout import Batch, BatchCallback, BatchParams, BatchRequests
from dosai_async._core._config import RetryPolicy, Timeout
from dosai_async._core._deadline import Deadline
from dosai_async._core._transport import StreamingResponse
from dosai_async._models._params import (
    OPTION_KEYS,
    PARAM_KEYS,
    CompletionParams,
    ParseParams,
    ToolRunParams,
)
from dosai_async._models._types import (
    ChatCompletion,
    ChatCompletionChunk,
    MessageParam,
    ResponseMeta,
)
from dosai_async._requester import CallOptions, StreamFactory
from dosai_async._streaming._manager import AsyncStreamManager
from dosai_async._streaming._sse import DEFAULT_MAX_EVENT_SIZE
from dosai_async._streaming._stream import AsyncStream
from dosai_async._streaming._watchdog import ReadWatchdog
from dosai_async._structured._output import ParsedChatCompletion, ParsedStreamManager, ParsedT
from dosai_async._structured._output import parse as _parse
from dosai_async._structured._output import stream_parse as _stream_parse
from dosai_async._structured._tool_params import wire_params
from dosai_async._structured._tools import ToolErrorMode, ToolRunResult
from dosai_async._structured._tools import run_tools as _run_tools

from ._base import CallOptionsFn, RequesterFn
from ._chat_raw import CompletionsWithRawResponse, CompletionsWithStreamingResponse

DEFAULT_MODEL = "dos-ai"


class Completions:
    """``client.chat.completions``."""

    def __init__(
        self,
        requester: RequesterFn,
        call_options: CallOptionsFn,
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self._requester = requester
        self._call_options = call_options
        self._max_event_size = max_event_size
        # The stream factory of the last timeout seen: calls share the client's Timeout, so
        # one factory serves them all instead of a new closure per stream.
        self._factory: tuple[Timeout | None, StreamFactory | None] = (None, None)

    @property
    def with_raw_response(self) -> CompletionsWithRawResponse:
        """Each method returning a ``RawResponse`` (headers, status, ``parse()``)."""
        return CompletionsWithRawResponse(self)

    @property
    def with_streaming_response(self) -> CompletionsWithStreamingResponse:
        """Each method as ``async with``: the ``AsyncRawResponse``, its stream closed on exit."""
        return CompletionsWithStreamingResponse(self)

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
        requester = self._requester()
        if not stream:
            return await requester.request_json(
                "POST", "/chat/completions", ChatCompletion, options, body
            )
        timeout, factory = self._factory
        if factory is None or timeout is not options.timeout:
            factory = _stream_factory(options.timeout, self._max_event_size)
            self._factory = (options.timeout, factory)
        return await requester.request_stream("/chat/completions", body, options, factory)

    def stream(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str = DEFAULT_MODEL,
        **params: Unpack[CompletionParams],
    ) -> AsyncStreamManager[ChatCompletionChunk]:
        """``async with completions.stream(...) as stream``: a stream closed on exit."""

        async def open_stream() -> AsyncStream[ChatCompletionChunk]:
            return await self._open_stream(messages=messages, model=model, **params)

        return AsyncStreamManager(open_stream)

    def batch(
        self,
        requests: BatchRequests,
        *,
        on_result: BatchCallback | None = None,
        **pacing: Unpack[BatchParams],
    ) -> Batch:
        """Send many requests concurrently, paced as one batch (see ``Batch``).

        ``requests`` is an iterable or async iterable of ``create`` keyword mappings, pulled
        lazily. ``await`` the batch for one ``ChatCompletion | DosAIError`` per request in
        input order, or ``async for item in batch`` for ``BatchItem`` objects as they finish.
        At most ``concurrency`` requests are in flight; a 429 or 503 pauses the whole batch
        for the server's ``Retry-After`` and halves the concurrency, which then recovers;
        ``requests_per_minute`` and ``tokens_per_minute`` cap the pace on this side.

        Each item is sent at most ``max_retries + 1`` times (the client's retry policy, or
        the request's own ``max_retries``), throttles included: every 429 or 503 counts as
        an attempt even though its wait is the batch's pause, so an item the server always
        refuses ends as a ``RateLimitError`` after that many sends. Only an item's first
        throttle halves the concurrency, so a few such items do not slow the others down.
        """
        return Batch(self.create, self._retry_policy, requests, on_result=on_result, **pacing)

    @overload
    async def parse(
        self,
        *,
        messages: Iterable[MessageParam],
        response_format: type[ParsedT],
        model: str = ...,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[ParsedT]: ...

    @overload
    async def parse(
        self,
        *,
        messages: Iterable[MessageParam],
        response_format: Mapping[str, Any],
        model: str = ...,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[Any]: ...

    async def parse(
        self,
        *,
        messages: Iterable[MessageParam],
        response_format: type[ParsedT] | Mapping[str, Any],
        model: str = DEFAULT_MODEL,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[ParsedT] | ParsedChatCompletion[Any]:
        """Ask for JSON that fits ``response_format``; ``choices[i].message.parsed`` holds it.

        An attrs class is sent as a strict ``json_schema`` response format and ``parsed`` is an
        instance of it; a mapping (``{"type": "json_object"}`` or your own ``json_schema``
        format) is sent as is and ``parsed`` is the decoded JSON. ``parsed`` is ``None`` when
        the model refused (``message.refusal`` says why) or called tools. Content that is not
        JSON, or does not fit, raises ``StructuredOutputError``.
        """
        return await _parse(
            self.create, messages=messages, model=model, response_format=response_format, **params
        )

    @overload
    def stream_parse(
        self,
        *,
        messages: Iterable[MessageParam],
        response_format: type[ParsedT],
        model: str = ...,
        **params: Unpack[ParseParams],
    ) -> ParsedStreamManager[ParsedT]: ...

    @overload
    def stream_parse(
        self,
        *,
        messages: Iterable[MessageParam],
        response_format: Mapping[str, Any],
        model: str = ...,
        **params: Unpack[ParseParams],
    ) -> ParsedStreamManager[Any]: ...

    def stream_parse(
        self,
        *,
        messages: Iterable[MessageParam],
        response_format: type[ParsedT] | Mapping[str, Any],
        model: str = DEFAULT_MODEL,
        **params: Unpack[ParseParams],
    ) -> ParsedStreamManager[ParsedT] | ParsedStreamManager[Any]:
        """``parse()`` streamed: ``async with completions.stream_parse(...) as stream``.

        Iterate ``stream`` (chunks) or ``stream.text()`` (the JSON text as it arrives), then
        ``await stream.final()`` for the ``ParsedChatCompletion`` or
        ``await stream.final_parsed()`` for the first choice's parsed object.
        """
        return _stream_parse(
            self._open_stream,
            messages=messages,
            model=model,
            response_format=response_format,
            **params,
        )

    async def run_tools(
        self,
        *,
        messages: Iterable[MessageParam],
        tools: Iterable[Callable[..., Any]],
        model: str = DEFAULT_MODEL,
        max_rounds: int = 8,
        on_tool_error: ToolErrorMode = "report",
        **params: Unpack[ToolRunParams],
    ) -> ToolRunResult:
        """Let the model call Python functions until it answers; returns a ``ToolRunResult``.

        ``tools`` are plain functions (sync or async; schemas from their signatures and
        docstrings) or ``tool(f, ...)`` specs. Each round asks the model, runs the calls it
        makes (concurrently), and sends back ``tool`` messages. Failed calls are reported to
        the model unless ``on_tool_error="raise"``. If it still asks for tools in reply to
        request number ``max_rounds``, ``ToolRoundLimitError`` is raised. ``tool_choice``
        ("required" or a named function) forces the first round only; ``parallel_tool_calls``
        and the other parameters pass through.
        """
        return await _run_tools(
            self.create,
            messages=messages,
            tools=tools,
            model=model,
            max_rounds=max_rounds,
            on_tool_error=on_tool_error,
            **params,
        )

    def _prepare(
        self,
        model: str,
        messages: Iterable[MessageParam],
        stream: bool,
        params: Mapping[str, Any],
    ) -> tuple[dict[str, Any], CallOptions]:
        if not PARAM_KEYS.issuperset(params):
            _unknown_params(params)
        if "response_format" in params or "tools" in params:
            params = wire_params(params)  # classes and tool specs in their wire form
        body: dict[str, Any] = {"model": model, "messages": _check_messages(messages)}
        for key, value in params.items():
            if value is not None and key not in OPTION_KEYS:
                body[key] = value
        if stream:
            body["stream"] = True
        extra = params.get("extra_body")
        if extra:
            body.update(extra)
        return body, self._call_options(params)

    async def _open_stream(
        self, *, messages: Iterable[MessageParam], model: str, **params: Any
    ) -> AsyncStream[ChatCompletionChunk]:
        stream: AsyncStream[ChatCompletionChunk] = await self.create(
            messages=messages, model=model, stream=True, **params
        )
        return stream

    def _retry_policy(self, params: Mapping[str, Any]) -> RetryPolicy:
        return self._call_options(params).retry


def _unknown_params(params: Mapping[str, Any]) -> NoReturn:
    unknown = ", ".join(sorted(set(params) - PARAM_KEYS))
    raise TypeError(
        f"unexpected keyword argument(s): {unknown}; pass server-specific fields "
        "with extra_body={...}"
    )


def _check_messages(messages: Iterable[MessageParam]) -> list[MessageParam]:
    # The usual call, a list of plain dicts, skips the ABC checks (~1 µs a request) and is
    # sent as it is: the body is serialized before anything awaits, so no copy is needed.
    if messages.__class__ is list and messages:
        for message in messages:
            if message.__class__ is not dict:
                break
        else:
            return messages
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


def _stream_factory(timeout: Timeout, max_event_size: int | None) -> StreamFactory:
    def make(
        response: StreamingResponse,
        meta: ResponseMeta,
        deadline: Deadline,
        sent_at: float,
        secret: str,
        watchdog: ReadWatchdog,
    ) -> AsyncStream[ChatCompletionChunk]:
        return AsyncStream(
            response.body(),
            response.close,
            meta=meta,
            timeout=timeout,
            deadline=deadline,
            sent_at=sent_at,
            secret=secret,
            max_event_size=max_event_size,
            watchdog=watchdog,
        )

    return make


class Chat:
    """``client.chat``."""

    def __init__(
        self,
        requester: RequesterFn,
        call_options: CallOptionsFn,
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self.completions = Completions(requester, call_options, max_event_size=max_event_size)
