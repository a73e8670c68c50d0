"""Structured outputs: ask for JSON that fits an attrs class, get an instance of it back.

Plan: ``parse()`` is ``create()`` plus two pure steps around it, so it reuses the whole
request pipeline (retries, deadlines, error mapping) unchanged:

1. ``output_parser(response_format, tools)`` decides what to send (a class, of any kind
   ``_user_types`` takes, becomes a strict ``json_schema`` response format; a
   ``{"type": "json_object"}`` or ``json_schema`` mapping is sent as given; tool objects
   become wire dicts) and how to read the answer back;
2. ``OutputParser.parse_completion`` copies the ``ChatCompletion`` into a
   ``ParsedChatCompletion`` whose messages carry ``parsed``: an instance of the class, or the
   decoded JSON in JSON mode; tool calls carry ``function.parsed_arguments``.

Decisions:

- The parsed types subclass the plain ones (as in the OpenAI SDK), so a
  ``ParsedChatCompletion`` goes wherever a ``ChatCompletion`` does.
- A refusal is not an error: ``message.refusal`` holds the model's text and ``parsed`` is
  ``None``. Check ``message.refusal`` (or ``parsed is None``) before using ``parsed``. A
  message that called tools instead of answering also has ``parsed=None``.
- Content that is not JSON, or does not fit the class, raises ``StructuredOutputError`` with
  the raw ``content`` and the field paths; when ``finish_reason`` is ``length`` the message
  says the output was cut off by ``max_tokens``.
- Strict schemas make defaulted fields of attrs classes, dataclasses and TypedDicts
  nullable, so the model sends ``null`` to mean "the default". ``normalize`` drops those
  nulls (when the field's type does not itself accept ``None``) and keys the class does not
  have, before the package converter structures. Pydantic models validate themselves.
- Tool calls of tools given as ``pydantic_function_tool(Model)``, as a class or as a
  ``tool(f)`` spec get ``parsed_arguments`` (see ``ParsedFunction``); arguments that do not
  fit raise ``ToolArgumentsError``.
- Streaming: ``stream_parse()`` opens an ordinary stream; ``final()`` parses the accumulated
  completion once the stream ends (partial objects are not parsed while it runs).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar, Unpack

import attrs

from dosai_async._core._exceptions import PUBLIC_MODULE, ResponseValidationError
from dosai_async._models import _converter
from dosai_async._models._params import CreateFn, ParseParams, StructuredInstance
from dosai_async._models._types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    MessageParam,
)
from dosai_async._streaming._manager import StreamManager
from dosai_async._streaming._stats import StreamStats
from dosai_async._streaming._stream import AsyncStream

from ._parsed import (
    ParsedChatCompletion,
    ParsedChatCompletionMessage,
    ParsedChoice,
    ParsedFunction,
    ParsedFunctionToolCall,
)
from ._tool_params import ArgumentsParser, argument_parsers, response_format_param, wire_tools
from ._user_types import KINDS, UserType, user_type

__all__ = [
    "OutputParser",
    "ParseParams",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedStream",
    "ParsedStreamManager",
    "ParsedT",
    "StructuredOutputError",
    "output_parser",
    "parse",
    "stream_parse",
]

T = TypeVar("T")
#: Opens a chunk stream: ``create(stream=True, ...)`` with ``stream`` left out.
OpenStreamFn = Callable[..., Awaitable[AsyncStream[ChatCompletionChunk]]]
#: The parsed type of ``parse(response_format=SomeClass)``, for signatures elsewhere.
ParsedT = TypeVar("ParsedT", bound=StructuredInstance)


# --- results -----------------------------------------------------------------------------


class StructuredOutputError(ResponseValidationError):
    """The model's content is not JSON, or does not fit the requested class.

    ``content`` is the raw text, ``finish_reason`` why generation stopped (``"length"``: cut
    off by ``max_tokens``), ``errors`` the converter's findings (``"... @ Weather.temp"``),
    ``path`` the first field path among them, and ``completion`` the whole response.
    """

    __module__ = PUBLIC_MODULE

    def __init__(
        self,
        message: str,
        *,
        content: str | None,
        finish_reason: str | None = None,
        errors: Sequence[str] = (),
        completion: ChatCompletion | None = None,
    ) -> None:
        super().__init__(message, body=content)
        self.content = content
        self.finish_reason = finish_reason
        self.errors = tuple(errors)
        self.path = next((e.rpartition(" @ ")[2] for e in self.errors if " @ " in e), None)
        self.completion = completion


# --- parsing -----------------------------------------------------------------------------


@attrs.frozen
class OutputParser(Generic[T]):
    """How to ask for structured output (``request_format``) and how to read it back.

    ``kind`` is the user's class to validate into, or ``None`` to keep the decoded JSON;
    ``name`` names the expected output in error messages; ``tools`` reads tool calls'
    arguments, by tool name.
    """

    request_format: Mapping[str, Any]
    kind: UserType[T] | None
    name: str
    tools: Mapping[str, ArgumentsParser] = attrs.field(factory=dict)

    def parse_completion(self, completion: ChatCompletion) -> ParsedChatCompletion[T]:
        """Copy ``completion`` into a ``ParsedChatCompletion``, parsing every choice."""
        choices = [self._parse_choice(choice, completion) for choice in completion.choices]
        return ParsedChatCompletion(**_fields(completion, choices=choices))

    def parse_content(
        self,
        content: str | None,
        finish_reason: str | None = None,
        completion: ChatCompletion | None = None,
    ) -> T:
        """The content as ``T``; raises ``StructuredOutputError`` when it is not."""
        fail = functools.partial(
            StructuredOutputError,
            content=content,
            finish_reason=finish_reason,
            completion=completion,
        )
        if not content or not content.strip():
            raise fail(f"the model returned no content for {self.name}{_cut(finish_reason)}")
        try:
            data = _converter.loads(content)
        except _converter.JSONDecodeError as exc:
            reason = _cut(finish_reason) or f" ({exc})"
            raise fail(f"the model's content is not valid JSON{reason}: {_excerpt(content)}")
        return self._structure(data, content, fail)

    def _structure(self, data: Any, text: str, fail: Callable[..., StructuredOutputError]) -> T:
        if self.kind is None:
            return typing.cast(T, data)
        try:
            return self.kind.validate(data, text)
        except ResponseValidationError as exc:
            errors = list(exc.errors)
            message = f"the model's JSON does not fit {self.name}: {'; '.join(errors)}"
            raise fail(message, errors=errors) from None

    def _parse_choice(self, choice: Choice, completion: ChatCompletion) -> ParsedChoice[T]:
        message = choice.message
        parsed = None
        if not _declined(message):
            parsed = self.parse_content(message.content, choice.finish_reason, completion)
        calls = message.tool_calls and [self._parse_call(call) for call in message.tool_calls]
        new_message = ParsedChatCompletionMessage[T](
            **_fields(message, parsed=parsed, tool_calls=calls)
        )
        return ParsedChoice(**_fields(choice, message=new_message))

    def _parse_call(self, call: ChatCompletionMessageToolCall) -> ParsedFunctionToolCall:
        parse = self.tools.get(call.function.name)
        parsed = parse(call.function.arguments) if parse is not None else None
        function = ParsedFunction(**_fields(call.function, parsed_arguments=parsed))
        return ParsedFunctionToolCall(**_fields(call, function=function))


def output_parser(
    response_format: type[T] | Mapping[str, Any], tools: Iterable[Any] = ()
) -> OutputParser[T]:
    """The parser for a user's class (strict JSON schema) or a JSON response-format mapping.

    ``tools`` are the request's tools, whose calls get ``parsed_arguments``.
    """
    if isinstance(response_format, Mapping):
        parser = typing.cast(OutputParser[T], _mapping_parser(response_format))
    elif isinstance(response_format, type):
        parser = typing.cast(OutputParser[T], _class_parser(typing.cast(Any, response_format)))
    else:
        raise TypeError(
            f"response_format must be {KINDS}, or a mapping such as "
            f'{{"type": "json_object"}}, not {response_format!r}'
        )
    parsers = argument_parsers(tools)
    return attrs.evolve(parser, tools=parsers) if parsers else parser


@functools.lru_cache(maxsize=256)
def _class_parser(cls: Any) -> OutputParser[Any]:
    # Cached: the schema of a class never changes, and building it walks every field.
    kind = user_type(cls)
    return OutputParser(response_format_param(cls), kind, kind.name)


def _mapping_parser(response_format: Mapping[str, Any]) -> OutputParser[Any]:
    kind = response_format.get("type")
    if kind not in ("json_object", "json_schema"):
        raise ValueError(
            'parse() needs JSON output: response_format type "json_object" or "json_schema", '
            f"not {kind!r}"
        )
    spec = response_format.get("json_schema")
    name = spec.get("name") if isinstance(spec, Mapping) else None
    return OutputParser(response_format, None, name or "a JSON value")


def _declined(message: ChatCompletionMessage) -> bool:
    """A refusal, or tool calls instead of an answer: nothing to parse, and no error."""
    return bool(message.refusal) or (bool(message.tool_calls) and not message.content)


def _fields(obj: Any, **changes: Any) -> dict[str, Any]:
    """Constructor arguments that copy ``obj`` (extras and response metadata included)."""
    return attrs.asdict(obj, recurse=False) | changes


def _cut(finish_reason: str | None) -> str:
    if finish_reason == "length":
        return " (the output was cut off by max_tokens; raise max_tokens and retry)"
    return ""


def _excerpt(content: str, limit: int = 200) -> str:
    return repr(content if len(content) <= limit else content[:limit] + "...")


# --- the client calls --------------------------------------------------------------------


async def parse(
    create: CreateFn,
    *,
    messages: Iterable[MessageParam],
    model: str,
    response_format: type[T] | Mapping[str, Any],
    **params: Unpack[ParseParams],
) -> ParsedChatCompletion[T]:
    """``create()`` with the structured response format, then parse the answer."""
    parser, params = _prepare(response_format, params)
    completion = await create(
        messages=messages, model=model, response_format=parser.request_format, **params
    )
    return parser.parse_completion(completion)


def _prepare(
    response_format: type[T] | Mapping[str, Any], params: ParseParams
) -> tuple[OutputParser[T], ParseParams]:
    """The parser, and ``params`` with the tools in their wire form (read once, if lazy)."""
    tools = params.get("tools")
    if tools is None:
        return output_parser(response_format), params
    given = list(tools)
    wired = params.copy()
    wired["tools"] = wire_tools(given)
    return output_parser(response_format, given), wired


def stream_parse(
    open_stream: OpenStreamFn,
    *,
    messages: Iterable[MessageParam],
    model: str,
    response_format: type[T] | Mapping[str, Any],
    **params: Unpack[ParseParams],
) -> ParsedStreamManager[T]:
    """A streamed ``parse()``: ``async with`` gives a ``ParsedStream``."""
    parser, params = _prepare(response_format, params)  # fails before any request is made

    async def open_parsed() -> ParsedStream[T]:
        stream = await open_stream(
            messages=messages,
            model=model,
            response_format=parser.request_format,
            **params,
        )
        return ParsedStream(stream, parser)

    return ParsedStreamManager(open_parsed)


class ParsedStream(Generic[T]):
    """A chunk stream whose ``final()`` returns a ``ParsedChatCompletion[T]``.

    Iterate it for ``ChatCompletionChunk`` objects, or ``text()`` for the JSON text as it
    arrives; ``final_parsed()`` is the parsed object of the first choice.
    """

    def __init__(self, stream: AsyncStream[ChatCompletionChunk], parser: OutputParser[T]):
        self.stream = stream
        self._parser = parser

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id`` for this stream."""
        return self.stream.request_id

    @property
    def stats(self) -> StreamStats:
        """Time to first token, gaps and tokens per second (see ``AsyncStream.stats``)."""
        return self.stream.stats

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self.stream

    def text(self) -> AsyncIterator[str]:
        """The content deltas of choice 0 (pieces of the JSON text)."""
        return self.stream.text()

    async def final(self) -> ParsedChatCompletion[T]:
        """Read the rest of the stream, then parse the accumulated completion."""
        return self._parser.parse_completion(await self.stream.final())

    async def final_parsed(self) -> T | None:
        """The first choice's parsed object (``None`` on a refusal)."""
        done = await self.final()
        if not done.choices:
            raise StructuredOutputError("the stream ended without any choice", content=None)
        return done.choices[0].message.parsed

    async def close(self) -> None:
        """Close the connection now; safe to call more than once."""
        await self.stream.close()

    aclose = close


class ParsedStreamManager(StreamManager[ParsedStream[T]]):
    """``async with completions.stream_parse(...) as stream``: opens, then closes."""
