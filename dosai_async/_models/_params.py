"""The keyword parameters of every chat-completion method, each key declared once.

``create()`` and ``stream()`` take ``CompletionParams``; ``parse()`` names
``response_format`` and ``run_tools()`` names ``tools`` themselves, and a named parameter
may not overlap an ``Unpack``ed key, so those two take ``ParseParams`` / ``ToolRunParams``:
the shared base plus the one key the other method names. A ``TypedDict`` can add keys to
its base but never drop one, hence the base is the intersection.

The user's classes (structured outputs, tool arguments) are typed by what the runtime
accepts: ``StructuredType`` names a pydantic model, a dataclass, an attrs class or a
TypedDict, each by a protocol (pydantic is not imported). The one gap: a TypedDict is only
known to mypy as a ``Mapping``, so ``dict`` itself passes mypy and is refused at run time.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import IO, Any, ClassVar, Literal, Protocol, TypeAlias, TypedDict

from attrs import AttrsInstance

from dosai_async._core._config import RetryPolicy, Timeout

from ._types import ChatCompletion, FunctionTool


class PydanticModelLike(Protocol):
    """What mypy knows of a pydantic v2 model instance (``BaseModel`` has this property)."""

    @property
    def model_fields_set(self) -> set[str]: ...


class DataclassLike(Protocol):
    """What mypy knows of a dataclass instance."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


#: An instance of a class that ``parse()`` and ``tool()`` accept (a TypedDict is a Mapping).
StructuredInstance: TypeAlias = (
    PydanticModelLike | DataclassLike | AttrsInstance | Mapping[str, object]
)
#: A class given where a type goes in: ``response_format=Model``, ``tools=[Model]``.
StructuredType: TypeAlias = (
    type[PydanticModelLike] | type[DataclassLike] | type[AttrsInstance] | type[Mapping[str, object]]
)


class ToolSpecLike(Protocol):
    """A tool object that knows its wire form: ``tool(f)``."""

    def to_tool(self) -> dict[str, Any]: ...


#: What ``tools=`` takes in ``create()``, ``stream()`` and ``parse()``.
ToolParam: TypeAlias = FunctionTool | Mapping[str, Any] | ToolSpecLike | StructuredType


class RequestOptions(TypedDict, total=False):
    """Per-call transport options (not sent in the body)."""

    timeout: float | Timeout
    max_retries: int
    retry: RetryPolicy
    extra_headers: Mapping[str, str]
    extra_body: Mapping[str, Any]


class _SharedParams(RequestOptions, total=False):
    """Every body parameter except ``response_format`` and ``tools``."""

    temperature: float
    max_tokens: int
    max_completion_tokens: int
    top_p: float
    frequency_penalty: float
    presence_penalty: float
    stop: str | Sequence[str]
    n: int
    seed: int
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


class CompletionParams(_SharedParams, total=False):
    """Every chat-completion parameter of the DOS docs and the vLLM server behind them."""

    response_format: Mapping[str, Any] | StructuredType
    tools: Sequence[ToolParam]


class ParseParams(_SharedParams, total=False):
    """Parameters of ``parse()`` and ``stream_parse()``: ``response_format`` is named."""

    tools: Sequence[ToolParam]


class ToolRunParams(_SharedParams, total=False):
    """Parameters of ``run_tools()``: ``tools`` is named (and holds Python functions)."""

    response_format: Mapping[str, Any] | StructuredType


OPTION_KEYS = frozenset(RequestOptions.__annotations__)
PARAM_KEYS = frozenset(CompletionParams.__annotations__) | frozenset(_SharedParams.__annotations__)

#: What the features built on ``create`` receive instead of the resource: a coroutine
#: function taking ``create``'s keyword arguments (``stream`` left out) and returning the
#: ``ChatCompletion``. Structured outputs, the tool loop and batches call only this.
CreateFn = Callable[..., Awaitable[ChatCompletion]]


#: What ``files.create(file=...)`` takes: bytes, a path, an open binary file, or
#: ``(filename, bytes or open file)``.
FileInput: TypeAlias = bytes | str | os.PathLike[str] | IO[bytes] | tuple[str, bytes | IO[bytes]]
#: ``embeddings.create(encoding_format=...)``: the wire encoding only (floats either way).
EncodingFormat: TypeAlias = Literal["float", "base64"]
